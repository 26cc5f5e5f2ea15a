/** The adobe-streaming sink driver: encode → batch → send with adaptive concurrency, retries, splits and re-auth → verdicts. */
import { sleep } from '../../util/sleep.js';
import type { Logger } from 'pino';
import type { Delivery, OutboundEvent, Sink } from '../../core/types.js';
import { AuthError, ConfigError, FatalError, RetryableError } from '../../errors.js';
import { AimdLimiter, type AimdOutcome } from '../../adobe/aimd.js';
import { AdobeHttpClient, HttpNetworkError, describeUrl, type HttpResponse, type PlatformIdentity } from '../../adobe/http.js';
import { ImsTokenProvider, type AdobeAuthConfig, type TokenProvider } from '../../adobe/ims.js';
import {
  BACKPRESSURE_STATUSES,
  backoffDelay,
  classifyMessage,
  classifyResponse,
  isRetryableNetworkError,
  messageStatus,
  parseRetryAfter,
} from '../../adobe/retry-logic.js';
import { redact } from '../../redact.js';
import { resolveStreamingConfig, type AdobeStreamingConfig, type ResolvedStreamingConfig } from './config.js';
import { DcsClient, adobeMessage } from './client.js';
import { EnvelopeEncoder, batchBytes, fitsAlone, planBatches, type EncodedEnvelope } from './encode.js';
import { setMaxListeners } from 'node:events';

/** Time as the sink sees it; tests inject a virtual clock so backoffs and deadlines take no real time. */
export interface SinkClock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: SinkClock = {
  now: () => Date.now(),
  sleep,
};

export interface AdobeStreamingDeps {
  log: Logger;
  /** Adobe credentials: the sink builds its IMS token provider and platform headers from them. */
  auth?: AdobeAuthConfig;
  /** Token source (overrides `auth` for tokens); one of the two is required when the inlet is authenticated. */
  tokens?: TokenProvider;
  /** Client id, org, sandbox for the platform headers (default: from `auth`); also the default `header.imsOrgId`. */
  identity?: PlatformIdentity;
  /** Shared HTTP client; one is created (and closed by `close()`) otherwise. */
  http?: AdobeHttpClient;
  clock?: SinkClock;
  /** Jitter source. @default Math.random */
  random?: () => number;
}

interface Item {
  index: number;
  envelope: EncodedEnvelope;
  bytes: number;
}

/** The retry history of one batch (and of the halves it was split into). */
interface Chain {
  startedAt: number;
  attempts: number;
  retries: number;
  lastError: string;
}

type Attempt =
  | { kind: 'answer'; response: HttpResponse; token: string | undefined }
  | { kind: 'failure'; message: string; retryAfterMs?: number };

const counterNames = [
  'requests',
  'retries',
  'throttled',
  'serverErrors',
  'networkErrors',
  'resets',
  'timeouts',
  'splits',
  'unauthorized',
  'accepted',
  'rejected',
  'gaveUp',
] as const;
type Counter = (typeof counterNames)[number];

/** Streams events to DCS. Safe for concurrent `send` calls; they share one limiter, one pool and one token. */
export class AdobeStreamingSink implements Sink {
  readonly name = 'adobe-streaming';
  readonly maxPendingSends: number;
  readonly config: ResolvedStreamingConfig;
  private readonly encoder: EnvelopeEncoder;
  private readonly limiter: AimdLimiter;
  private readonly client: DcsClient;
  private readonly http: AdobeHttpClient;
  private readonly ownsHttp: boolean;
  private readonly tokens: TokenProvider | undefined;
  private readonly log: Logger;
  private readonly clock: SinkClock;
  private readonly random: () => number;
  private readonly counters = Object.fromEntries(counterNames.map((n) => [n, 0])) as Record<Counter, number>;

