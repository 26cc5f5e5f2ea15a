/** One keep-alive HTTP client for Adobe calls: pooled sockets, connect and whole-request timeouts, TLS always verified. */
import { createReadStream, statSync, type ReadStream } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { isIPv4 } from 'node:net';
import type { Duplex } from 'node:stream';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { FatalError } from '../errors.js';
import { redact } from '../redact.js';
import { requestTimeout } from '../util/request-timeout.js';

export interface HttpClientOptions {
  /** Whole-request deadline: connect, send, wait and read the answer. @default 30000 */
  requestTimeoutMs?: number;
  /** Deadline to establish a TCP (and TLS) connection. @default 10000 */
  connectTimeoutMs?: number;
  /** Sockets per host kept by the pool. @default 16 */
  maxSockets?: number;
  /** Idle keep-alive sockets kept per host. @default maxSockets */
  maxFreeSockets?: number;
  /**
   * `env`: honour HTTPS_PROXY / HTTP_PROXY / NO_PROXY (loopback is never proxied); `none`: always connect directly.
   * @default "env"
   */
  proxy?: 'env' | 'none';
  /** Largest answer body accepted, in bytes. @default 10485760 */
  maxResponseBytes?: number;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'HEAD' | 'DELETE';

/**
 * A body streamed from a region of a file, never held in memory whole. The file is opened afresh by every
 * `request` call, so a retried call sends the whole region again (a stream cannot be replayed).
 */
export interface FileBody {
  kind: 'file';
  path: string;
  /** Offset of the first byte sent. @default 0 */
  start?: number;
  /** Bytes sent from `start`: the Content-Length. */
  length: number;
}

export interface HttpRequest {
  method: HttpMethod;
  url: string;
  headers?: Record<string, string>;
  /** Sent as is: never re-serialised. A {@link FileBody} is streamed from disk with its Content-Length. */
  body?: string | Buffer | FileBody;
  signal?: AbortSignal;
  /** Overrides the client's whole-request timeout for this call. */
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  /** Lower-case header names. */
  headers: Record<string, string>;
  text: string;
  /** The body parsed as JSON, or undefined when empty or not JSON. */
  body: unknown;
  latencyMs: number;
}

/** No HTTP answer arrived (reset, refused, timeout, DNS, TLS). Its message names method and URL, never secrets. */
export class HttpNetworkError extends Error {
  override readonly name = 'HttpNetworkError';
  constructor(
    message: string,
    /** e.g. ECONNRESET, ETIMEDOUT, REQUEST_TIMEOUT, CONNECT_TIMEOUT, DEPTH_ZERO_SELF_SIGNED_CERT. */
    readonly code: string | undefined,
    /** True when one of our own timeouts fired. */
    readonly timeout: boolean,
  ) {
    super(message);
  }
}

/** The platform headers every platform.adobe.io call carries (DCS takes the same set). */
export interface PlatformIdentity {
  clientId: string;
  orgId: string;
  sandbox?: string;
}

/** `Authorization: Bearer`, `x-api-key` (client id), `x-gw-ims-org-id`, `x-sandbox-name`. */
export function platformHeaders(identity: PlatformIdentity, token: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    'x-api-key': identity.clientId,
    'x-gw-ims-org-id': identity.orgId,
  };
  if (token) headers.authorization = `Bearer ${token}`;
  if (identity.sandbox) headers['x-sandbox-name'] = identity.sandbox;
  return headers;
}

/** A URL fit for messages and logs: no user info, no query string. */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return redact(url.split('?')[0] ?? '');
  }
}

/** A pooled HTTP client; create one per run and `close()` it at the end. */
export class AdobeHttpClient {
  private readonly axios: AxiosInstance;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly requestTimeoutMs: number;
  private readonly proxyMode: 'env' | 'none';
  private opened = 0;

