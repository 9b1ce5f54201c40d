import { env, loadConfig, pipelineSpec, type ConfigOf } from '@thumbs/runtime';

/** Everything the API reads from the environment: the shared pipeline settings plus its own. */
export const apiSpec = {
  ...pipelineSpec,
  port: env.int('API_PORT', 8000, { min: 0, max: 65535 }),
  host: env.string('API_HOST', '0.0.0.0'),
  adminToken: env.requiredString('ADMIN_TOKEN'),
  /** The dashboard's origin when it is not the API's own (local mode); unset: same origin only (the ALB). */
  dashboardOrigin: env.optionalOrigin('DASHBOARD_ORIGIN'),
  /** Proxies in front of the API whose X-Forwarded-For entries are trusted (1 behind the ALB). */
  trustProxyHops: env.int('TRUST_PROXY_HOPS', 0, { min: 0, max: 10 }),
  /**
   * Behind an authenticating ALB: its ARN (or `…:loadbalancer/app/<name>/`), whose signed identity header
   * every /api and /ws request must carry; members of ALB_ADMIN_GROUP may use the admin routes. Unset in
   * local mode, where the bearer admin token alone guards them.
   */
  albIdentitySigner: env.optionalString('ALB_IDENTITY_SIGNER'),
  albGroupsClaim: env.string('ALB_GROUPS_CLAIM', 'cognito:groups'),
  albAdminGroup: env.string('ALB_ADMIN_GROUP', 'admins'),
  k8sNamespace: env.string('K8S_NAMESPACE', 'thumbnail-pipeline'),
  podsEnabled: env.bool('PODS_ENABLED', true),
  uploadMaxBytes: env.int('UPLOAD_MAX_BYTES', 5 * 1024 ** 3, { min: 1 }),
  /** Multipart uploads from the dashboard: S3's object limit (5 TiB) unless an operator sets a lower one. */
  multipartUploadMaxBytes: env.int('MULTIPART_UPLOAD_MAX_BYTES', 5 * 1024 ** 4, {
    min: 1,
    max: 5 * 1024 ** 4,
  }),
  uploadUrlTtlSeconds: env.int('UPLOAD_URL_TTL_SECONDS', 900, { min: 60, max: 3600 }),
  thumbnailUrlTtlSeconds: env.int('THUMBNAIL_URL_TTL_SECONDS', 3600, { min: 300, max: 604800 }),
  snapshotThumbnails: env.int('SNAPSHOT_THUMBNAILS', 500, { min: 1, max: 5000 }),
  recentJobs: env.int('RECENT_JOBS', 500, { min: 1, max: 10000 }),
  queuePollMs: env.int('QUEUE_POLL_MS', 1000, { min: 100 }),
  reconcileMinutes: env.int('RECONCILE_MINUTES', 30, { min: 1 }),
  podMetricsMs: env.int('POD_METRICS_MS', 10000, { min: 1000 }),
  heartbeatMs: env.int('WS_HEARTBEAT_MS', 20000, { min: 1000 }),
  wsMaxClientsPerIp: env.int('WS_MAX_CLIENTS_PER_IP', 20, { min: 1 }),
  wsConnectsPerMinute: env.int('WS_CONNECT_RATE_LIMIT', 60, { min: 1 }),
  /** The backfill sweep (see feeds/backfill.ts): how often, and how old a video must be to count as lost. */
  backfillIntervalSeconds: env.int('BACKFILL_INTERVAL_SECONDS', 600, { min: 1 }),
  backfillGraceSeconds: env.int('BACKFILL_GRACE_SECONDS', 600, { min: 0 }),
  backfillPageDelayMs: env.int('BACKFILL_PAGE_DELAY_MS', 1000, { min: 0 }),
  backfillLeaseKey: env.string('BACKFILL_LEASE_KEY', 'leases/backfill.json'),
  readRateLimit: env.int('READ_RATE_LIMIT', 600, { min: 1 }),
  adminRateLimit: env.int('ADMIN_RATE_LIMIT', 30, { min: 1 }),
  /** The multipart upload routes, per minute: an upload calls them once per batch of parts. */
  uploadRateLimit: env.int('UPLOAD_RATE_LIMIT', 300, { min: 1 }),
};
export type ApiConfig = ConfigOf<typeof apiSpec>;

export function loadApiConfig(source: Record<string, string | undefined> = process.env): ApiConfig {
  return loadConfig(apiSpec, source);
}
