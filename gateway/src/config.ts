import { loadConfig, loggingEnv, portsEnv, serviceUrlsEnv } from '@drive-import/common';
import { z } from 'zod';

export const gatewayEnv = {
  ...loggingEnv,
  ...portsEnv,
  ...serviceUrlsEnv,
  /** Bind address; 0.0.0.0 in containers. */
  GATEWAY_HOST: z.string().min(1).default('127.0.0.1'),
};

export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;
export const loadGatewayConfig = (env: NodeJS.ProcessEnv = process.env) => loadConfig(gatewayEnv, env);