  constructor(config: AdobeStreamingConfig, deps: AdobeStreamingDeps) {
    this.config = resolveStreamingConfig(config);
    const c = this.config;
    if (c.authenticated && !deps.tokens && !deps.auth) {
      throw new ConfigError('adobe-streaming: the inlet is authenticated but no Adobe credentials were given; add the adobe section or set sink.authenticated: false');
    }
    this.log = deps.log;
    this.clock = deps.clock ?? realClock;
    this.random = deps.random ?? Math.random;
    this.ownsHttp = !deps.http;
    this.http =
      deps.http ??
      new AdobeHttpClient({ requestTimeoutMs: c.requestTimeoutMs, connectTimeoutMs: c.connectTimeoutMs, maxSockets: c.concurrency.max });
    this.tokens = !c.authenticated
      ? undefined
      : (deps.tokens ?? new ImsTokenProvider(deps.auth!, { http: this.http, refreshMarginMs: c.tokenRefreshMarginMs }));
    const identity: PlatformIdentity | undefined =
      deps.identity ?? (deps.auth ? { clientId: deps.auth.clientId, orgId: deps.auth.orgId, ...(deps.auth.sandbox ? { sandbox: deps.auth.sandbox } : {}) } : undefined);
    this.encoder = new EnvelopeEncoder(c, identity?.orgId);
    this.limiter = new AimdLimiter({
      min: c.concurrency.min,
      max: c.concurrency.max,
      initial: c.concurrency.initial,
      onChange: (limit, reason) => this.log.debug({ limit, reason }, 'DCS concurrency limit changed'),
    });
    this.client = new DcsClient({
      dcsUrl: c.dcsUrl,
      inletId: c.inletId,
      http: this.http,
      maxInFlight: c.concurrency.max,
      ...(this.tokens ? { tokens: this.tokens } : {}),
      ...(this.tokens && identity ? { identity } : {}),
    });
    this.maxPendingSends = c.concurrency.max;
  }

  async send(events: OutboundEvent[], signal?: AbortSignal): Promise<Delivery[]> {
    const results: Array<Delivery | undefined> = new Array(events.length);
    const items: Item[] = [];
    events.forEach((event, index) => {
      const encoded = this.encoder.encode(event);
      if (!encoded.ok) {
        results[index] = { kind: 'rejected', reason: encoded.reason };
      } else if (!fitsAlone(encoded.bytes, this.config.maxBatchBytes)) {
        results[index] = {
          kind: 'rejected',
          reason: `ingest: the event is ${encoded.bytes} bytes in its envelope, more than the request cap of ${this.config.maxBatchBytes} bytes (DCS refuses requests above 1 MB); shorten it`,
        };
      } else {
        items.push({ index, envelope: encoded, bytes: encoded.bytes });
      }
    });
    this.counters.rejected += events.length - items.length;

    // One fatal error stops every batch of this call; the caller's abort does too.
    const stop = new AbortController();
    setMaxListeners(0, stop.signal); // every batch of this call listens on it; a large unit has more than Node's 10
    const onAbort = (): void => stop.abort(signal?.reason);
    if (signal?.aborted) throw signal.reason;
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const startedAt = this.clock.now();
      await Promise.all(
        planBatches(items, this.config.maxBatchEvents, this.config.maxBatchBytes).map((batch) =>
          this.deliver(batch, results, stop.signal, { startedAt, attempts: 0, retries: 0, lastError: '' }).catch((error: unknown) => {
            stop.abort(error);
            throw error;
          }),
        ),
      );
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    return results.map((r, i) => r ?? { kind: 'rejected', reason: `ingest: internal error, no verdict for event ${events[i]?.id ?? i}` });
  }

