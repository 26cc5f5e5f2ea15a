/** Pure retry decisions for Adobe calls: classify an answer or a network error, parse Retry-After, compute backoff. */

/**
 * What a caller should do with an HTTP answer.
 * - `ok`: everything accepted.
 * - `partial`: a multi-status answer (DCS batch 207); read it per message.
 * - `retry`: transient (408, 429, 5xx except 501); retry the same request after a backoff.
 * - `split`: 413, the request is too large; split it and retry the halves.
 * - `reauth`: 401, the token was refused; fetch a new one once and retry.
 * - `fatal`: anything else (403, other 4xx, 501, unexpected 1xx/3xx); stop the run.
 */
export type ResponseClass = 'ok' | 'retry' | 'partial' | 'split' | 'reauth' | 'fatal';

/** HTTP statuses that are worth retrying. 501 (not implemented) never is. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/** Statuses that mean "you are sending too much": the adaptive limiter backs off on them. */
export const BACKPRESSURE_STATUSES: ReadonlySet<number> = new Set([429, 503]);

/** Classifies an HTTP answer. `body` is the parsed JSON body (or undefined); a 2xx carrying `responses[]` is partial. */
export function classifyResponse(status: number, body?: unknown): ResponseClass {
  if (status === 207) return 'partial';
  if (status >= 200 && status < 300) {
    return isObject(body) && Array.isArray(body.responses) ? 'partial' : 'ok';
  }
  if (status === 401) return 'reauth';
  if (status === 413) return 'split';
  if (RETRYABLE_STATUSES.has(status)) return 'retry';
  return 'fatal';
}

/** Classifies one entry of a 207 `responses[]`: accepted, rejected for good, or worth retrying. */
export type MessageClass = 'accepted' | 'rejected' | 'retry';

/**
 * Reads the status of one multi-status entry. Adobe documents `statusCode`; its own Kafka sink sees `status`
 * (sometimes as a string); a success entry carries neither, only `xactionId` (which may also be absent).
 */
export function messageStatus(entry: unknown): number | undefined {
  if (!isObject(entry)) return undefined;
  for (const key of ['statusCode', 'status'] as const) {
    const raw = entry[key];
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d{3}$/.test(raw.trim()) ? Number(raw) : NaN;
    if (Number.isInteger(n)) return n;
  }
  return undefined;
}

/** Classifies one entry of a DCS 207 answer. Entries that are not objects are treated as transient (retry). */
export function classifyMessage(entry: unknown): MessageClass {
  if (!isObject(entry)) return 'retry';
  const status = messageStatus(entry);
  if (status === undefined || (status >= 200 && status < 300)) return 'accepted';
  if (status === 429 || status >= 500) return 'retry';
  return 'rejected';
}

/** Network error codes that mean "the request may not have been processed; try again". */
const RETRYABLE_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_SOCKET',
  'REQUEST_TIMEOUT',
  'CONNECT_TIMEOUT',
]);

/**
 * True when a network-level failure (no HTTP answer) is worth retrying. TLS/certificate failures are not:
 * they are configuration problems, and verification is never turned off.
 */
export function isRetryableNetworkError(code: string | undefined, message = ''): boolean {
  if (code && RETRYABLE_NETWORK_CODES.has(code)) return true;
  return /socket hang up|timeout|timed out|ECONNRESET|other side closed/i.test(message);
}

/**
 * Parses a `Retry-After` header (delta-seconds or HTTP-date) into milliseconds from `now`.
 * Returns undefined when absent or unparseable (then the computed backoff is used); a date in the past gives 0.
 */
export function parseRetryAfter(header: string | undefined | null, now: number = Date.now()): number | undefined {
  if (header === undefined || header === null) return undefined;
  const value = header.trim();
  if (value === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  if (!/[a-z]/i.test(value)) return undefined; // e.g. "-5": neither delta-seconds nor a date
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

export interface BackoffOptions {
  /** Delay ceiling of the first retry before jitter. @default 500 */
  baseMs: number;
  /** Upper bound of the exponential part. @default 30000 */
  maxMs: number;
}

/**
 * Full-jitter exponential backoff (AWS style): a uniform draw in [0, min(maxMs, baseMs·2^(attempt-1))],
 * raised to `retryAfterMs` when the server asked for a wait (Retry-After is a floor, never shortened).
 * `attempt` is 1 for the first retry.
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, Math.min(attempt - 1, 30)));
  const jittered = Math.floor(random() * exp);
  return retryAfterMs !== undefined ? Math.max(jittered, retryAfterMs) : jittered;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
