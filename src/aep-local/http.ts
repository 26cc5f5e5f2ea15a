/** Small HTTP helpers of the imitation: read a bounded body, answer JSON or nothing, parse media types. */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A request body read to its end; bytes beyond `limit` are drained, not kept. */
export interface ReadBody {
  bytes: Buffer;
  /** Bytes received on the wire (may exceed `bytes.length` when too large). */
  size: number;
  tooLarge: boolean;
}

/** Reads the whole body. Past `limit` it keeps draining (so the client can read our answer) but stores nothing. */
export function readBody(req: IncomingMessage, limit: number): Promise<ReadBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve({ bytes: size <= limit ? Buffer.concat(chunks) : Buffer.alloc(0), size, tooLarge: size > limit }));
    req.on('error', reject);
  });
}

/** An answer the router writes: JSON (object) or raw bytes, with extra headers. */
export interface Answer {
  status: number;
  body?: unknown;
  /** Raw bytes (with `contentType`) instead of JSON. */
  raw?: { bytes: Buffer | string; contentType: string };
  headers?: Record<string, string>;
}

export function json(status: number, body: unknown, headers?: Record<string, string>): Answer {
  return headers ? { status, body, headers } : { status, body };
}

export function empty(status: number, headers?: Record<string, string>): Answer {
  return headers ? { status, headers } : { status };
}

/** Writes an answer; HEAD requests get the headers only. */
export function writeAnswer(req: IncomingMessage, res: ServerResponse, answer: Answer, requestId: string): void {
  const headers: Record<string, string> = { 'x-request-id': requestId, ...answer.headers };
  let payload: Buffer | undefined;
  if (answer.raw) {
    payload = Buffer.from(answer.raw.bytes);
    headers['content-type'] = answer.raw.contentType;
  } else if (answer.body !== undefined) {
    payload = Buffer.from(JSON.stringify(answer.body));
    headers['content-type'] = 'application/json;charset=utf-8';
  }
  headers['content-length'] = String(payload?.length ?? 0);
  res.writeHead(answer.status, headers);
  res.end(req.method === 'HEAD' ? undefined : payload);
}

/** The media type of a Content-Type or Accept value, lower-cased, without parameters. */
export function mediaType(value: string | undefined): string {
  return (value ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The parameters of a media type value (`version=1`), keys lower-cased. */
export function mediaParams(value: string | undefined): Map<string, string> {
  const params = new Map<string, string>();
  for (const part of (value ?? '').split(';').slice(1)) {
    const eq = part.indexOf('=');
    if (eq > 0) params.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim().replace(/^"|"$/g, ''));
  }
  return params;
}

/** A single header value (first of repeated ones). */
export function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Parses JSON text; bad input gives a reason, never a throw. */
export function parseJson(bytes: Buffer): { ok: true; value: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, value: JSON.parse(bytes.toString('utf8')) as unknown };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