  /** Delivers one batch until every item has a verdict; splits on 413. Throws only on fatal errors or abort. */
  private async deliver(batch: Item[], results: Array<Delivery | undefined>, signal: AbortSignal, chain: Chain): Promise<void> {
    let pending = batch;
    /** The token DCS last refused and how many tokens had been fetched then. */
    let refusal: { token: string; fetches: number } | undefined;
    while (pending.length > 0) {
      if (signal.aborted) throw signal.reason;
      const attempt = await this.attempt(pending, signal);
      chain.attempts++;
      let retryAfterMs: number | undefined;

      if (attempt.kind === 'failure') {
        chain.lastError = attempt.message;
        retryAfterMs = attempt.retryAfterMs;
      } else {
        const { response, token } = attempt;
        const verdict = classifyResponse(response.status, response.body);
        if (verdict !== 'reauth') refusal = undefined;
        switch (verdict) {
          case 'ok':
            for (const item of pending) this.accept(results, item);
            return;
          case 'partial': {
            pending = this.readMultiStatus(pending, response, results, chain);
            if (pending.length === 0) return;
            retryAfterMs = parseRetryAfter(response.headers['retry-after'], Date.now());
            break;
          }
          case 'split': {
            this.counters.splits++;
            if (pending.length === 1) {
              this.reject(results, pending[0]!, `ingest: DCS refused the request as too large (413) although it held this event alone (${pending[0]!.bytes} bytes)`);
              return;
            }
            const half = Math.ceil(pending.length / 2);
            this.log.debug({ events: pending.length, bytes: batchBytes(pending.map((p) => p.bytes)) }, 'DCS answered 413; splitting the batch');
            await Promise.all([
              this.deliver(pending.slice(0, half), results, signal, { ...chain }),
              this.deliver(pending.slice(half), results, signal, { ...chain }),
            ]);
            return;
          }
          case 'reauth': {
            this.counters.unauthorized++;
            const message = adobeMessage(response.body, response.text);
            if (!this.tokens) {
              throw new AuthError(`DCS answered 401 to POST ${describeUrl(this.client.url)}: ${message}. The inlet requires authentication; add the adobe section and set sink.authenticated: true`);
            }
            // Bad credentials only when a token fetched after the last refusal (or the same token) is refused again:
            // a token another request fetched earlier may simply have expired too (short-lived tokens, slow answers).
            if (refusal && (token === refusal.token || this.tokens.fetches > refusal.fetches)) {
              throw new AuthError(
                `DCS refused a freshly fetched IMS token (401 twice to POST ${describeUrl(this.client.url)}): ${message}. ` +
                  'Check that the OAuth project has access to this organisation and sandbox.',
              );
            }
            refusal = { token: token ?? '', fetches: refusal?.fetches ?? this.tokens.fetches };
            this.tokens.invalidate(token);
            this.log.info('DCS answered 401; fetching a new IMS token');
            continue;
          }
          case 'retry':
            chain.lastError = `${response.status} from DCS: ${adobeMessage(response.body, response.text)}`;
            retryAfterMs = parseRetryAfter(response.headers['retry-after'], Date.now());
            break;
          case 'fatal':
            throw new FatalError(`DCS answered ${response.status} to POST ${describeUrl(this.client.url)}: ${adobeMessage(response.body, response.text)}`);
        }
      }

      // Retry what is left after a backoff, unless the deadline would pass first.
      chain.retries++;
      const delay = backoffDelay(chain.retries, { baseMs: this.config.backoffBaseMs, maxMs: this.config.backoffMaxMs }, retryAfterMs, this.random);
      const elapsed = this.clock.now() - chain.startedAt;
      if (elapsed + delay > this.config.retryDeadlineMs) {
        const reason = `ingest: gave up after ${chain.attempts} attempts over ${formatSeconds(elapsed)}: ${chain.lastError}`;
        this.log.error({ events: pending.length, attempts: chain.attempts, elapsedMs: elapsed }, redact(reason));
        this.counters.gaveUp += pending.length;
        for (const item of pending) this.reject(results, item, reason);
        return;
      }
      this.counters.retries++;
      this.log.warn({ events: pending.length, attempt: chain.attempts, delayMs: delay, error: chain.lastError }, 'retrying DCS batch');
      await this.clock.sleep(delay, signal);
    }
  }

