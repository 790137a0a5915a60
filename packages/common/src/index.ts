export * from './config.ts';
export * from './contracts.ts';
export * from './errors.ts';
export * from './http.ts';
export * from './keys.ts';
export * from './logger.ts';
export * from './queues.ts';
export * from './service-client.ts';
