/**
 * How each local component gets its AWS credentials. Child processes (workers, API) get exactly what an EKS
 * pod with IRSA gets: AWS_ROLE_ARN and a web identity token file, from which the AWS SDK itself obtains and
 * renews temporary credentials through STS. In-process tooling (setup, seeding, the KEDA-like scaler) gets a
 * provider that issues temporary credentials for its role, renewed by the SDK before they expire.
 */
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { localOidcIssuer, type Deployment, type RenderedPolicies, type RoleKey } from '@thumbs/iam';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { IdentityAuthority } from './identities.ts';

export function roleCredentials(
  authority: IdentityAuthority,
  role: RoleKey,
  lifetimeSeconds: number,
  deployment?: Deployment,
): AwsCredentialIdentityProvider {
  return async () => authority.issue(role, lifetimeSeconds, deployment ? { deployment } : {});
}

/** Variables that give a child process the role's IRSA identity; its token file is written to `tokenDir`. */
export function irsaEnv(
  authority: IdentityAuthority,
  policies: RenderedPolicies,
  role: RoleKey,
  tokenDir: string,
): Record<string, string> {
  const { arn, serviceAccount } = policies.roles[role];
  if (!serviceAccount) throw new Error(`Terraform gives role ${role} no service account to assume it with`);
  mkdirSync(tokenDir, { recursive: true, mode: 0o700 });
  const file = join(tokenDir, `${role}.jwt`);
  writeFileSync(
    file,
    authority.webIdentityToken(
      localOidcIssuer(authority.deployment),
      `system:serviceaccount:${serviceAccount.namespace}:${serviceAccount.name}`,
    ),
    { mode: 0o600 },
  );
  return { AWS_ROLE_ARN: arn, AWS_WEB_IDENTITY_TOKEN_FILE: file, AWS_ROLE_SESSION_NAME: `local-${role}` };
}
