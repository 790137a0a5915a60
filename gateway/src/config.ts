import { loadConfig, loggingEnv, portsEnv, redisEnv, serviceUrlsEnv } from '@drive-import/common';
import { z } from 'zod';

export const gatewayEnv = {
  ...loggingEnv,
  ...portsEnv,
  ...serviceUrlsEnv,
  /** The queues the admin dashboard shows (same Redis and prefix as the import-service and workers). */
  ...redisEnv,
  /** Bind address; 0.0.0.0 in containers. */
  GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  /** Bearer token for the queue dashboard at /admin/queues; unset = dashboard off (404). */
  ADMIN_TOKEN: z.string().min(16, 'use at least 16 characters (e.g. openssl rand -hex 32)').optional(),
};

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;
export const loadGatewayConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig(gatewayEnv, env);
