export * from './aws.ts';
export * from './backoff.ts';
export * from './bounded-map.ts';
export * from './config.ts';
export * from './errors.ts';
export * from './logger.ts';
export * from './media.ts';
export * from './signing-window.ts';
