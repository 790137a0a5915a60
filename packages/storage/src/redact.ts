/**
 * Store secrets out of messages: a SAS token, an account key or a whole connection string must never
 * reach a /health body, an error message or a log line through a driver's words.
 */
import type { StorageConfig } from './types.ts';

/** Connection-string fields and URL parameters that carry a secret, whatever the store said around them. */
const SECRET_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/(AccountKey=)[^;\s"'&]+/gi, '$1[redacted]'],
  [/(SharedAccessSignature=)[^;\s"']+/gi, '$1[redacted]'],
  [/(\bsig=)[^&;\s"']+/gi, '$1[redacted]'],
  [/(X-Amz-(?:Signature|Credential|Security-Token)=)[^&;\s"']+/gi, '$1[redacted]'],
  // Credentials in a URL (https://user:secret@host).
  [/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s:@"']+:[^/\s@"']+@/gi, '$1[redacted]@'],
];

/** The literal secrets of a store config (keys, connection string and its secret parts). */
export function secretsOf(config: Partial<StorageConfig>): string[] {
  const out = new Set<string>();
  const add = (v: string | undefined) => {
    // Short values would redact ordinary words; real secrets are long.
    if (!v || v.length < 8) return;
    out.add(v);
    out.add(encodeURIComponent(v));
    try {
      out.add(decodeURIComponent(v));
    } catch {
      /* not percent-encoded */
    }
  };
  add(config.AWS_SECRET_ACCESS_KEY);
  add(config.AZURE_STORAGE_ACCOUNT_KEY);
  const cs = config.AZURE_STORAGE_CONNECTION_STRING;
  if (cs) {
    add(cs);
    for (const part of cs.split(';')) {
      const eq = part.indexOf('=');
      const name = part.slice(0, eq).trim().toLowerCase();
      const value = part.slice(eq + 1).trim();
      if (name === 'accountkey') add(value);
      if (name === 'sharedaccesssignature') {
        add(value);
        add(new URLSearchParams(value).get('sig') ?? undefined);
      }
    }
  }
  // Longest first, so a connection string goes before the key inside it.
  return [...out].sort((a, b) => b.length - a.length);
}

/** `text` with every known secret and every secret-shaped parameter replaced by `[redacted]`. */
export function redactSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('[redacted]');
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** A URL as a place name: scheme, host and path, never credentials or a query (a SAS lives there). */
export function publicUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}
