/**
 * Who is calling the local AWS endpoint. Each component gets credentials for the IAM role Terraform defines
 * for it, the way IRSA gives a pod temporary credentials: an access key, a secret and a session token that
 * expire. They are stateless: the session token carries the role, the deployment and the expiry, sealed with
 * the endpoint's key (kept in DATA_DIR), and the secret is derived from it, so credentials survive a restart
 * of the endpoint and cannot be forged or extended by a client.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Deployment, RoleKey } from '@thumbs/iam';

export interface SessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export interface Identity {
  role: RoleKey;
  deployment: Deployment;
  secretAccessKey: string;
  /** Unset for long-term keys. */
  expiration?: Date;
  sessionName: string;
}

export type Resolution =
  { ok: true; identity: Identity } | { ok: false; reason: 'unknown-key' | 'malformed-token' | 'expired' };

interface Sealed {
  r: RoleKey;
  d: Deployment;
  e: number;
  n: string;
}

/** A long-term access key (like an IAM user's) for a role: the README's CLI example uses one. */
export interface StaticKey {
  accessKeyId: string;
  secretAccessKey: string;
  role: RoleKey;
}

/**
 * The long-term key of the person at the keyboard (the README's `aws s3 cp` example), acting as the deploy role
 * that Terraform gives the operator who applies it.
 */
export const OPERATOR_KEY: StaticKey = { accessKeyId: 'test', secretAccessKey: 'test', role: 'deployer' };

const base64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/** Reads the endpoint's signing key from `file`, creating it on first use. */
export function loadOrCreateKey(file: string): Buffer {
  if (existsSync(file)) return Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  const key = randomBytes(32);
  writeFileSync(file, `${key.toString('base64')}\n`, { mode: 0o600 });
  return key;
}

export class IdentityAuthority {
  readonly #key: Buffer;
  readonly #deployment: Deployment;
  readonly #static: Map<string, StaticKey>;

  constructor(key: Buffer, deployment: Deployment, staticKeys: StaticKey[] = []) {
    this.#key = key;
    this.#deployment = deployment;
    this.#static = new Map(staticKeys.map((k) => [k.accessKeyId, k]));
  }

  get deployment(): Deployment {
    return this.#deployment;
  }

  #mac(purpose: string, data: string): Buffer {
    return createHmac('sha256', this.#key).update(`${purpose}\n${data}`).digest();
  }

  /** Temporary credentials for `role` in `deployment`, valid for `lifetimeSeconds`. */
  issue(
    role: RoleKey,
    lifetimeSeconds: number,
    options: { deployment?: Deployment; sessionName?: string; now?: number } = {},
  ): SessionCredentials {
    const expiresMs = (options.now ?? Date.now()) + lifetimeSeconds * 1000;
    const sealed: Sealed = {
      r: role,
      d: options.deployment ?? this.#deployment,
      e: Math.floor(expiresMs / 1000),
      n: options.sessionName ?? `${role}-${randomBytes(4).toString('hex')}`,
    };
    const payload = base64url(JSON.stringify(sealed));
    const sessionToken = `${payload}.${base64url(this.#mac('token', payload))}`;
    const accessKeyId = this.#accessKeyIdFor(sessionToken);
    return {
      accessKeyId,
      secretAccessKey: this.#secret(accessKeyId, sessionToken),
      sessionToken,
      expiration: new Date(sealed.e * 1000),
    };
  }

  /** Temporary keys start with ASIA, as STS's do; this one is bound to its session token. */
  #accessKeyIdFor(sessionToken: string): string {
    return `ASIA${this.#mac('akid', sessionToken).toString('hex').slice(0, 16).toUpperCase()}`;
  }

  #secret(accessKeyId: string, sessionToken: string): string {
    return this.#mac('secret', `${accessKeyId}\n${sessionToken}`).toString('base64').slice(0, 40);
  }

  /** The identity behind an access key (and session token, for temporary credentials). */
  resolve(accessKeyId: string, sessionToken: string | undefined, now = Date.now()): Resolution {
    const long = this.#static.get(accessKeyId);
    if (long) {
      if (sessionToken) return { ok: false, reason: 'malformed-token' };
      return {
        ok: true,
        identity: {
          role: long.role,
          deployment: this.#deployment,
          secretAccessKey: long.secretAccessKey,
          sessionName: accessKeyId,
        },
      };
    }
    if (!accessKeyId.startsWith('ASIA')) return { ok: false, reason: 'unknown-key' };
    if (!sessionToken) return { ok: false, reason: 'unknown-key' };
    const [payload = '', mac = ''] = sessionToken.split('.');
    const expected = this.#mac('token', payload);
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return { ok: false, reason: 'malformed-token' };
    const keyFor = this.#accessKeyIdFor(sessionToken);
    if (keyFor !== accessKeyId) return { ok: false, reason: 'unknown-key' };
    const sealed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Sealed;
    if (sealed.e * 1000 <= now) return { ok: false, reason: 'expired' };
    return {
      ok: true,
      identity: {
        role: sealed.r,
        deployment: sealed.d,
        secretAccessKey: this.#secret(accessKeyId, sessionToken),
        expiration: new Date(sealed.e * 1000),
        sessionName: sealed.n,
      },
    };
  }

  /**
   * A web identity token for a Kubernetes service account, as the EKS pod identity webhook mounts one:
   * a JWT whose `sub` names the service account, signed by the local OIDC issuer (HS256 with the key).
   */
  webIdentityToken(issuer: string, subject: string, lifetimeSeconds = 30 * 86_400): string {
    const now = Math.floor(Date.now() / 1000);
    const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
    const claims = base64url(
      JSON.stringify({
        iss: `https://${issuer}`,
        sub: subject,
        aud: ['sts.amazonaws.com'],
        iat: now,
        exp: now + lifetimeSeconds,
      }),
    );
    const signature = base64url(this.#mac('jwt', `${header}.${claims}`));
    return `${header}.${claims}.${signature}`;
  }

  /** The claims of a token this authority signed, or undefined when it is not one (or has expired). */
  verifyWebIdentityToken(
    token: string,
    now = Date.now(),
  ): { iss: string; sub: string; aud: string[] } | undefined {
    const [header = '', claims = '', signature = ''] = token.trim().split('.');
    const expected = this.#mac('jwt', `${header}.${claims}`);
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    const parsed = JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as {
      iss: string;
      sub: string;
      aud: string[] | string;
      exp: number;
    };
    if (parsed.exp * 1000 <= now) return undefined;
    return { iss: parsed.iss, sub: parsed.sub, aud: [parsed.aud].flat() };
  }
}
