/** HTTP client of the MasStack Communications list endpoint: Bearer auth, retries of 429/5xx with backoff, clear errors. */
import pRetry, { AbortError } from 'p-retry';
import type { Logger } from 'pino';
import type { JsonObject } from '../../core/types.js';
import { AuthError, FatalError, RetryableError } from '../../errors.js';
import { backoffDelay, parseRetryAfter } from '../../adobe/retry-logic.js';
import { sleep } from '../../util/sleep.js';
import { requestTimeout } from '../../util/request-timeout.js';

export interface MasStackClientOptions {
  baseUrl: string;
  org: string;
  token: string;
  /** @default 30000 */
  timeoutMs?: number;
  /** @default 6 */
  retries?: number;
  /** @default 500 */
  minRetryDelayMs?: number;
  /** @default 30000 */
  maxRetryDelayMs?: number;
  log?: Logger;
}

export interface PageQuery {
  /** `requestTime[gt]`, ISO-8601. */
  gt?: string;
  /** `requestTime[lt]`, ISO-8601. */
  lt?: string;
  limit: number;
  offset: number;
}

export interface Page {
  items: JsonObject[];
  /** Total matching records, when the API says. */
  total?: number;
}

/** Reads pages of communication status records. */
export class MasStackClient {
  private readonly endpoint: string;

  constructor(private readonly options: MasStackClientOptions) {
    this.endpoint = `${options.baseUrl.replace(/\/+$/, '')}/v2/orgs/${encodeURIComponent(options.org)}/communications`;
  }

  /** The endpoint URL (without query), e.g. for naming the checkpoint stream. */
  get url(): string {
    return this.endpoint;
  }

  /**
   * Fetches one page. 429, 5xx and network errors are retried (Retry-After honoured, else full-jitter backoff);
   * 401/403 throw AuthError, 400 throws FatalError with the API's message; exhausted retries throw RetryableError.
   */
  async getPage(query: PageQuery, signal: AbortSignal): Promise<Page> {
    const params = new URLSearchParams();
    if (query.gt !== undefined) params.set('requestTime[gt]', query.gt);
    if (query.lt !== undefined) params.set('requestTime[lt]', query.lt);
    params.set('limit', String(query.limit));
    params.set('offset', String(query.offset));
    const url = `${this.endpoint}?${params.toString()}`;
    const minDelay = this.options.minRetryDelayMs ?? 500;
    const maxDelay = this.options.maxRetryDelayMs ?? 30_000;
    let retryAfterMs: number | undefined;
    try {
      return await pRetry(
        async () => {
          retryAfterMs = undefined;
          return this.fetchPage(url, signal, (ms) => {
            retryAfterMs = ms;
          });
        },
        {
          retries: this.options.retries ?? 6,
          minTimeout: 0,
          maxTimeout: 0,
          signal,
          onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
            if (retriesLeft <= 0) return;
            const delay = backoffDelay(attemptNumber, { baseMs: minDelay, maxMs: maxDelay }, retryAfterMs);
            this.options.log?.warn({ attempt: attemptNumber, retriesLeft, delayMs: delay, reason: error.message }, 'MasStack API request failed; retrying');
            await sleep(delay, signal);
          },
        },
      );
    } catch (error) {
      if (error instanceof RetryableError || error instanceof AuthError || error instanceof FatalError) throw error;
      if (signal.aborted) throw error;
      throw new RetryableError(`MasStack API GET ${url} failed after retries: ${error instanceof Error ? error.message : String(error)}`, undefined, undefined, {
        cause: error,
      });
    }
  }

  private async fetchPage(url: string, signal: AbortSignal, setRetryAfter: (ms: number | undefined) => void): Promise<Page> {
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    const deadline = requestTimeout(timeoutMs, signal);
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        headers: { Authorization: `Bearer ${this.options.token}`, Accept: 'application/json' },
        signal: deadline.signal,
      });
      text = await response.text();
    } catch (error) {
      if (signal.aborted) throw new AbortError(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      throw new RetryableError(deadline.timedOut() ? `GET ${url} timed out after ${timeoutMs} ms` : `network error on GET ${url}: ${describe(error)}`);
    } finally {
      deadline.dispose();
    }
    const status = response.status;
    if (status === 429 || status >= 500) {
      const after = parseRetryAfter(response.headers.get('retry-after'));
      setRetryAfter(after);
      throw new RetryableError(`MasStack API answered ${status} for GET ${url}${apiMessage(text)}`, after, status);
    }
    if (status === 401 || status === 403) {
      throw new AbortError(
        new AuthError(
          `MasStack API answered ${status} ${status === 401 ? 'Unauthorized' : 'Forbidden'} for GET ${url}${apiMessage(text)}: check the token in the environment variable named by api.tokenEnv and that it may read organisation ${this.options.org}`,
        ),
      );
    }
    if (status === 400) {
      throw new AbortError(new FatalError(`MasStack API rejected GET ${url} (400)${apiMessage(text)}`));
    }
    if (status < 200 || status >= 300) {
      throw new AbortError(new FatalError(`MasStack API answered ${status} for GET ${url}${apiMessage(text)}: check api.baseUrl and api.org`));
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new RetryableError(`MasStack API answered 200 with a body that is not JSON for GET ${url}`);
    }
    const page = readPage(body);
    if (!page) throw new AbortError(new FatalError(`MasStack API answer for GET ${url} has no list of communications (expected {items:[…]})`));
    return page;
  }
}

/**
 * Reads the list answer. Documented assumption: `{items: […], total, limit, offset}`; `{data: […]}`,
 * `{communications: […]}` and a bare array are accepted too.
 */
export function readPage(body: unknown): Page | undefined {
  if (Array.isArray(body)) return { items: body.filter(isObject) };
  if (!isObject(body)) return undefined;
  for (const key of ['items', 'data', 'communications', 'results']) {
    const list = body[key];
    if (Array.isArray(list)) {
      const total = body.total ?? body.totalCount ?? (isObject(body.meta) ? body.meta.total : undefined);
      return { items: list.filter(isObject), total: typeof total === 'number' ? total : undefined };
    }
  }
  return undefined;
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The API's ResponseErrorDto message(s), `: title: details`, or nothing. */
function apiMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { errors?: Array<{ code?: unknown; title?: unknown; details?: unknown }> };
    const errors = Array.isArray(body.errors) ? body.errors : [];
    const parts = errors
      .map((e) => [e.code, e.title, e.details].filter((p) => typeof p === 'string' && p !== '').join(': '))
      .filter((p) => p !== '');
    return parts.length > 0 ? `: ${parts.join('; ')}` : '';
  } catch {
    return '';
  }
}


function describe(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    return cause instanceof Error ? `${error.message} (${cause.message})` : error.message;
  }
  return String(error);
}
