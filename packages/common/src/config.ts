import { z } from 'zod';
import { Destination } from './contracts.ts';
import { ConfigError } from './errors.ts';

/** Env booleans: only the spellings people really use, so "flase" is an error rather than true. */
export const envBoolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
/** A count, size or duration setting: a whole number from 1 to `max`, `fallback` when unset. */
export const positiveInt = (fallback: number, max = 1_000_000) => z.coerce.number().int().min(1).max(max).default(fallback);
const optionalString = z.string().min(1).optional();
const url = (fallback: string) => z.url().default(fallback);

/** Shared fragments; each service composes the ones it needs (see each service's config.ts). */
export const loggingEnv = {
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
};

export const redisEnv = {
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must start with redis:// or rediss://').default('redis://127.0.0.1:6379'),
  QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only (max 64)').default('drive-import'),
};

/**
 * Each service's port when <NAME>_PORT is unset: the one table the config defaults and `npm start`
 * use. The Dockerfile, compose and k8s files repeat it in their own syntax; ops/test checks them against it.
 */
export const DEFAULT_PORTS = {
  gateway: 5000,
  'import-service': 5001,
  'metadata-service': 5002,
  'storage-service': 5003,
  worker: 5004,
} as const;

export const portsEnv = {
  GATEWAY_PORT: port(DEFAULT_PORTS.gateway),
  IMPORT_SERVICE_PORT: port(DEFAULT_PORTS['import-service']),
  METADATA_SERVICE_PORT: port(DEFAULT_PORTS['metadata-service']),
  STORAGE_SERVICE_PORT: port(DEFAULT_PORTS['storage-service']),
  WORKER_PORT: port(DEFAULT_PORTS.worker),
};

const loopbackUrl = (service: keyof typeof DEFAULT_PORTS) => url(`http://127.0.0.1:${DEFAULT_PORTS[service]}`);

export const serviceUrlsEnv = {
  IMPORT_SERVICE_URL: loopbackUrl('import-service'),
  METADATA_SERVICE_URL: loopbackUrl('metadata-service'),
  STORAGE_SERVICE_URL: loopbackUrl('storage-service'),
  WORKER_URL: loopbackUrl('worker'),
};

/**
 * The services' shared secret: every internal route but /health needs it as a bearer token, and
 * every caller inside the system sends it. `npm start` generates one; deployments set it from a secret.
 */
export const internalAuthEnv = {
  INTERNAL_TOKEN: z.string().regex(/^[\x21-\x7e]{32,512}$/, 'set a random secret of at least 32 printable characters (e.g. openssl rand -hex 32)'),
};

export const databaseEnv = {
  DATABASE_URL: z
    .string()
    .regex(/^(file:|sqlserver:\/\/)/, 'must be file:<path> (SQLite) or sqlserver://... (SQL Server)')
    .default('file:./.data/drive-import.db'),
};

const LEGACY_DB_VARS = ['DB_SERVER', 'DB_NAME', 'DB_USER', 'DB_PASSWORD'] as const;

/**
 * The older system's SQL Server settings (DB_SERVER, DB_NAME, DB_USER, DB_PASSWORD; DB_PORT
 * optional, 1433) accepted in place of DATABASE_URL, so its users can point this one at their Azure
 * SQL: the env with DATABASE_URL built from them (encrypted, as Azure SQL requires). DATABASE_URL,
 * when set, wins. Some but not all of them set is an error naming the missing ones.
 */
export function withLegacyDatabaseEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.DATABASE_URL || !LEGACY_DB_VARS.some((v) => env[v])) return env;
  const missing = LEGACY_DB_VARS.filter((v) => !env[v]);
  if (missing.length) throw new ConfigError(`Invalid configuration: ${missing.join(', ')}: set with the other DB_* settings (or set DATABASE_URL instead)`);
  const braced = (name: string, value: string) => {
    if (/[{}]/.test(value)) throw new ConfigError(`Invalid configuration: ${name} contains { or }: write a DATABASE_URL instead`);
    return `{${value}}`;
  };
  const port = env.DB_PORT ?? '1433';
  if (!/^\d{1,5}$/.test(port)) throw new ConfigError('Invalid configuration: DB_PORT: must be a port number');
  const host = env.DB_SERVER!.replace(/^tcp:/, '').replace(/,\d+$/, '');
  const url =
    `sqlserver://${host}:${port};database=${braced('DB_NAME', env.DB_NAME!)};user=${braced('DB_USER', env.DB_USER!)};` +
    `password=${braced('DB_PASSWORD', env.DB_PASSWORD!)};encrypt=true;trustServerCertificate=false`;
  return { ...env, DATABASE_URL: url };
}

