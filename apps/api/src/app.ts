import { STATUS_CODES } from 'node:http';
import { AjvCompiler, type RouteDefinition } from '@fastify/ajv-compiler';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import websocket from '@fastify/websocket';
import type { KubeConfig } from '@kubernetes/client-node';
import { createLogger, type AwsClients, type Logger } from '@thumbs/runtime';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { ApiConfig } from './config.ts';
import { Pipeline } from './pipeline.ts';
import { countRequests, createPrometheusRegistry } from './prometheus-registry.ts';
import { adminRoutes } from './routes/admin.ts';
import { multipartUploadRoutes } from './routes/multipart-uploads.ts';
import { requireAlbIdentity } from './routes/alb-identity.ts';
import { healthRoutes } from './routes/health.ts';
import { prometheusRoutes } from './routes/prometheus.ts';
import { stateRoutes } from './routes/state.ts';
import { videoRoutes } from './routes/videos.ts';
import { WsHub } from './ws/hub.ts';
import { wsRoutes } from './ws/route.ts';

export interface AppOptions {
  config: ApiConfig;
  logger?: Logger;
  aws?: AwsClients;
  kubeConfig?: KubeConfig;
  eventsWaitSeconds?: number;
  /** Start the sources when the server is ready (default); benchmarks drive them by hand. */
  startSources?: boolean;
}

export interface App {
  app: FastifyInstance;
  pipeline: Pipeline;
  hub: WsHub;
}

const BODY_LIMIT = 16 * 1024;
const WS_MAX_PAYLOAD = 4 * 1024;

const buildAjv = AjvCompiler();

/**
 * Query strings and params are text, so their numbers and booleans are coerced; JSON bodies are typed by
 * their sender and validated strictly (`["a.mp4"]` or `42` is not a file name).
 */
function buildValidator(externalSchemas: unknown, options?: { customOptions?: object }) {
  const withCoercion = (coerceTypes: 'array' | false) =>
    buildAjv(externalSchemas as never, { customOptions: { ...options?.customOptions, coerceTypes } });
  const coercing = withCoercion('array');
  const strict = withCoercion(false);
  return (route: RouteDefinition) => (route.httpPart === 'body' ? strict : coercing)(route);
}

function isAwsError(error: unknown): error is Error & { $metadata: unknown } {
  return typeof error === 'object' && error !== null && '$metadata' in error;
}

/** The API: sources started on ready and stopped on close, every route with request and response schemas. */
export async function buildApp(options: AppOptions): Promise<App> {
  const { config } = options;
  const log = options.logger ?? createLogger('api');
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    // Only the proxies we run behind (the ALB) may name the client's address: per-address limits rely on it.
    trustProxy: (_address: string, hop: number) => hop < config.trustProxyHops,
    ajv: { customOptions: { removeAdditional: false, useDefaults: true } },
    // `as never`: @fastify/ajv-compiler's types take a schema where fastify passes the route definition.
    schemaController: { compilersFactory: { buildValidator: buildValidator as never } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  const pipeline = new Pipeline({
    config,
    log,
    aws: options.aws,
    kubeConfig: options.kubeConfig,
    eventsWaitSeconds: options.eventsWaitSeconds,
  });
  const hub = new WsHub({
    store: pipeline.store,
    log: log.child({ part: 'ws' }),
    heartbeatMs: config.heartbeatMs,
  });
  const prometheus = createPrometheusRegistry(pipeline.store, () => hub.stats);
  for (const [service, client] of Object.entries(pipeline.aws)) {
    countRequests(client, () => prometheus.awsRequests.inc({ service }));
  }

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.validation) {
      return reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: error.message });
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply
        .code(status)
        .send({ statusCode: status, error: STATUS_CODES[status] ?? 'Error', message: error.message });
    }
    if (isAwsError(error)) {
      request.log.warn({ err: error }, 'AWS request failed');
      return (
        reply
          .code(502)
          // The kind only: AWS's message names the account and its resources (it is in the log above).
          .send({ statusCode: 502, error: 'Bad Gateway', message: `AWS: ${error.name}` })
      );
    }
    request.log.error({ err: error }, 'request failed');
    return reply
      .code(500)
      .send({ statusCode: 500, error: 'Internal Server Error', message: 'internal error' });
  });
  app.addHook('onResponse', async (request, reply) => {
    prometheus.httpDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unknown',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });

  await app.register(helmet, {
    // JSON everywhere but Swagger UI at /docs, whose scripts and styles are its own files.
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        baseUri: ["'self'"],
        connectSrc: ["'self'"],
        fontSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        imgSrc: ["'self'", 'data:'],
        objectSrc: ["'none'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
      },
    },
    frameguard: { action: 'deny' },
    crossOriginResourcePolicy: { policy: 'same-site' },
  });
  await app.register(cors, {
    // A list, not a string: only a matching Origin gets an Access-Control-Allow-Origin header.
    origin: config.dashboardOrigin === undefined ? false : [config.dashboardOrigin],
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type'],
  });
  await app.register(rateLimit, { global: false });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Thumbnail pipeline API', version: '0.1.0' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(websocket, { options: { maxPayload: WS_MAX_PAYLOAD } });

  if (config.albIdentitySigner) {
    app.addHook(
      'onRequest',
      requireAlbIdentity({
        region: config.region,
        signer: config.albIdentitySigner,
        groupsClaim: config.albGroupsClaim,
        adminGroup: config.albAdminGroup,
        adminToken: config.adminToken,
      }),
    );
  }
  await app.register(healthRoutes, { sources: () => pipeline.store.sources });
  await app.register(stateRoutes, {
    store: pipeline.store,
    bucket: pipeline.bucket,
    thumbnailPrefix: config.thumbnailPrefix,
    rateLimit: config.readRateLimit,
  });
  await app.register(adminRoutes, {
    actions: {
      redrive: () => pipeline.redrive(),
      announce: (event) => pipeline.announce(event),
      queueTestVideos: () => pipeline.queueTestVideos(),
      purge: () => pipeline.purge(),
      sweep: () => pipeline.backfill.sweepNow(),
      presignUpload: (request, ttlSeconds) => pipeline.bucket.presignUpload(request, ttlSeconds),
    },
    uploads: { maxBytes: config.uploadMaxBytes, urlTtlSeconds: config.uploadUrlTtlSeconds },
    adminToken: config.adminToken,
    rateLimit: config.adminRateLimit,
  });
  await app.register(multipartUploadRoutes, {
    uploads: pipeline.uploads,
    announce: (event) => pipeline.announce(event),
    uploadPrefix: config.uploadPrefix,
    maxBytes: config.multipartUploadMaxBytes,
    adminToken: config.adminToken,
    rateLimit: config.uploadRateLimit,
  });
  await app.register(videoRoutes, {
    videos: pipeline.videos,
    uploadPrefix: config.uploadPrefix,
    adminToken: config.adminToken,
    readRateLimit: config.readRateLimit,
    adminRateLimit: config.adminRateLimit,
  });
  await app.register(prometheusRoutes, { registry: prometheus.registry });
  await app.register(wsRoutes, {
    hub,
    dashboardOrigin: config.dashboardOrigin,
    maxClientsPerIp: config.wsMaxClientsPerIp,
    connectsPerMinute: config.wsConnectsPerMinute,
  });

  if (options.startSources !== false) app.addHook('onReady', async () => pipeline.start());
  app.addHook('preClose', async () => hub.close());
  app.addHook('onClose', async () => pipeline.stop());
  return { app, pipeline, hub };
}
