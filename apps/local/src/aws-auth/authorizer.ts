/**
 * Decides each request to the local AWS endpoint as AWS would: who signed it (identities + SigV4), and whether
 * that role's policy, with the resource's own policy, allows every action the operation needs. Policies are
 * Terraform's (rendered by @thumbs/iam for the caller's deployment); queue and topic policies are read from
 * the emulator, where the local setup and the API put them, as Terraform and the API do in AWS.
 */
import { GetTopicAttributesCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  authorize,
  renderDeploymentPolicies,
  type Decision,
  type Deployment,
  type PolicyDocument,
  type RenderedPolicies,
} from '@thumbs/iam';
import { AWS_ERRORS, type AwsErrorSpec } from './aws-errors.ts';
import { AuthError, parseSigv4, verifySigv4, type SignedRequest } from './sigv4.ts';
import type { Identity, IdentityAuthority } from './identities.ts';
import type { Check, Operation, Service } from './operations.ts';

/** A refusal, in the terms of the service that refuses. */
export type Denial = AwsErrorSpec;

export interface Caller {
  identity: Identity;
  accessKeyId: string;
}

const POLICY_CACHE_MS = 1000;
/** Local requests arrive over plain HTTP on loopback; they are evaluated as if sent over TLS, as in AWS. */
const GLOBAL_CONTEXT = { 'aws:SecureTransport': 'true' };

/** AWS's answer when credentials do not resolve to an identity. */
function unresolved(service: Service, reason: 'unknown-key' | 'malformed-token' | 'expired'): Denial {
  if (service === 's3') {
    if (reason === 'expired') return AWS_ERRORS.s3.ExpiredToken;
    return reason === 'malformed-token' ? AWS_ERRORS.s3.InvalidToken : AWS_ERRORS.s3.InvalidAccessKeyId;
  }
  return reason === 'expired' ? AWS_ERRORS[service].ExpiredToken : AWS_ERRORS[service].InvalidClientTokenId;
}

function missingAuthentication(service: Service): Denial {
  return service === 's3' ? AWS_ERRORS.s3.AccessDenied : AWS_ERRORS[service].MissingAuthenticationToken;
}

function denialOf(service: Service, decision: Decision): Denial {
  return {
    status: 403,
    code: service === 'sns' ? 'AuthorizationError' : 'AccessDenied',
    message: decision.message,
  };
}

export class Authorizer {
  readonly #authority: IdentityAuthority;
  readonly #sqs: SQSClient;
  readonly #sns: SNSClient;
  readonly #upstream: string;
  readonly #region: string;
  readonly #overrides: Record<string, string>;
  readonly #policies = new Map<string, { at: number; policy: Promise<PolicyDocument | undefined> }>();

  /**
   * `upstream`: the emulator itself, whose resource policies are read without going through the checks.
   * `overrides`: Terraform files' text to use instead of the repository's (tests plant mistakes with it).
   */
  constructor(
    authority: IdentityAuthority,
    upstream: string,
    region: string,
    overrides: Record<string, string> = {},
  ) {
    this.#authority = authority;
    this.#upstream = upstream;
    this.#region = region;
    this.#overrides = overrides;
    const credentials = { accessKeyId: 'local-endpoint', secretAccessKey: 'local-endpoint' };
    this.#sqs = new SQSClient({ endpoint: upstream, region, credentials });
    this.#sns = new SNSClient({ endpoint: upstream, region, credentials });
  }

  get authority(): IdentityAuthority {
    return this.#authority;
  }

