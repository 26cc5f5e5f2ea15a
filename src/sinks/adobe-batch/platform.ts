/** Calls to platform.adobe.io with the platform headers, retried on 429/5xx/network errors, one token refresh on 401. */
import type { Logger } from 'pino';
import { AuthError, ConnectorError, FatalError, RetryableError } from '../../errors.js';
import { HttpNetworkError, describeUrl, platformHeaders, type AdobeHttpClient, type HttpMethod, type HttpRequest, type HttpResponse, type PlatformIdentity } from '../../adobe/http.js';
import type { TokenProvider } from '../../adobe/ims.js';
import { backoffDelay, isRetryableNetworkError, parseRetryAfter, RETRYABLE_STATUSES } from '../../adobe/retry-logic.js';
import { adobeMessage } from '../adobe-streaming/client.js';
import { realClock, type SinkClock } from '../adobe-streaming/sink.js';

/** Thrown when a call kept failing transiently until the retry deadline: the caller decides what it means. */
export class GaveUpError extends ConnectorError {
  override readonly name = 'GaveUpError';
  constructor(message: string) {
    super(message, 'retryable');
  }
}

export interface PlatformClientOptions {
  http: AdobeHttpClient;
  tokens: TokenProvider;
  identity: PlatformIdentity;
  log: Logger;
  clock?: SinkClock;
  /** Jitter source. @default Math.random */
  random?: () => number;
  /** How long one call may be retried. @default 600000 */
  retryDeadlineMs?: number;
  /** @default 500 */
  backoffBaseMs?: number;
  /** @default 30000 */
  backoffMaxMs?: number;
}

/** One call. */
export interface PlatformCall {
  /** Names the step in messages, e.g. "create batch". */
  step: string;
  method: HttpMethod;
  url: string;
  headers?: Record<string, string>;
  /** A file body is re-opened by every attempt. */
  body?: HttpRequest['body'];
  timeoutMs?: number;
}

/** Counters for the run summary. */
export interface PlatformCounters {
  requests: number;
  retries: number;
  throttled: number;
  serverErrors: number;
  networkErrors: number;
  unauthorized: number;
}

export class PlatformClient {
  readonly counters: PlatformCounters = { requests: 0, retries: 0, throttled: 0, serverErrors: 0, networkErrors: 0, unauthorized: 0 };
  private readonly clock: SinkClock;
  private readonly random: () => number;

  constructor(private readonly o: PlatformClientOptions) {
    this.clock = o.clock ?? realClock;
    this.random = o.random ?? Math.random;
  }

  /**
   * Sends one call until it gets a non-transient answer: 429/5xx/408 and network errors are retried with full-jitter
   * backoff (Retry-After honoured) until the retry deadline; a 401 fetches a new token once. Any other answer is
   * returned for the caller to judge. Throws GaveUpError at the deadline, AuthError on a second 401.
   */
  async request(call: PlatformCall, signal?: AbortSignal): Promise<HttpResponse> {
    const started = this.clock.now();
    let attempts = 0;
    let reauthed = false;
    let lastError = '';
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      attempts++;
      let retryAfterMs: number | undefined;
      try {
        const token = await this.o.tokens.getToken(signal);
        this.counters.requests++;
        const res = await this.o.http.request({
          method: call.method,
          url: call.url,
          headers: { ...platformHeaders(this.o.identity, token), ...call.headers },
          ...(call.body !== undefined ? { body: call.body } : {}),
          ...(call.timeoutMs !== undefined ? { timeoutMs: call.timeoutMs } : {}),
          ...(signal ? { signal } : {}),
        });
        if (res.status === 401) {
          this.counters.unauthorized++;
          if (reauthed) {
            throw new AuthError(
              `Adobe refused a freshly fetched IMS token (401 twice to ${call.step}, ${describeUrl(call.url)}): ${adobeMessage(res.body, res.text)}. ` +
                'Check that the OAuth project has access to this organisation and sandbox.',
            );
          }
          reauthed = true;
          this.o.tokens.invalidate(token);
          this.o.log.info({ step: call.step }, 'Adobe answered 401; fetching a new IMS token');
          continue;
        }
        if (!RETRYABLE_STATUSES.has(res.status)) return res;
        if (res.status === 429) this.counters.throttled++;
        else this.counters.serverErrors++;
        lastError = `${res.status}: ${adobeMessage(res.body, res.text)}`;
        retryAfterMs = parseRetryAfter(res.headers['retry-after'], Date.now());
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        if (error instanceof HttpNetworkError) {
          this.counters.networkErrors++;
          if (!isRetryableNetworkError(error.code, error.message)) {
            throw new FatalError(`${error.message}; not retried (TLS verification and addressing problems need a configuration fix)`);
          }
          lastError = error.message;
        } else if (error instanceof RetryableError) {
          lastError = error.message;
          retryAfterMs = error.retryAfterMs;
        } else {
          throw error;
        }
      }
      const delay = backoffDelay(attempts, { baseMs: this.o.backoffBaseMs ?? 500, maxMs: this.o.backoffMaxMs ?? 30_000 }, retryAfterMs, this.random);
      const elapsed = this.clock.now() - started;
      if (elapsed + delay > (this.o.retryDeadlineMs ?? 600_000)) {
        throw new GaveUpError(`${call.step}: gave up after ${attempts} attempts over ${Math.round(elapsed / 1000)}s: ${lastError}`);
      }
      this.counters.retries++;
      this.o.log.warn({ step: call.step, attempt: attempts, delayMs: delay, error: lastError }, 'retrying an Adobe Platform call');
      await this.clock.sleep(delay, signal);
    }
  }
}
