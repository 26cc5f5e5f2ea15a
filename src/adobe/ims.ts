/** IMS OAuth server-to-server token provider: client_credentials, cached until shortly before expiry, single-flight. */
import { AuthError, RetryableError } from '../errors.js';
import { redact, registerSecret } from '../redact.js';
import { AdobeHttpClient, HttpNetworkError, describeUrl } from './http.js';
import { parseRetryAfter } from './retry-logic.js';

/** Adobe credentials of an OAuth server-to-server project. */
export interface AdobeAuthConfig {
  /** IMS token endpoint. @default "https://ims-na1.adobelogin.com/ims/token/v3" */
  imsUrl?: string;
  /** Client ID (also sent as `x-api-key`). */
  clientId: string;
  /** Client secret; resolved by the config loader from an environment variable or a file, never written in config. */
  clientSecret: string;
  /** IMS organisation, `...@AdobeOrg` (sent as `x-gw-ims-org-id`). */
  orgId: string;
  /** Sandbox name (sent as `x-sandbox-name`). @default "prod" */
  sandbox?: string;
  /** OAuth scopes, as a list or one comma-separated string. @default ["openid","AdobeID","read_organizations","additional_info.projectedProductContext","session"] */
  scopes?: string[] | string;
}

export const DEFAULT_IMS_URL = 'https://ims-na1.adobelogin.com/ims/token/v3';
export const DEFAULT_SCOPES = ['openid', 'AdobeID', 'read_organizations', 'additional_info.projectedProductContext', 'session'];

/** JSON Schema of `AdobeAuthConfig` (the secret is resolved before validation). */
export const adobeAuthConfigSchema = {
  type: 'object',
  description: 'Adobe OAuth server-to-server credentials (Developer Console project).',
  required: ['clientId', 'clientSecret', 'orgId'],
  additionalProperties: false,
  properties: {
    imsUrl: { type: 'string', format: 'uri', default: DEFAULT_IMS_URL, description: 'IMS token endpoint.' },
    clientId: { type: 'string', minLength: 1, description: 'Client ID of the project; also sent as x-api-key.' },
    clientSecret: {
      type: 'string',
      minLength: 1,
      description: 'Client secret, resolved from an environment variable or a file by the config loader; never logged.',
    },
    orgId: { type: 'string', pattern: '@AdobeOrg$', description: 'IMS organisation ID, e.g. 1234ABCD@AdobeOrg.' },
    sandbox: { type: 'string', minLength: 1, default: 'prod', description: 'Sandbox name sent as x-sandbox-name.' },
    scopes: {
      oneOf: [{ type: 'array', items: { type: 'string', minLength: 1 } }, { type: 'string', minLength: 1 }],
      default: DEFAULT_SCOPES,
      description: 'OAuth scopes requested from IMS (a list, or one comma-separated string).',
    },
  },
} as const;

/** Anything that hands out bearer tokens (IMS, or a fixed token in tests). */
export interface TokenProvider {
  /** A valid token, from cache when possible. Throws AuthError when IMS refuses, RetryableError when IMS is unreachable. */
  getToken(signal?: AbortSignal): Promise<string>;
  /** Drops the cached token after a 401; when `token` is given, only if it is still the cached one. */
  invalidate(token?: string): void;
  /** How many tokens were fetched (the first one included). */
  readonly fetches: number;
}

export interface ImsTokenProviderOptions {
  /** Shared HTTP client; one is created (and owned) otherwise. */
  http?: AdobeHttpClient;
  /** Refresh this long before `expires_in` runs out. @default 300000 (5 minutes) */
  refreshMarginMs?: number;
  /** Whole-request timeout of a token call. @default 30000 */
  timeoutMs?: number;
  /** Clock, injectable for tests. @default Date.now */
  now?: () => number;
}

interface CachedToken {
  value: string;
  refreshAt: number;
}

/** Seconds above which an `expires_in` must be milliseconds (the retired JWT exchange answered in ms). */
const MAX_PLAUSIBLE_EXPIRES_IN_SECONDS = 7 * 24 * 3600;

