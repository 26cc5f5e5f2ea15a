/** The DCS streaming imitation: `POST /collection/{inletId}` (one message) and `/collection/batch/{inletId}` (207). */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { EventValidator, XdmEvent } from '../core/types.js';
import { messageOrg, openEnvelope } from './envelope.js';
import type { FaultInjector } from './faults.js';
import { bearerToken, type TokenStore } from './ims.js';
import { header, isObject, json, mediaType, parseJson, type Answer } from './http.js';
import type { StatsRecorder } from './stats.js';
import type { EventStore } from './store.js';
import type { DatasetConfig, InletConfig, LocalCredentials } from './types.js';
import { streamingValidation } from './xdm-report.js';

export interface DcsContext {
  inlets: ReadonlyMap<string, InletConfig>;
  datasets: ReadonlyMap<string, DatasetConfig>;
  credentials: LocalCredentials;
  tokens: TokenStore;
  validator: EventValidator;
  faults: FaultInjector;
  store: EventStore;
  stats: StatsRecorder;
  requireSandboxHeader: boolean;
  failureKey: 'statusCode' | 'status';
  failureXactionId: boolean;
  maxRequestBytes: number;
  now: () => number;
}

/** One DCS request as the router hands it over. */
export interface DcsRequest {
  req: IncomingMessage;
  inletId: string;
  batch: boolean;
  query: URLSearchParams;
  body: Buffer;
  /** Bytes on the wire. */
  size: number;
}

const INLET_PROBLEM = 'http://ns.adobe.com/adobecloud/problem/data-collection-service/inlet';
/** syncValidation stops after 5 errors per message (Adobe's streaming-validation doc). */
const MAX_REPORTED_ERRORS = 5;

let sequence = 0;
/** A DCS-looking transaction id: `{receivedMs}:{node}:{sequence}`. */
function transactionId(receivedMs: number): string {
  sequence = (sequence + 1) % 100_000;
  return `${receivedMs}:${String(4000 + (sequence % 1000)).padStart(4, '0')}:${sequence}`;
}

function prefix(inletId: string, imsOrgId: string): string {
  return `inletId: [${inletId}] imsOrgId: [${imsOrgId}]`;
}

function invalidFormat(message: string): Answer {
  return json(400, { type: INLET_PROBLEM, status: 400, title: 'Invalid XDM Message Format', report: { message } });
}

/** The 401 of an authenticated inlet; `status` is a string, as in Adobe's HTTP API doc. */
function unauthorized(reason: string): Answer {
  return json(401, {
    type: 'https://ns.adobe.com/adobecloud/problem/data-collection-service-authorization',
    status: '401',
    title: 'Authorization',
    report: { message: `[${randomUUID()}] ${reason}` },
  });
}

/** The 413 answer (body UNCONFIRMED). */
export function payloadTooLarge(limit: number): Answer {
  return json(413, {
    type: 'http://ns.adobe.com/adobecloud/problem/data-collection-service/payload-too-large',
    status: 413,
    title: 'Payload Too Large',
    report: { message: `The request payload exceeds the limit of ${limit} bytes` },
  });
}

/** A 401 for a scripted `401` fault, shaped as this route's real one. */
export function dcsUnauthorized(): Answer {
  return unauthorized('Ims service token is expired');
}

/** Request-level checks shared by both endpoints; returns a refusal or undefined. */
function checkRequest(r: DcsRequest, ctx: DcsContext, inlet: InletConfig): Answer | undefined {
  const limit = Math.min(ctx.maxRequestBytes, ctx.faults.maxRequestBytes() ?? Infinity);
  if (r.size > limit) {
    if (limit < ctx.maxRequestBytes) ctx.stats.fault('413');
    return payloadTooLarge(limit);
  }
  if (inlet.authenticated !== false) {
    const authorization = header(r.req, 'authorization');
    if (!authorization) return unauthorized('Ims service token is empty');
    const token = bearerToken(authorization);
    const state = token ? ctx.tokens.check(token) : 'unknown';
    if (state === 'expired') ctx.stats.fault('token-expired');
    if (state !== 'valid') return unauthorized(state === 'expired' ? 'Ims service token is expired' : 'Ims service token is invalid');
  }
  const sandbox = header(r.req, 'x-sandbox-name');
  if (!sandbox && ctx.requireSandboxHeader) {
    return json(400, { type: INLET_PROBLEM, status: 400, title: 'Bad Request', report: { message: 'Missing header x-sandbox-name' } });
  }
  if (sandbox && sandbox !== ctx.credentials.sandboxName) {
    return json(403, { type: INLET_PROBLEM, status: 403, title: 'Forbidden', report: { message: `Sandbox [${sandbox}] does not own this inlet` } });
  }
  const type = mediaType(header(r.req, 'content-type'));
  if (type !== 'application/json') {
    const detail =
      type === 'application/x-jackson-smile'
        ? 'Smile payloads are valid for Adobe but not decoded by aep-local; send application/json'
        : 'Content-Type must be application/json or application/x-jackson-smile';
    return json(400, { type: INLET_PROBLEM, status: 400, title: 'Bad Request', report: { message: detail } });
  }
  return undefined;
}

