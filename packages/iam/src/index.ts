export { ExpressionError } from './hcl-expression.ts';
export {
  localOidcIssuer,
  localOidcProviderArn,
  renderDeploymentPolicies,
  resourcePolicyFor,
  type CorsRule,
  type Deployment,
  type PolicyDocument,
  type PolicyPrincipal,
  type PolicyStatement,
  type RenderedPolicies,
  type RenderedRole,
  type RenderOptions,
  type RoleKey,
} from './terraform-policies.ts';
export { authorize, type AuthorizationRequest, type Decision } from './evaluate.ts';