  constructor(options: HttpClientOptions = {}) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    const maxSockets = options.maxSockets ?? 16;
    const agentOptions = { keepAlive: true, maxSockets, maxFreeSockets: options.maxFreeSockets ?? maxSockets, scheduling: 'lifo' as const };
    this.httpAgent = this.timed(new http.Agent(agentOptions), connectTimeoutMs, 'connect');
    // rejectUnauthorized is set explicitly so NODE_TLS_REJECT_UNAUTHORIZED=0 cannot turn verification off.
    this.httpsAgent = this.timed(new https.Agent({ ...agentOptions, rejectUnauthorized: true }), connectTimeoutMs, 'secureConnect');
    this.proxyMode = options.proxy ?? 'env';
    this.axios = axios.create({
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
      maxRedirects: 0,
      validateStatus: () => true,
      responseType: 'text',
      transformRequest: [(data: unknown) => data],
      transformResponse: [(data: unknown) => data],
      maxContentLength: options.maxResponseBytes ?? 10 * 1024 * 1024,
      maxBodyLength: Infinity,
    });
  }

  /** Sockets opened so far (keep-alive keeps this low). */
  get connectionsOpened(): number {
    return this.opened;
  }

  /** Sends one request. Resolves with any HTTP answer; rejects with HttpNetworkError, or the caller's abort reason. */
  async request(req: HttpRequest): Promise<HttpResponse> {
    const timeoutMs = req.timeoutMs ?? this.requestTimeoutMs;
    if (req.signal?.aborted) throw req.signal.reason;
    const refused = insecureUrlProblem(req.url);
    if (refused) throw new HttpNetworkError(`${req.method} ${describeUrl(req.url)}: ${refused}`, 'INSECURE_URL', false);
    const file = isFileBody(req.body) ? openFileBody(req.body, req.method, req.url) : undefined;
    const deadline = requestTimeout(timeoutMs, req.signal);
    const signal = deadline.signal;
    const started = performance.now();
    let res: AxiosResponse<string>;
    try {
      res = await this.axios.request<string>({
        method: req.method,
        url: req.url,
        headers: file ? { ...req.headers, 'content-length': String(file.length) } : req.headers,
        data: file ? (file.stream ?? Buffer.alloc(0)) : req.body,
        signal,
        // Socket inactivity timeout as well, so a stalled connection is noticed even if timers are delayed.
        timeout: timeoutMs,
        ...(this.proxyMode === 'none' || isLoopback(req.url) ? { proxy: false as const } : {}),
      });
    } catch (error) {
      if (req.signal?.aborted) throw req.signal.reason;
      throw toNetworkError(error, req.method, req.url, deadline.timedOut() ? timeoutMs : undefined);
    } finally {
      deadline.dispose();
      file?.stream?.destroy(); // closes the file when the answer came before the body was read to its end
    }
    const text = typeof res.data === 'string' ? res.data : res.data === undefined || res.data === null ? '' : String(res.data);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers ?? {})) {
      if (v !== undefined && v !== null) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
    }
    return { status: res.status, headers, text, body: parseJson(text), latencyMs: performance.now() - started };
  }

  /** Closes pooled sockets. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private timed<A extends http.Agent>(agent: A, connectTimeoutMs: number, readyEvent: 'connect' | 'secureConnect'): A {
    const create = agent.createConnection.bind(agent) as (
      options: http.ClientRequestArgs,
      callback?: (err: Error | null, stream: Duplex) => void,
    ) => Duplex | null | undefined;
    (agent as http.Agent).createConnection = (options, callback) => {
      const socket = create(options, callback);
      this.opened++;
      if (socket) {
        const timer = setTimeout(() => {
          const err = new Error(`connect timed out after ${connectTimeoutMs} ms`) as NodeJS.ErrnoException;
          err.code = 'CONNECT_TIMEOUT';
          socket.destroy(err);
        }, connectTimeoutMs);
        timer.unref();
        const clear = (): void => clearTimeout(timer);
        socket.once(readyEvent, clear);
        socket.once('close', clear);
        socket.once('error', clear);
      }
      return socket;
    };
    return agent;
  }
}

function isFileBody(body: HttpRequest['body']): body is FileBody {
  return typeof body === 'object' && body !== null && !Buffer.isBuffer(body) && body.kind === 'file';
}

/**
 * Opens the file region of a body. A missing or shortened file is a local fault, not a network error: it would
 * otherwise leave the server waiting for bytes that never come until the request timeout.
 */