/** Decodes the body (gzip when declared) and parses it; a refusal when it is not JSON. */
function decode(r: DcsRequest, ctx: DcsContext, inletId: string): { value: unknown } | { answer: Answer } {
  let bytes = r.body;
  if (mediaType(header(r.req, 'content-encoding')) === 'gzip') {
    try {
      bytes = gunzipSync(bytes);
    } catch {
      return { answer: invalidFormat(`${prefix(inletId, ctx.credentials.imsOrgId)} Request body is not valid gzip`) };
    }
    if (bytes.length > ctx.maxRequestBytes) return { answer: payloadTooLarge(ctx.maxRequestBytes) };
  }
  const parsed = parseJson(bytes);
  if (!parsed.ok) return { answer: invalidFormat(`${prefix(inletId, ctx.credentials.imsOrgId)} Message has unknown xdm format`) };
  return { value: parsed.value };
}

/** The verdict on one message: accepted (and stored), or refused with DCS's message and validation lines. */
type Verdict = { ok: true } | { ok: false; message: string; errors?: string[] };

function judge(message: unknown, ctx: DcsContext, inlet: InletConfig, ref: string, receivedMs: number): Verdict {
  ctx.stats.messages.received++;
  const head = prefix(inlet.id, messageOrg(message, ctx.credentials.imsOrgId));
  const opened = openEnvelope(message, { inlet, imsOrgId: ctx.credentials.imsOrgId, datasets: ctx.datasets });
  let verdict: Verdict;
  if (!opened.ok) {
    verdict = { ok: false, message: `${head} ${opened.message}` };
  } else {
    const errors = ctx.validator.validate(opened.entity as XdmEvent);
    const id = typeof opened.entity['_id'] === 'string' ? opened.entity['_id'] : undefined;
    if (errors) {
      verdict = { ok: false, message: `${head} Message is invalid`, errors };
    } else if (ctx.faults.rejects(id)) {
      ctx.stats.fault('reject');
      verdict = { ok: false, message: `${head} Message is invalid (rejected by the aep-local fault plan)` };
    } else {
      ctx.store.add({ datasetId: opened.datasetId, event: opened.entity, via: 'streaming', ref, receivedAtMs: receivedMs });
      verdict = { ok: true };
    }
  }
  if (verdict.ok) ctx.stats.messages.accepted++;
  else ctx.stats.messages.rejected++;
  return verdict;
}

/** Handles both DCS endpoints. */
export function handleDcs(r: DcsRequest, ctx: DcsContext): Answer {
  const inlet = ctx.inlets.get(r.inletId);
  // Unknown inlet: status and body UNCONFIRMED; 404 tells a client its configuration is wrong.
  if (!inlet) {
    return json(404, { type: INLET_PROBLEM, status: 404, title: 'Inlet Not Found', report: { message: `inletId: [${r.inletId}] is not a known inlet` } });
  }
  const refused = checkRequest(r, ctx, inlet);
  if (refused) return refused;
  const decoded = decode(r, ctx, inlet.id);
  if ('answer' in decoded) return decoded.answer;
  const receivedMs = ctx.now();
  return r.batch ? batch(decoded.value, ctx, inlet, receivedMs) : single(decoded.value, r, ctx, inlet, receivedMs);
}

function single(message: unknown, r: DcsRequest, ctx: DcsContext, inlet: InletConfig, receivedMs: number): Answer {
  const xactionId = transactionId(receivedMs);
  const sync = r.query.get('syncValidation') === 'true';
  const verdict = judge(message, ctx, inlet, xactionId, receivedMs);
  const accepted = { inletId: inlet.id, xactionId, receivedTimeMs: receivedMs };
  if (verdict.ok) return json(200, { ...accepted, syncValidation: sync ? { status: 'pass' } : { skipped: true } });
  if (!verdict.errors) return invalidFormat(verdict.message);
  // Without syncValidation DCS answers 200 and the record lands in the dataset's failed batch (not stored here).
  if (!sync) return json(200, { ...accepted, syncValidation: { skipped: true } });
  return json(400, {
    type: INLET_PROBLEM,
    status: 400,
    title: 'Invalid XDM Message Format',
    report: { message: verdict.message, cause: streamingValidation(verdict.errors.slice(0, MAX_REPORTED_ERRORS)) },
  });
}

function batch(payload: unknown, ctx: DcsContext, inlet: InletConfig, receivedMs: number): Answer {
  const messages = isObject(payload) ? payload['messages'] : undefined;
  if (!Array.isArray(messages) || messages.length === 0) {
    return invalidFormat(`${prefix(inlet.id, ctx.credentials.imsOrgId)} Request must be {"messages":[…]} with at least one message`);
  }
  const batchId = transactionId(receivedMs);
  const failureTag = randomUUID();
  const responses = messages.map((message, index) => {
    const xactionId = `${batchId}:${index}`;
    const verdict = judge(message, ctx, inlet, xactionId, receivedMs);
    if (verdict.ok) return { xactionId };
    const text = verdict.errors
      ? `${verdict.message}: ${verdict.errors.length} schema violation${verdict.errors.length === 1 ? '' : 's'} found: ${verdict.errors.join('; ')}`
      : verdict.message;
    return {
      ...(ctx.failureXactionId ? { xactionId: `${failureTag}-${index}` } : {}),
      [ctx.failureKey]: 400,
      message: text,
    };
  });
  return json(207, { inletId: inlet.id, batchId, receivedTimeMs: receivedMs, responses });
}
