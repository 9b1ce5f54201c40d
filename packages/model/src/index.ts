export * from './failures.ts';
export * from './frames.ts';
export * from './history.ts';
export * from './keys.ts';
export * from './s3-event.ts';
export * from './schema.ts';
export * from './text.ts';
export * from './videos.ts';
