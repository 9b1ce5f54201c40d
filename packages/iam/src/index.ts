export { ExpressionError } from './hcl-expression.ts';
export {
  LOCAL_ACCOUNT_ID,
  LOCAL_DEPLOYMENT,
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
