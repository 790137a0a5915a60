export * from './client.ts';
export * from './errors.ts';
export * from './retry.ts';
export * from './pacer.ts';
export * from './media.ts';
