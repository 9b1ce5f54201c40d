import {
  getDenialReasons,
  getGrantReasons,
  runSimulation,
  type RequestDenial,
} from '@cloud-copilot/iam-simulate';
import type { PolicyDocument } from './terraform-policies.ts';

export interface AuthorizationRequest {
  /** An assumed-role session ARN, or a service principal such as `s3.amazonaws.com`. */
  principal: string;
  /** The principal's identity-based policies; none for a service principal. */
  identityPolicies: PolicyDocument[];
  resourcePolicy?: PolicyDocument;
  /** An IAM action (`s3:GetObject`), not an API operation (`HeadObject` is authorized as s3:GetObject). */
  action: string;
  resource: string;
  resourceAccount: string;
  /**
   * Request context keys. AWS sets some on every request, aws:SecureTransport among them: a key left out is
   * absent, and a condition on it evaluates as IAM evaluates missing keys.
   */
  context?: Record<string, string | string[]>;
}

export interface Decision {
  allowed: boolean;
  result: 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';
  /** The kind of policy that denied: the one with the explicit deny, or the one that would have to allow. */
  deniedBy?: 'identity' | 'resource';
  /** The Sid of the statement that decided, when one did and has a Sid. */
  statement?: string;
  /** AWS's wording of the decision, e.g. `User: … is not authorized to perform: … on resource: "…" because …`. */
  message: string;
}

/**
 * iam-simulate reads `*` in a request's resource as a pattern and answers for every resource it could
 * match; AWS takes the ARN literally (an S3 key may contain `*`). A character that no policy contains
 * stands in for it: policy patterns then match it exactly as they would match the `*`.
 */
const LITERAL_STAR = '\uE000';

const POLICY_KIND = { identity: 'an identity-based policy', resource: 'a resource-based policy' } as const;

function denialKind(denial: RequestDenial): 'identity' | 'resource' {
  if (denial.policyType === 'identity' || denial.policyType === 'resource') return denial.policyType;
  // Only identity and resource policies are given to the simulation.
  throw new Error(`unexpected denial by a ${denial.policyType} policy`);
}

/** Decides one request the way IAM does, with @cloud-copilot/iam-simulate. Invalid input throws. */
export async function authorize(request: AuthorizationRequest): Promise<Decision> {
  const { principal, action, resource } = request;
  const policies = [...request.identityPolicies, ...(request.resourcePolicy ? [request.resourcePolicy] : [])];
  if (resource.includes('*') && JSON.stringify(policies).includes(LITERAL_STAR))
    throw new Error(`a policy contains U+E000, which stands for "*" in the resource ${resource}`);
  const simulation = await runSimulation(
    {
      identityPolicies: request.identityPolicies.map((policy, index) => ({
        name: `identity-policy-${index + 1}`,
        policy,
      })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
      request: {
        principal,
        action,
        resource: {
          accountId: request.resourceAccount,
          // A resource of exactly `*` is how IAM names account-wide actions (ListQueues), not a key with a star.
          resource: resource === '*' ? resource : resource.replaceAll('*', LITERAL_STAR),
        },
        contextVariables: request.context ?? {},
      },
    },
    { simulationMode: 'Strict' },
  );
  if (simulation.resultType !== 'single') {
    const detail =
      simulation.resultType === 'error' ? JSON.stringify(simulation.errors) : simulation.resultType;
    throw new Error(`iam-simulate could not decide ${action} on ${resource} for ${principal}: ${detail}`);
  }
  const { analysis } = simulation.result;
  const result = simulation.overallResult;
  const on = `${action} on resource: "${resource}"`;
  if (result === 'Allowed') {
    const grant = getGrantReasons(analysis).find(
      (g) => g.policyType === 'identity' || g.policyType === 'resource',
    );
    const by = grant ? ` by ${POLICY_KIND[grant.policyType === 'resource' ? 'resource' : 'identity']}` : '';
    return {
      allowed: true,
      result,
      ...(grant?.statementId ? { statement: grant.statementId } : {}),
      message: `User: ${principal} is allowed to perform: ${on}${by}`,
    };
  }
  const denials = getDenialReasons(analysis);
  if (result === 'ExplicitlyDenied') {
    const denial = denials.find((d) => d.denialType === 'Explicit');
    if (!denial) throw new Error(`iam-simulate denied ${action} explicitly without a deny statement`);
    const deniedBy = denialKind(denial);
    return {
      allowed: false,
      result,
      deniedBy,
      ...(denial.statementId ? { statement: denial.statementId } : {}),
      message: `User: ${principal} is not authorized to perform: ${on} with an explicit deny in ${POLICY_KIND[deniedBy]}`,
    };
  }
  // A service principal has no identity policies: only the resource's policy could have let it in.
  const kinds = new Set(denials.map(denialKind));
  const deniedBy = kinds.has('identity') && principal.startsWith('arn:') ? 'identity' : 'resource';
  const policy = deniedBy === 'identity' ? 'identity-based' : 'resource-based';
  return {
    allowed: false,
    result,
    deniedBy,
    message: `User: ${principal} is not authorized to perform: ${on} because no ${policy} policy allows the ${action} action`,
  };
}
