/** One DCS batch call: POST {dcsUrl}/collection/batch/{inletId} with the platform headers and a fresh-enough token. */
import type { AdobeHttpClient, HttpResponse, PlatformIdentity } from '../../adobe/http.js';
import { platformHeaders } from '../../adobe/http.js';
import type { TokenProvider } from '../../adobe/ims.js';
import { redact } from '../../redact.js';
import { BodyBuffers, batchBytes, writeBatchBody, type EncodedEnvelope } from './encode.js';

export interface DcsClientOptions {
  dcsUrl: string;
  inletId: string;
  http: AdobeHttpClient;
  /** Most requests in flight: how many body buffers are kept for reuse. */
  maxInFlight: number;
  /** Present for authenticated inlets. */
  tokens?: TokenProvider;
  /** Client id, org and sandbox for the platform headers (authenticated inlets). */
  identity?: PlatformIdentity;
}

/** The answer to one call, with the token it used (so a 401 invalidates exactly that token). */
export interface DcsAnswer {
  response: HttpResponse;
  token: string | undefined;
}

export class DcsClient {
  /** The batch endpoint, without secrets (the inlet id is an identifier, not a credential). */
  readonly url: string;
  private readonly bodies: BodyBuffers;

  constructor(private readonly options: DcsClientOptions) {
    this.url = `${options.dcsUrl}/collection/batch/${encodeURIComponent(options.inletId)}`;
    this.bodies = new BodyBuffers(options.maxInFlight);
  }

  get authenticated(): boolean {
    return this.options.tokens !== undefined;
  }

  /** Posts envelopes. Throws HttpNetworkError (no answer), RetryableError/AuthError (IMS), or the abort reason. */
  async post(envelopes: readonly EncodedEnvelope[], signal?: AbortSignal): Promise<DcsAnswer> {
    const token = this.options.tokens ? await this.options.tokens.getToken(signal) : undefined;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      ...(this.options.identity ? platformHeaders(this.options.identity, token) : token ? { authorization: `Bearer ${token}` } : {}),
    };
    const buffer = this.bodies.acquire(batchBytes(envelopes.map((e) => e.bytes)));
    const body = buffer.subarray(0, writeBatchBody(envelopes, buffer));
    let readWhole = false;
    try {
      const response = await this.options.http.request({ method: 'POST', url: this.url, headers, body, ...(signal ? { signal } : {}) });
      // A 2xx answer (per-message results) means DCS read the whole body. After a failure or an early error answer
      // the socket may still hold unsent bytes of it, so that buffer is never written again.
      readWhole = response.status >= 200 && response.status < 300;
      return { response, token };
    } finally {
      if (readWhole) this.bodies.release(buffer);
    }
  }
}

/** Adobe's own words from an error body (DCS, gateway or problem+json shapes), redacted and shortened. */
export function adobeMessage(body: unknown, text = ''): string {
  const pick = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);
  let message: string | undefined;
  if (typeof body === 'object' && body !== null) {
    const b = body as Record<string, unknown>;
    const report = typeof b.report === 'object' && b.report !== null ? (b.report as Record<string, unknown>) : undefined;
    const parts = [
      pick(b.title),
      pick(report?.message) ?? pick(b.message) ?? pick(b.detail) ?? pick(b.error_description),
      pick(b.error_code) ? `code ${pick(b.error_code)}` : undefined,
    ].filter((p): p is string => p !== undefined);
    if (parts.length) message = parts.join(': ');
  }
  message ??= text.trim() || 'no message';
  const safe = redact(message); // before cutting: a cut email address or token is no longer recognised
  return safe.length > 500 ? `${safe.slice(0, 500)}…` : safe;
}
