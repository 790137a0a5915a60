export * from './ports.ts';
export * from './redis.ts';