/** Fetches and caches IMS access tokens; concurrent callers share one request. */
export class ImsTokenProvider implements TokenProvider {
  private readonly config: { imsUrl: string; clientId: string; clientSecret: string; scopes: string[] };
  private readonly http: AdobeHttpClient;
  private readonly ownsHttp: boolean;
  private readonly marginMs: number;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private cached: CachedToken | undefined;
  private inflight: Promise<string> | undefined;
  private count = 0;

  constructor(config: AdobeAuthConfig, options: ImsTokenProviderOptions = {}) {
    registerSecret(config.clientSecret);
    this.config = {
      imsUrl: config.imsUrl ?? DEFAULT_IMS_URL,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      scopes: typeof config.scopes === 'string' ? config.scopes.split(',').map((s) => s.trim()).filter(Boolean) : (config.scopes ?? DEFAULT_SCOPES),
    };
    this.ownsHttp = !options.http;
    this.http = options.http ?? new AdobeHttpClient();
    this.marginMs = options.refreshMarginMs ?? 300_000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  get fetches(): number {
    return this.count;
  }

  getToken(signal?: AbortSignal): Promise<string> {
    if (this.cached && this.now() < this.cached.refreshAt) return Promise.resolve(this.cached.value);
    if (!this.inflight) {
      // The shared request is not tied to one caller's signal: another caller may still want the token.
      this.inflight = this.fetch().finally(() => {
        this.inflight = undefined;
      });
    }
    return signal ? abortable(this.inflight, signal) : this.inflight;
  }

  invalidate(token?: string): void {
    if (token === undefined || this.cached?.value === token) this.cached = undefined;
  }

  /** Releases the HTTP client when this provider created it. */
  close(): void {
    if (this.ownsHttp) this.http.close();
  }

  private async fetch(): Promise<string> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.config.clientId,
      client_secret: this.config.clientSecret,
      scope: this.config.scopes.join(','),
    });
    const where = `POST ${describeUrl(this.config.imsUrl)}`;
    let res;
    try {
      res = await this.http.request({
        method: 'POST',
        url: this.config.imsUrl,
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: form.toString(),
        timeoutMs: this.timeoutMs,
      });
    } catch (error) {
      if (error instanceof HttpNetworkError) throw new RetryableError(`IMS token request failed: ${error.message}`);
      throw error;
    }
    const body = res.body as { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } | undefined;
    if (res.status === 429 || res.status >= 500) {
      throw new RetryableError(
        `IMS answered ${res.status} to ${where}${describeImsError(body)}`,
        parseRetryAfter(res.headers['retry-after'], Date.now()),
        res.status,
      );
    }
    if (res.status < 200 || res.status >= 300) {
      throw new AuthError(
        `IMS refused the client credentials: ${res.status} to ${where}${describeImsError(body)}. ` +
          'Check clientId, clientSecret and scopes of the OAuth server-to-server project.',
      );
    }
    const token = typeof body?.access_token === 'string' ? body.access_token : '';
    if (!token) throw new AuthError(`IMS answered ${res.status} to ${where} without an access_token`);
    registerSecret(token);
    const lifetimeMs = expiresInMs(body?.expires_in);
    // Never keep a token past half its life when the margin is larger than the lifetime.
    const margin = Math.min(this.marginMs, lifetimeMs / 2);
    this.cached = { value: token, refreshAt: this.now() + lifetimeMs - margin };
    this.count++;
    return token;
  }
}

/** A fixed token (unauthenticated inlets use none; tests and pre-issued tokens use this). */
export class StaticTokenProvider implements TokenProvider {
  private count = 0;
  constructor(private readonly token: string) {
    registerSecret(token);
  }
  get fetches(): number {
    return this.count;
  }
  async getToken(): Promise<string> {
    if (this.count === 0) this.count = 1;
    return this.token;
  }
  invalidate(): void {}
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function expiresInMs(value: unknown): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isFinite(n) || n <= 0) return 3600_000; // IMS always sends it; one hour if it ever does not
  return n > MAX_PLAUSIBLE_EXPIRES_IN_SECONDS ? n : n * 1000;
}

function describeImsError(body: { error?: unknown; error_description?: unknown } | undefined): string {
  if (!body) return '';
  const parts = [body.error, body.error_description].filter((p): p is string => typeof p === 'string' && p.length > 0);
  return parts.length ? ` (${redact(parts.join(': ')).slice(0, 300)})` : '';
}
