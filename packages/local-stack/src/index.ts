export * from './ports.ts';
export * from './redis.ts';
export * from './stack.ts';
export * from './secrets.ts';
