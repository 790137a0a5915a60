/**
 * Secrets that travel inside text: an API key in a URL's query (gaxios puts `?key=` in its error's
 * config and sometimes its message), a SAS signature, an Azure connection string's AccountKey, a
 * bearer token. `scrubSecrets` replaces their values wherever they appear, so a log line or an
 * error message that quotes a URL or a connection string carries no credential.
 */
const QUERY_SECRETS = /(?<![\w-])((?:key|api_key|apikey|access_token|token|sig|signature|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token)=)[^&\s"'<>;]+/gi;
const CONNECTION_SECRETS = /((?:AccountKey|SharedAccessSignature|SharedAccessKey|Password|pwd)=)[^;\s"']+/gi;
const BEARER = /(Bearer\s+)[A-Za-z0-9._~+/=-]{16,}/gi;
/** Our own token formats (npm run token, npm start's admin token). */
const OUR_TOKENS = /\bdit_[A-Za-z0-9_-]{16,}/g;

export function scrubSecrets(text: string): string {
  if (!/[=_]|Bearer/i.test(text)) return text; // the common case: nothing that could hold one
  return text
    .replace(QUERY_SECRETS, '$1[redacted]')
    .replace(CONNECTION_SECRETS, '$1[redacted]')
    .replace(BEARER, '$1[redacted]')
    .replace(OUR_TOKENS, 'dit_[redacted]');
}

/**
 * pino's `err` serializer without what HTTP clients hang on their errors: the request config
 * (URL with `?key=`, headers), the request and the response, which carry credentials and whole bodies.
 */
export function serializeError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const e = err as Error & { code?: unknown; status?: unknown; cause?: unknown };
  const out: Record<string, unknown> = { type: e.name, message: scrubSecrets(e.message) };
  if (e.stack) out.stack = scrubSecrets(e.stack);
  if (e.code !== undefined) out.code = e.code;
  if (e.status !== undefined) out.status = e.status;
  if (e.cause instanceof Error) out.cause = serializeError(e.cause);
  return out;
}
