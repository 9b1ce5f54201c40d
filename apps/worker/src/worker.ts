import { resolveQueueUrl, resolveTopicArn, type AwsClients, type Logger } from '@thumbs/runtime';
import type { WorkerConfig } from './config.ts';
import { createConsumer, type Consumer } from './consumer.ts';
import { createEventPublisher } from './events.ts';

/** Wires configuration and AWS clients into a queue consumer. */
export function createWorker(config: WorkerConfig, { s3, sqs, sns }: AwsClients, log: Logger): Consumer {
  const resolveTopic = () => resolveTopicArn(sns, config.eventsTopicArn, config.eventsTopicName);
  return createConsumer({
    sqs,
    resolveQueueUrl: () => resolveQueueUrl(sqs, config.queueUrl, config.queueName),
    resolveDlqUrl: () => resolveQueueUrl(sqs, config.dlqUrl, config.dlqName),
    waitSeconds: config.waitSeconds,
    visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
    failureBackoffSeconds: config.failureBackoffSeconds,
    log,
    job: {
      s3,
      defaultBucket: config.bucket,
      failurePrefix: config.failurePrefix,
      worker: config.workerName,
      maxReceiveCount: config.maxReceiveCount,
      publish: createEventPublisher(sns, resolveTopic, log),
      log,
      thumbnails: {
        s3,
        bucket: config.bucket,
        thumbnailPrefix: config.thumbnailPrefix,
        maxWidth: config.thumbnailMaxWidth,
        quality: config.jpegQuality,
        timeoutMs: config.ffmpegTimeoutSeconds * 1000,
        limits: {
          maxPixels: config.maxVideoPixels,
          maxMemoryBytes: config.ffmpegMaxMemoryMiB * 1024 * 1024,
          maxFrames: config.maxVideoFrames,
        },
        rangeRelay: config.rangeRelay && {
          minWindow: config.rangeWindowMinBytes,
          maxWindow: config.rangeWindowMaxBytes,
          cacheBytes: config.rangeCacheBytes,
        },
      },
    },
  });
}