export const storageEnv = {
  STORAGE_PROVIDER: Destination.default('local'),
  STORAGE_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.\-/]{0,200}$/, 'letters, digits, _ . - / only')
    .refine((v) => !v.split('/').includes('..'), 'must not contain ..')
    .default('drive-import'),
  S3_BUCKET: optionalString,
  S3_REGION: z.string().min(1).default('us-east-1'),
  S3_ENDPOINT: z.url().optional(),
  S3_FORCE_PATH_STYLE: envBoolean.default(false),
  AWS_ACCESS_KEY_ID: optionalString,
  AWS_SECRET_ACCESS_KEY: optionalString,
  AZURE_STORAGE_CONNECTION_STRING: optionalString,
  AZURE_STORAGE_ACCOUNT_NAME: optionalString,
  AZURE_STORAGE_ACCOUNT_KEY: optionalString,
  AZURE_STORAGE_CONTAINER_NAME: z
    .string()
    .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, 'Azure container names: 3-63 lowercase letters, digits and single hyphens')
    .default('images'),
  LOCAL_STORAGE_DIR: z.string().min(1).default('./.data/objects'),
};

export const driveEnv = {
  GOOGLE_API_KEY: optionalString,
  GOOGLE_APPLICATION_CREDENTIALS: optionalString,
  DRIVE_API_ROOT_URL: url('https://www.googleapis.com/'),
  DRIVE_MAX_REQUESTS_PER_SECOND: positiveInt(100, 100_000),
};

export const batchEnv = {
  BATCH_SIZE: positiveInt(100, 1000),
};

export const workerEnv = {
  /** The most files one worker copies at once; the number in flight adapts below it (worker/src/adaptive-limit.ts). */
  WORKER_CONCURRENCY: positiveInt(128, 1000),
  /** Where the adaptive number of files in flight starts, and the least it goes to. */
  WORKER_MIN_CONCURRENCY: positiveInt(16, 1000),
  /** What the files in flight of one worker may buffer together (each counts min(size, 16 MB)), MB. */
  WORKER_MEMORY_BUDGET_MB: positiveInt(128, 64 * 1024),
  FILE_MAX_ATTEMPTS: positiveInt(5, 50),
};

/**
 * Parse env with a zod object schema. On failure, throws a ConfigError that names every bad variable,
 * e.g. `Invalid configuration: REDIS_URL: must start with redis://`.
 */
export function loadConfig<S extends z.ZodRawShape>(shape: S, env: NodeJS.ProcessEnv = process.env): z.infer<z.ZodObject<S>> {
  // Empty strings mean "unset" (a blank line in .env), so defaults apply.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = z.object(shape).safeParse(cleaned);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration: ${lines.join('; ')}`);
  }
  return result.data;
}

/** The destinations this deployment can write to: local always; s3 and azure when their settings are present. */
export function configuredDestinations(cfg: {
  S3_BUCKET?: string;
  AZURE_STORAGE_CONNECTION_STRING?: string;
  AZURE_STORAGE_ACCOUNT_NAME?: string;
  AZURE_STORAGE_ACCOUNT_KEY?: string;
}): Destination[] {
  // A Record over Destination: a new destination does not compile until it says when it is configured.
  const configured: Record<Destination, boolean> = {
    s3: Boolean(cfg.S3_BUCKET),
    azure: Boolean(cfg.AZURE_STORAGE_CONNECTION_STRING || (cfg.AZURE_STORAGE_ACCOUNT_NAME && cfg.AZURE_STORAGE_ACCOUNT_KEY)),
    local: true,
  };
  return Destination.options.filter((d) => configured[d]);
}
