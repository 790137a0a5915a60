export * from './ports.ts';
export * from './redis.ts';
export * from './stack.ts';
export * from './object-stores.ts';
export * from './metrics.ts';
