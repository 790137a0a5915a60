import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** The one error shape every service answers with: `{"error": {"code", "message"}}`. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** An error that knows its HTTP status and a stable, machine-readable code. */
export class AppError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'AppError';
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, ...(this.details === undefined ? {} : { details: this.details }) } };
  }
}

export const badRequest = (message: string, code = 'invalid_request', details?: unknown) =>
  new AppError(400, code, message, details);
export const notFound = (message: string, code = 'not_found') => new AppError(404, code, message);
export const conflict = (message: string, code = 'conflict') => new AppError(409, code, message);

/** Thrown by loadConfig; main.ts prints it and exits 1. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}