  /** One HTTP call under the concurrency limiter; network and IMS hiccups become a retryable failure. */
  private async attempt(pending: Item[], signal: AbortSignal): Promise<Attempt> {
    const permit = await this.limiter.acquire(signal);
    let outcome: AimdOutcome = 'error';
    let latencyMs: number | undefined;
    try {
      this.counters.requests++;
      const { response, token } = await this.client.post(
        pending.map((p) => p.envelope),
        signal,
      );
      latencyMs = response.latencyMs;
      const s = response.status;
      if (s === 429) this.counters.throttled++;
      else if (s >= 500) this.counters.serverErrors++;
      outcome = BACKPRESSURE_STATUSES.has(s) || throttledMessages(response.body) ? 'backpressure' : s >= 500 ? 'error' : 'ok';
      return { kind: 'answer', response, token };
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (error instanceof HttpNetworkError) {
        this.counters.networkErrors++;
        if (error.code === 'ECONNRESET' || error.code === 'EPIPE' || /socket hang up/i.test(error.message)) this.counters.resets++;
        if (error.timeout) {
          this.counters.timeouts++;
          outcome = 'backpressure';
        }
        if (!isRetryableNetworkError(error.code, error.message)) {
          throw new FatalError(`${error.message}; not retried (TLS verification and addressing problems need a configuration fix)`);
        }
        return { kind: 'failure', message: error.message };
      }
      if (error instanceof RetryableError) {
        // IMS was unreachable or answered 5xx while fetching a token: the batch waits like any other transient error.
        return { kind: 'failure', message: error.message, ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}) };
      }
      throw error;
    } finally {
      permit.release(outcome, latencyMs);
    }
  }

  /** Applies a 207 answer by position; returns the items to retry (all of them when the answer does not line up). */
  private readMultiStatus(pending: Item[], response: HttpResponse, results: Array<Delivery | undefined>, chain: Chain): Item[] {
    const responses = (response.body as { responses?: unknown[] } | undefined)?.responses;
    if (!Array.isArray(responses) || responses.length !== pending.length) {
      chain.lastError = `DCS answered ${response.status} with ${Array.isArray(responses) ? responses.length : 'no'} per-message results for ${pending.length} messages`;
      return pending;
    }
    const retry: Item[] = [];
    pending.forEach((item, i) => {
      const entry = responses[i];
      switch (classifyMessage(entry)) {
        case 'accepted':
          this.accept(results, item);
          break;
        case 'rejected': {
          const message = adobeMessage(entry);
          this.reject(results, item, `ingest: DCS rejected the message (${messageStatus(entry)}): ${message}`, [message]);
          break;
        }
        case 'retry':
          chain.lastError = `message answered ${messageStatus(entry) ?? 'unreadably'}: ${adobeMessage(entry)}`;
          retry.push(item);
      }
    });
    return retry.length === pending.length ? pending : retry;
  }

  private accept(results: Array<Delivery | undefined>, item: Item): void {
    results[item.index] = { kind: 'accepted' };
    this.counters.accepted++;
  }

  private reject(results: Array<Delivery | undefined>, item: Item, reason: string, errors?: string[]): void {
    results[item.index] = errors ? { kind: 'rejected', reason, errors } : { kind: 'rejected', reason };
    this.counters.rejected++;
  }

  stats(): Record<string, number | string> {
    const l = this.limiter.snapshot();
    return {
      ...this.counters,
      tokenFetches: this.tokens?.fetches ?? 0,
      tokenRefreshes: Math.max(0, (this.tokens?.fetches ?? 0) - 1),
      concurrencyCurrent: l.limit,
      concurrencyMax: l.maxReached,
      concurrencyIncreases: l.increases,
      concurrencyDecreases: l.decreases,
      connectionsOpened: this.http.connectionsOpened,
    };
  }

  async close(): Promise<void> {
    if (this.ownsHttp) this.http.close();
  }
}

/** True when a multi-status answer throttled some of its messages (per-message 429 or 503). */
function throttledMessages(body: unknown): boolean {
  const responses = (body as { responses?: unknown } | undefined)?.responses;
  if (!Array.isArray(responses)) return false;
  return responses.some((entry) => {
    const status = messageStatus(entry);
    return status !== undefined && BACKPRESSURE_STATUSES.has(status);
  });
}

function formatSeconds(ms: number): string {
  return ms >= 10_000 ? `${Math.round(ms / 1000)}s` : `${(ms / 1000).toFixed(1)}s`;
}
