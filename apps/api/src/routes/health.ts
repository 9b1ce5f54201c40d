import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Pipeline } from '../pipeline.ts';
import { errorMessage } from '../sources/poller.ts';

const ReadySchema = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('unavailable')]),
  sqs: Type.Union([Type.Literal('ok'), Type.String()]),
  s3: Type.Union([Type.Literal('ok'), Type.String()]),
});

async function check(probe: () => Promise<void>): Promise<string> {
  try {
    await probe();
    return 'ok';
  } catch (error) {
    return errorMessage(error);
  }
}

/** Liveness (the process answers) and readiness (SQS and S3 answer; cached briefly so probes stay cheap). */
export const healthRoutes: FastifyPluginAsyncTypebox<{ pipeline: Pipeline; readyCacheMs: number }> = async (
  app,
  { pipeline, readyCacheMs },
) => {
  let cached: { at: number; result: { sqs: string; s3: string } } | undefined;

  app.get(
    '/health',
    { schema: { tags: ['health'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/ready',
    { schema: { tags: ['health'], response: { 200: ReadySchema, 503: ReadySchema } } },
    async (_req, reply) => {
      if (!cached || Date.now() - cached.at > readyCacheMs) {
        const [sqs, s3] = await Promise.all([
          check(() => pipeline.queues.ping()),
          check(() => pipeline.bucket.ping()),
        ]);
        cached = { at: Date.now(), result: { sqs, s3 } };
      }
      const { sqs, s3 } = cached.result;
      const ok = sqs === 'ok' && s3 === 'ok';
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'unavailable', sqs, s3 });
    },
  );
};
