import { internalAuthEnv, loadConfig, loggingEnv, portsEnv, redisEnv, serviceUrlsEnv } from '@drive-import/common';
import { z } from 'zod';

export const gatewayEnv = {
  ...loggingEnv,
  ...portsEnv,
  ...serviceUrlsEnv,
  /** The queues the admin dashboard shows (same Redis and prefix as the import-service and workers). */
  ...redisEnv,
  ...internalAuthEnv,
  /** Bind address; 0.0.0.0 in containers. */
  GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
  /** An admin API token from the environment (automation, the demo), named "admin"; other tokens: npm run token. */
  ADMIN_TOKEN: z.string().regex(/^[\x21-\x7e]{16,512}$/, 'use at least 16 printable characters (e.g. openssl rand -hex 32)').optional(),
  /** Requests per minute per token (and bad-token attempts per client address); 0 = no limit. */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(1200),
  /** A Drive folder URL the web page offers to import (npm start sets its demo folder's). */
  DEMO_FOLDER_URL: z.url({ protocol: /^https?$/ }).max(2048).optional(),
  /** How long a token lookup is reused (ms): the longest a revoked token keeps working. */
  AUTH_CACHE_TTL_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
};

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;
export const loadGatewayConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig(gatewayEnv, env);
