// Ports, Redis and the stack come from local-stack (npm start uses them too): one copy, re-exported.
export * from '@drive-import/local-stack';
export * from './temp.ts';
export * from './redis.ts';
export * from './object-stores.ts';
export * from './metrics.ts';
export * from './secrets.ts';
export * from './fault-proxy.ts';