function openFileBody(body: FileBody, method: string, url: string): { stream: ReadStream | undefined; length: number } {
  const start = body.start ?? 0;
  if (!Number.isSafeInteger(start) || start < 0 || !Number.isSafeInteger(body.length) || body.length < 0) {
    throw new FatalError(`${method} ${describeUrl(url)}: invalid file region (start ${start}, length ${body.length})`);
  }
  let size: number;
  try {
    size = statSync(body.path).size;
  } catch (error) {
    throw new FatalError(`${method} ${describeUrl(url)}: cannot read the file to upload: ${redact((error as Error).message)}`);
  }
  if (size < start + body.length) {
    throw new FatalError(`${method} ${describeUrl(url)}: the file to upload holds ${size} bytes, fewer than the ${start + body.length} expected (it changed after staging)`);
  }
  // An empty region is sent as an empty body (a read stream cannot end before its start).
  const stream = body.length === 0 ? undefined : createReadStream(body.path, { start, end: start + body.length - 1, highWaterMark: 1024 * 1024 });
  return { stream, length: body.length };
}

function isLoopback(url: string): boolean {
  try {
    return isLoopbackHost(new URL(url).hostname);
  } catch {
    return false;
  }
}

/** `localhost`, `::1` or an IPv4 address in 127.0.0.0/8 (not a name that merely starts with "127."). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return host === 'localhost' || host === '::1' || host === '[::1]' || (isIPv4(host) && host.startsWith('127.'));
}

/**
 * Why a URL may not carry Adobe credentials, or undefined when it may: https anywhere, plain http only to a loopback
 * address (the local imitation). Bearer tokens and client secrets never cross a network in clear text.
 */
export function insecureUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a valid URL';
  }
  if (parsed.protocol === 'https:') return undefined;
  if (parsed.protocol === 'http:' && isLoopbackHost(parsed.hostname)) return undefined;
  return `refused: Adobe endpoints are reached over https only (plain http is accepted for a loopback address such as the local imitation, not ${parsed.protocol}//${parsed.host})`;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Builds a clean error: axios errors carry the request config (headers, body with secrets), so they are never kept. */
function toNetworkError(error: unknown, method: string, url: string, timedOutAfterMs: number | undefined): HttpNetworkError {
  const where = `${method} ${describeUrl(url)}`;
  if (timedOutAfterMs !== undefined) {
    return new HttpNetworkError(`${where}: no complete answer within ${timedOutAfterMs} ms (request timeout)`, 'REQUEST_TIMEOUT', true);
  }
  const e = error as { code?: unknown; message?: unknown; cause?: { code?: unknown; message?: unknown } };
  let code = typeof e?.cause?.code === 'string' ? e.cause.code : typeof e?.code === 'string' ? e.code : undefined;
  let message = typeof e?.message === 'string' ? e.message : String(error);
  if (typeof e?.cause?.message === 'string' && e.cause.message && !message.includes(e.cause.message)) message += ` (${e.cause.message})`;
  if (code === 'ECONNABORTED' && /timeout/i.test(message)) code = 'ETIMEDOUT';
  const timeout = code === 'ETIMEDOUT' || code === 'CONNECT_TIMEOUT' || /timed? ?out/i.test(message);
  return new HttpNetworkError(`${where} failed: ${redact(message)}${code && !message.includes(code) ? ` [${code}]` : ''}`, code, timeout);
}
