/**
 * The part of STS that IRSA uses: AssumeRoleWithWebIdentity, which the AWS SDK calls by itself when a pod has
 * AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE; the token's service account is checked against the role's
 * trust policy from Terraform. GetCallerIdentity answers who a set of credentials is.
 */
import { randomUUID } from 'node:crypto';
import { authorize, localOidcProviderArn, type PolicyDocument } from '@thumbs/iam';
import type { Authorizer, Caller, Denial } from './authorizer.ts';
import { escapeXml } from '../xml-text.ts';

const NS = 'https://sts.amazonaws.com/doc/2011-06-15/';

export interface StsAnswer {
  status: number;
  body: string;
}

function answer(operation: string, result: Record<string, unknown>): StsAnswer {
  const render = (value: unknown): string =>
    typeof value === 'object' && value !== null
      ? Object.entries(value)
          .map(([name, inner]) => `<${name}>${render(inner)}</${name}>`)
          .join('')
      : escapeXml(String(value));
  return {
    status: 200,
    body:
      `<${operation}Response xmlns="${NS}"><${operation}Result>${render(result)}</${operation}Result>` +
      `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${operation}Response>`,
  };
}

/**
 * The trust policy and claims with the issuer's condition keys (`<issuer>:sub`, `<issuer>:aud`) renamed to a
 * web identity provider whose keys the evaluator knows: iam-data cannot list EKS OIDC providers' keys (their
 * names are per cluster), and the evaluator ignores keys it does not know, which would match nothing. The
 * operators and values are untouched, so the policy decides exactly as it would under its own names.
 */
function withKnownClaimKeys(policy: PolicyDocument, issuer: string): PolicyDocument {
  const rename = (key: string) =>
    key.startsWith(`${issuer}:`) ? `${KNOWN_PROVIDER}:${key.slice(issuer.length + 1)}` : key;
  return {
    ...policy,
    Statement: policy.Statement.map((statement) => ({
      ...statement,
      ...(statement.Condition
        ? {
            Condition: Object.fromEntries(
              Object.entries(statement.Condition).map(([operator, keys]) => [
                operator,
                Object.fromEntries(Object.entries(keys).map(([key, values]) => [rename(key), values])),
              ]),
            ),
          }
        : {}),
    })),
  };
}
const KNOWN_PROVIDER = 'accounts.google.com';

export interface StsOptions {
  authorizer: Authorizer;
  /** Lifetime of the credentials handed out when the caller asks for none (STS's default is 3600 s). */
  defaultSessionSeconds: number;
}

/** AssumeRoleWithWebIdentity: unsigned; the web identity token is the proof. */
export async function assumeRoleWithWebIdentity(
  params: Record<string, string>,
  options: StsOptions,
): Promise<StsAnswer | Denial> {
  const { authorizer } = options;
  const authority = authorizer.authority;
  const { RoleArn: roleArn = '', RoleSessionName: sessionName = '', WebIdentityToken: token = '' } = params;
  if (!/^[\w+=,.@-]{2,64}$/.test(sessionName)) {
    return {
      status: 400,
      code: 'ValidationError',
      message: `1 validation error detected: Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint`,
    };
  }
  const claims = authority.verifyWebIdentityToken(token);
  if (!claims) {
    return {
      status: 400,
      code: 'InvalidIdentityToken',
      message: "Couldn't retrieve verification key from your identity provider",
    };
  }
  const policies = await authorizer.policiesFor(authority.deployment);
  const entry = Object.entries(policies.roles).find(([, role]) => role.arn === roleArn);
  const issuer = claims.iss.replace(/^https:\/\//, '');
  const role = entry?.[1];
  const trusted =
    role?.trustPolicy &&
    (
      await authorize({
        principal: localOidcProviderArn(authority.deployment),
        identityPolicies: [],
        resourcePolicy: withKnownClaimKeys(role.trustPolicy, issuer),
        action: 'sts:AssumeRoleWithWebIdentity',
        resource: roleArn,
        resourceAccount: authority.deployment.accountId,
        context: { [`${KNOWN_PROVIDER}:sub`]: claims.sub, [`${KNOWN_PROVIDER}:aud`]: claims.aud },
      })
    ).allowed;
  if (!entry || !role || !trusted) {
    return {
      status: 403,
      code: 'AccessDenied',
      message: 'Not authorized to perform sts:AssumeRoleWithWebIdentity',
    };
  }
  const requested = params.DurationSeconds ? Number(params.DurationSeconds) : options.defaultSessionSeconds;
  if (!Number.isInteger(requested) || requested < 1 || requested > 43_200) {
    return {
      status: 400,
      code: 'ValidationError',
      message: `The requested DurationSeconds exceeds the MaxSessionDuration set for this role.`,
    };
  }
  const credentials = authority.issue(entry[0] as Parameters<typeof authority.issue>[0], requested, {
    sessionName,
  });
  return answer('AssumeRoleWithWebIdentity', {
    Credentials: {
      AccessKeyId: credentials.accessKeyId,
      SecretAccessKey: credentials.secretAccessKey,
      SessionToken: credentials.sessionToken,
      Expiration: credentials.expiration.toISOString(),
    },
    SubjectFromWebIdentityToken: claims.sub,
    AssumedRoleUser: {
      Arn: `arn:aws:sts::${authority.deployment.accountId}:assumed-role/${role.name}/${sessionName}`,
      AssumedRoleId: `AROA${credentials.accessKeyId.slice(4, 20)}:${sessionName}`,
    },
    Provider: issuer,
    Audience: claims.aud[0] ?? '',
  });
}

export async function getCallerIdentity(caller: Caller, authorizer: Authorizer): Promise<StsAnswer> {
  return answer('GetCallerIdentity', {
    Arn: await authorizer.principalOf(caller.identity),
    UserId: caller.accessKeyId,
    Account: caller.identity.deployment.accountId,
  });
}