  policiesFor(deployment: Deployment): Promise<RenderedPolicies> {
    return renderDeploymentPolicies(deployment, { overrides: this.#overrides });
  }

  /** Who signed the request, with the signature checked; a Denial in AWS's terms otherwise. */
  authenticate(service: Service, request: SignedRequest, now = new Date()): Caller | Denial {
    let auth;
    try {
      auth = parseSigv4(request, { service, expectedRegion: this.#region });
    } catch (error) {
      if (error instanceof AuthError) return error;
      throw error;
    }
    if (!auth) return missingAuthentication(service);
    const resolved = this.#authority.resolve(auth.accessKeyId, auth.sessionToken, now.getTime());
    if (!resolved.ok) return unresolved(service, resolved.reason);
    try {
      verifySigv4(request, auth, resolved.identity.secretAccessKey, now);
    } catch (error) {
      if (error instanceof AuthError) return error;
      throw error;
    }
    return { identity: resolved.identity, accessKeyId: auth.accessKeyId };
  }

  /** The principal ARN of a caller, as AWS names an assumed-role session. */
  async principalOf(identity: Identity): Promise<string> {
    const role = (await this.policiesFor(identity.deployment)).roles[identity.role];
    if (identity.expiration === undefined) return role.arn;
    return `arn:aws:sts::${identity.deployment.accountId}:assumed-role/${role.name}/${identity.sessionName}`;
  }

  async #resourcePolicy(service: Service, resource: string, deployment: Deployment) {
    if (service === 's3') {
      const bucketArn = resource.split('/')[0] ?? resource;
      return (await this.policiesFor(deployment)).bucketPolicies[bucketArn];
    }
    if (!resource.startsWith(`arn:aws:${service}:`)) return undefined;
    const cached = this.#policies.get(resource);
    if (cached && Date.now() - cached.at < POLICY_CACHE_MS) return cached.policy;
    const policy = this.#readPolicy(service, resource);
    this.#policies.set(resource, { at: Date.now(), policy });
    return policy;
  }

  async #readPolicy(service: Service, arn: string): Promise<PolicyDocument | undefined> {
    try {
      const text =
        service === 'sqs'
          ? (
              await this.#sqs.send(
                new GetQueueAttributesCommand({ QueueUrl: this.queueUrl(arn), AttributeNames: ['Policy'] }),
              )
            ).Attributes?.Policy
          : (await this.#sns.send(new GetTopicAttributesCommand({ TopicArn: arn }))).Attributes?.Policy;
      return text ? (JSON.parse(text) as PolicyDocument) : undefined;
    } catch {
      // A resource that does not exist has no policy; the emulator answers the request itself.
      return undefined;
    }
  }

  /** The emulator's URL of a queue named by its ARN. */
  queueUrl(arn: string): string {
    const [, , , , account, name] = arn.split(':');
    return `${this.#upstream}/${account}/${name}`;
  }

  /** Evaluates one check for a caller. */
  async decide(caller: Caller, service: Service, check: Check): Promise<Decision> {
    const { identity } = caller;
    const policies = await this.policiesFor(identity.deployment);
    return authorize({
      principal: await this.principalOf(identity),
      identityPolicies: [policies.roles[identity.role].policy],
      resourcePolicy: await this.#resourcePolicy(service, check.resource, identity.deployment),
      action: check.action,
      resource: check.resource,
      // S3 ARNs name no account, and `*` (account-wide actions) is the caller's own account.
      resourceAccount: check.resource.split(':')[4] || identity.deployment.accountId,
      context: { ...GLOBAL_CONTEXT, ...check.context },
    });
  }

  /** The first check of the operation that is denied, as AWS reports it; undefined when all are allowed. */
  async authorizeOperation(
    caller: Caller,
    operation: Operation,
    extra: Check[] = [],
  ): Promise<Denial | undefined> {
    for (const check of [...operation.checks, ...extra]) {
      const decision = await this.decide(caller, operation.service, check);
      if (!decision.allowed) return denialOf(operation.service, decision);
    }
    return undefined;
  }

  /**
   * Whether a missing object may be reported as missing: S3 answers 404 only to a caller with s3:ListBucket on
   * the bucket, 403 otherwise. Evaluated without an s3:prefix, as AWS documents no prefix for this check.
   */
  async mayKnowMissing(caller: Caller, bucket: string): Promise<boolean> {
    const decision = await this.decide(caller, 's3', {
      action: 's3:ListBucket',
      resource: `arn:aws:s3:::${bucket}`,
    });
    return decision.allowed;
  }

  /** A delivery by an AWS service (S3 notifications, SNS) into a queue, checked against the queue's policy. */
  async serviceMaySend(
    service: 's3.amazonaws.com' | 'sns.amazonaws.com',
    queueArn: string,
    source: { arn: string; account: string },
  ): Promise<Decision> {
    return authorize({
      principal: service,
      identityPolicies: [],
      resourcePolicy: await this.#resourcePolicy('sqs', queueArn, this.#authority.deployment),
      action: 'sqs:SendMessage',
      resource: queueArn,
      resourceAccount: queueArn.split(':')[4] ?? '',
      context: { ...GLOBAL_CONTEXT, 'aws:SourceArn': source.arn, 'aws:SourceAccount': source.account },
    });
  }

  /** Resource policies change (SetQueueAttributes, SetTopicAttributes): forget what was read. */
  forgetPolicy(arn: string): void {
    this.#policies.delete(arn);
  }

  close(): void {
    this.#sqs.destroy();
    this.#sns.destroy();
  }
}
