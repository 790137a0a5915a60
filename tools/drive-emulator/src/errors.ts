/** Drive's error JSON: {"error":{"code","message","errors":[{"domain","reason","message",...}]}}. */

export interface DriveErrorBody {
  error: {
    code: number;
    message: string;
    errors: Array<{ domain: string; reason: string; message: string; location?: string; locationType?: string }>;
  };
}

/** What Drive says for each status when nothing more specific applies. */
const DEFAULTS: Record<number, { reason: string; message: string }> = {
  400: { reason: 'invalid', message: 'Invalid Value' },
  401: { reason: 'authError', message: 'Invalid Credentials' },
  403: { reason: 'userRateLimitExceeded', message: 'User Rate Limit Exceeded' },
  404: { reason: 'notFound', message: 'File not found.' },
  416: { reason: 'requestedRangeNotSatisfiable', message: 'Request range not satisfiable' },
  429: { reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded' },
  500: { reason: 'backendError', message: 'Internal Error' },
  502: { reason: 'backendError', message: 'Bad Gateway' },
  503: { reason: 'backendError', message: 'Service Unavailable' },
  504: { reason: 'backendError', message: 'Gateway Timeout' },
};

const MESSAGES: Record<string, string> = {
  userRateLimitExceeded: 'User Rate Limit Exceeded',
  rateLimitExceeded: 'Rate Limit Exceeded',
  dailyLimitExceeded: 'Daily Limit Exceeded',
  downloadQuotaExceeded: 'The download quota for this file has been exceeded.',
  cannotDownloadAbusiveFile: 'This file has been identified as malware or spam and cannot be downloaded.',
  fileNotDownloadable: 'Only files with binary content can be downloaded. Use Export with Docs Editors files.',
  forbidden: 'The user does not have sufficient permissions for this file.',
  insufficientFilePermissions: 'The user does not have sufficient permissions for this file.',
  notFound: 'File not found.',
};

const USAGE_LIMITS = new Set(['userRateLimitExceeded', 'rateLimitExceeded', 'dailyLimitExceeded', 'quotaExceeded', 'downloadQuotaExceeded']);

export function driveError(
  status: number,
  reason?: string,
  message?: string,
  location?: { location: string; locationType: string },
): DriveErrorBody {
  const d = DEFAULTS[status] ?? { reason: status >= 500 ? 'backendError' : 'invalid', message: `Error ${status}` };
  const r = reason ?? d.reason;
  const m = message ?? MESSAGES[r] ?? d.message;
  return {
    error: {
      code: status,
      message: m,
      errors: [{ domain: USAGE_LIMITS.has(r) ? 'usageLimits' : 'global', reason: r, message: m, ...(location ?? {}) }],
    },
  };
}

export const notFoundError = (id: string) =>
  driveError(404, 'notFound', `File not found: ${id}.`, { location: 'fileId', locationType: 'parameter' });

export const invalidParameter = (name: string, message = 'Invalid Value') =>
  driveError(400, 'invalid', message, { location: name, locationType: 'parameter' });
