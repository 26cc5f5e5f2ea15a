import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthError, FatalError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { AdobeStreamingSink, type AdobeStreamingConfig } from '../../src/sinks/adobe-streaming/index.js';
import { ImsTokenProvider } from '../../src/adobe/ims.js';
import type { Delivery } from '../../src/core/types.js';
import { acceptAll, startScriptedServer, type RecordedRequest, type ScriptedServer } from '../helpers/scripted-server.js';
import { captureLogger, makeEvents, messagesOf, virtualClock, type VirtualClock } from './helpers.js';
import { JsonBytes } from '../../src/core/json-bytes.js';

const SECRET = 'p8e-StreamingSinkSecret-42';
const SCHEMA = 'https://ns.adobe.com/acme/schemas/feedback';
const INLET = 'a'.repeat(64);

let server: ScriptedServer;
let tokenCount = 0;
const sinks: AdobeStreamingSink[] = [];

beforeAll(async () => {
  server = await startScriptedServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.route('/ims/', () => ({ status: 200, body: { access_token: `ims-token-${++tokenCount}-zzzz`, token_type: 'bearer', expires_in: 86399 } }));
  server.fallback(acceptAll);
});
afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close();
  server.requests.length = 0;
});

function dcsRequests(): RecordedRequest[] {
  return server.requestsTo('/collection/');
}

function makeSink(overrides: Partial<AdobeStreamingConfig> = {}, deps: { clock?: VirtualClock; log?: ReturnType<typeof captureLogger>['log'] } = {}): AdobeStreamingSink {
  const sink = new AdobeStreamingSink(
    {
      type: 'adobe-streaming',
      dcsUrl: server.url,
      inletId: INLET,
      datasetId: 'ds-default',
      schemaRef: SCHEMA,
      flowId: 'flow-1',
      requestTimeoutMs: 2000,
      backoffBaseMs: 100,
      backoffMaxMs: 2000,
      ...overrides,
    },
    {
      log: deps.log ?? silentLogger,
      auth: { imsUrl: `${server.url}/ims/token/v3`, clientId: 'client-1', clientSecret: SECRET, orgId: 'ORG1@AdobeOrg', sandbox: 'dev' },
      clock: deps.clock ?? virtualClock(),
      random: () => 0.5,
    },
  );
  sinks.push(sink);
  return sink;
}

const accepted = (n: number): Delivery[] => Array.from({ length: n }, () => ({ kind: 'accepted' }));

describe('adobe-streaming sink: requests', () => {
  it('posts XDM envelopes to the batch endpoint with the platform headers', async () => {
    const events = makeEvents(3);
    expect(await makeSink().send(events)).toEqual(accepted(3));
    const [req] = dcsRequests();
    expect(req!.method).toBe('POST');
    expect(req!.url).toBe(`/collection/batch/${INLET}`);
    expect(req!.headers).toMatchObject({
      'content-type': 'application/json',
      authorization: expect.stringMatching(/^Bearer ims-token-\d+-zzzz$/),
      'x-api-key': 'client-1',
      'x-gw-ims-org-id': 'ORG1@AdobeOrg',
      'x-sandbox-name': 'dev',
    });
    const schemaRef = { id: SCHEMA, contentType: 'application/vnd.adobe.xed-full+json;version=1' };
    expect(messagesOf(req!.json)).toEqual(
      events.map((e) => ({
        header: { schemaRef, imsOrgId: 'ORG1@AdobeOrg', datasetId: 'ds-default', flowId: 'flow-1', source: { name: 'xdm-feedback' } },
        body: { xdmMeta: { schemaRef }, xdmEntity: e.event },
      })),
    );
  });

  it('embeds each pre-serialised entity verbatim instead of re-serialising it', async () => {
    const [event] = makeEvents(1);
    event!.json = JsonBytes.of('{ "_id" : "evt-0",  "timestamp":"2025-01-02T03:04:05Z", "eventType":"message.feedback" }');
    await makeSink().send([event!]);
    expect(dcsRequests()[0]!.body).toContain(`"xdmEntity":${event!.json}}}`);
  });

  it('routes message.feedback and message.tracking to their own dataset and schema', async () => {
    const sink = makeSink({
      datasetId: undefined,
      schemaRef: undefined,
      eventTypes: {
        'message.feedback': { datasetId: 'ds-feedback', schemaRef: 'https://ns.adobe.com/acme/schemas/fb' },
        'message.tracking': { datasetId: 'ds-tracking', schemaRef: { id: 'https://ns.adobe.com/acme/schemas/tr', contentType: 'application/vnd.adobe.xed-full+json;version=1.0' } },
      },
    });
    const events = [...makeEvents(1), ...makeEvents(1, { eventType: 'message.tracking', prefix: 'trk' }), ...makeEvents(1, { eventType: 'delivery.feedback', prefix: 'other' })];
    const results = await sink.send(events);
    expect(results.slice(0, 2)).toEqual(accepted(2));
    expect(results[2]).toMatchObject({ kind: 'rejected', reason: expect.stringContaining('no target dataset for eventType "delivery.feedback"') });
    const messages = messagesOf(dcsRequests()[0]!.json);
    expect(messages.map((m) => m.header.datasetId)).toEqual(['ds-feedback', 'ds-tracking']);
    expect(messages[1]!.header.schemaRef).toEqual({ id: 'https://ns.adobe.com/acme/schemas/tr', contentType: 'application/vnd.adobe.xed-full+json;version=1.0' });
    expect(messages[1]!.body.xdmMeta).toEqual({ schemaRef: messages[1]!.header.schemaRef });
  });

  it('batches by message count, in order', async () => {
    const events = makeEvents(1200);
    expect(await makeSink({ maxBatchEvents: 500 }).send(events)).toEqual(accepted(1200));
    const sizes = dcsRequests().map((r) => messagesOf(r.json).length);
    expect(sizes.sort((a, b) => b - a)).toEqual([500, 500, 200]);
    const ids = dcsRequests().flatMap((r) => messagesOf(r.json).map((m) => m.body.xdmEntity._id));
    expect(new Set(ids).size).toBe(1200);
  });

  it('never sends a request above the byte cap, and rejects an event too large to fit alone', async () => {
    const sizes = [3000, 12000, 500, 40000, 7000, 61000, 20000, 100, 9000, 30000, 15000, 45000, 2000];
    const events = makeEvents(sizes.length, { pad: (i) => sizes[i]! });
    const results = await makeSink({ maxBatchBytes: 50_000 }).send(events);
    const oversized = sizes.indexOf(61000);
    results.forEach((r, i) => {
      if (i === oversized) expect(r).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/^ingest: the event is \d+ bytes .* request cap of 50000 bytes/) });
      else expect(r).toEqual({ kind: 'accepted' });
    });
    for (const req of dcsRequests()) expect(Buffer.byteLength(req.body)).toBeLessThanOrEqual(50_000);
    const sent = dcsRequests().flatMap((r) => messagesOf(r.json).map((m) => m.body.xdmEntity._id));
    expect(sent.sort()).toEqual(events.filter((_, i) => i !== oversized).map((e) => e.id).sort());
  });

  it('reuses keep-alive connections across requests and sends', async () => {
    const before = server.connections;
    const sink = makeSink({ maxBatchEvents: 10 });
    for (let i = 0; i < 5; i++) await sink.send(makeEvents(30, { prefix: `s${i}` }));
    expect(dcsRequests()).toHaveLength(15);
    // IMS and DCS share the pool; concurrent batches may open a few sockets, never one per request.
    expect(server.connections - before).toBeLessThanOrEqual(sink.config.concurrency.max);
    expect(sink.stats().connectionsOpened).toBe(server.connections - before);
  });
});

describe('adobe-streaming sink: partial answers and splits', () => {
  it('reads a mixed 207 by position (status or statusCode, xactionId optional) and retries only the 5xx/429 messages', async () => {
    server.enqueue({
      status: 207,
      body: {
        inletId: INLET,
        batchId: 'b',
        responses: [
          { xactionId: 'b:0' },
          { statusCode: 400, message: 'inletId: [x] imsOrgId: [y] Message has unknown xdm format' },
          { xactionId: 'uuid-2', status: 400, message: "The 'header' field is mandatory." },
          {},
          { status: 503, message: 'busy' },
          { statusCode: 429, message: 'slow down' },
        ],
      },
    });
    const events = makeEvents(6);
    const sink = makeSink();
    const results = await sink.send(events);
    expect(results[0]).toEqual({ kind: 'accepted' });
    expect(results[1]).toMatchObject({ kind: 'rejected', reason: expect.stringContaining('Message has unknown xdm format') });
    expect(results[1]).toMatchObject({ reason: expect.stringContaining('(400)') });
    expect(results[2]).toMatchObject({ kind: 'rejected', reason: expect.stringContaining("The 'header' field is mandatory.") });
    expect(results.slice(3)).toEqual(accepted(3));
    const retried = messagesOf(dcsRequests()[1]!.json).map((m) => m.body.xdmEntity._id);
    expect(retried).toEqual(['evt-4', 'evt-5']);
    expect(dcsRequests()).toHaveLength(2);
    // Per-message 429/503 are throttling too: the limiter backs off.
    expect(sink.stats().concurrencyDecreases).toBe(1);
  });

  it('retries the whole batch when the 207 answer does not have one result per message', async () => {
    server.enqueue({ status: 207, body: { responses: [{ xactionId: 'only-one' }] } });
    const results = await makeSink().send(makeEvents(3));
    expect(results).toEqual(accepted(3));
    expect(dcsRequests().map((r) => messagesOf(r.json).length)).toEqual([3, 3]);
  });

  it('accepts a plain 200 without per-message results', async () => {
    server.enqueue({ status: 200, body: { inletId: INLET, xactionId: '1:2:3', receivedTimeMs: 1 } });
    expect(await makeSink().send(makeEvents(2))).toEqual(accepted(2));
  });

  it('splits a batch in halves on 413 and retries each half', async () => {
    server.enqueue({ status: 413, body: { message: 'Request entity too large' } }, { status: 413 });
    const sink = makeSink();
    const results = await sink.send(makeEvents(8));
    expect(results).toEqual(accepted(8));
    const sizes = dcsRequests().map((r) => messagesOf(r.json).length);
    expect(sizes[0]).toBe(8);
    expect(sizes[1]).toBe(4);
    expect(sizes.slice(2).sort()).toEqual([2, 2, 4]);
    expect(sink.stats().splits).toBe(2);
  });

  it('rejects a lone event that DCS still finds too large', async () => {
    server.enqueue({ status: 413 }, { status: 413 }, { status: 413 });
    const results = await makeSink().send(makeEvents(2));
    expect(results).toEqual([
      { kind: 'rejected', reason: expect.stringContaining('too large (413)') },
      { kind: 'rejected', reason: expect.stringContaining('too large (413)') },
    ]);
  });
});

describe('adobe-streaming sink: retries', () => {
  it('rides out a 429 storm, waiting at least Retry-After each time and lowering concurrency', async () => {
    for (let i = 0; i < 5; i++) server.enqueue({ status: 429, headers: { 'retry-after': '3' }, body: { message: 'Too many requests' } });
    const clock = virtualClock();
    const sink = makeSink({ concurrency: { min: 1, max: 8, initial: 8 } }, { clock });
    expect(await sink.send(makeEvents(4))).toEqual(accepted(4));
    expect(clock.sleeps).toHaveLength(5);
    for (const ms of clock.sleeps) expect(ms).toBeGreaterThanOrEqual(3000);
    const stats = sink.stats();
    expect(stats.throttled).toBe(5);
    expect(stats.retries).toBe(5);
    expect(stats.concurrencyCurrent).toBeLessThan(8);
    expect(stats.concurrencyDecreases).toBeGreaterThanOrEqual(1);
  });

  it('retries 500, 502, 503 and 504 with capped full-jitter backoff, then succeeds', async () => {
    server.enqueue({ status: 500 }, { status: 502, body: '<html>bad gateway</html>' }, { status: 503 }, { status: 504 });
    const clock = virtualClock();
    const sink = makeSink({ backoffBaseMs: 100, backoffMaxMs: 250 }, { clock });
    expect(await sink.send(makeEvents(2))).toEqual(accepted(2));
    expect(clock.sleeps).toEqual([50, 100, 125, 125]); // random() = 0.5 of min(250, 100·2^n)
    expect(sink.stats()).toMatchObject({ serverErrors: 4, retries: 4, requests: 5 });
  });

  it('retries after a connection reset and after a request timeout', async () => {
    server.enqueue({ reset: true }, { hang: true });
    const sink = makeSink({ requestTimeoutMs: 200 });
    expect(await sink.send(makeEvents(3))).toEqual(accepted(3));
    expect(sink.stats()).toMatchObject({ networkErrors: 2, resets: 1, timeouts: 1, retries: 2 });
    expect(dcsRequests()).toHaveLength(3);
  });

  it('rejects every event with an ingest reason once the retry deadline is reached, losing none', async () => {
    server.fallback({ status: 503, body: { message: 'Service Unavailable' } });
    const clock = virtualClock();
    const sink = makeSink({ retryDeadlineMs: 60_000, backoffBaseMs: 1000, backoffMaxMs: 10_000, maxBatchEvents: 4 }, { clock });
    const events = makeEvents(10);
    const results = await sink.send(events);
    expect(results).toHaveLength(10);
    for (const r of results) {
      expect(r.kind).toBe('rejected');
      expect(r).toMatchObject({ reason: expect.stringMatching(/^ingest: gave up after \d+ attempts over \d+(\.\d)?s: 503 from DCS: Service Unavailable$/) });
    }
    expect(clock.t).toBeLessThanOrEqual(60_000 * 3); // three batches, each within its own deadline
    expect(sink.stats().gaveUp).toBe(10);
  });

  it('gives up at once when Retry-After asks for more than the remaining deadline', async () => {
    server.enqueue({ status: 429, headers: { 'retry-after': '3600' } });
    const clock = virtualClock();
    const results = await makeSink({ retryDeadlineMs: 60_000 }, { clock }).send(makeEvents(1));
    expect(results[0]).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/^ingest: gave up after 1 attempts over 0\.0s: 429 from DCS/) });
    expect(clock.sleeps).toEqual([]);
  });

  it('waits for IMS when it is briefly unavailable', async () => {
    let imsCalls = 0;
    server.route('/ims/', () => (++imsCalls === 1 ? { status: 503, body: { error: 'temporarily_unavailable' } } : { status: 200, body: { access_token: 'late-token-abcdef', expires_in: 86399 } }));
    const sink = makeSink();
    expect(await sink.send(makeEvents(2))).toEqual(accepted(2));
    expect(imsCalls).toBe(2);
    expect(dcsRequests()[0]!.headers.authorization).toBe('Bearer late-token-abcdef');
  });

  it('shares the concurrency limit across concurrent send calls', async () => {
    let active = 0;
    let peak = 0;
    server.fallback((req) => {
      active++;
      peak = Math.max(peak, active);
      setTimeout(() => active--, 25);
      return { ...acceptAll(req), delayMs: 25 };
    });
    const sink = makeSink({ maxBatchEvents: 5, concurrency: { min: 1, max: 2, initial: 2 } });
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => sink.send(makeEvents(10, { prefix: `c${i}` }))));
    expect(results.flat()).toEqual(accepted(60));
    expect(peak).toBeLessThanOrEqual(2);
    expect(sink.maxPendingSends).toBe(2);
  });

  it('stops waiting when the caller aborts', async () => {
    server.fallback({ status: 503 });
    const controller = new AbortController();
    const reason = new Error('SIGTERM');
    const clock = virtualClock();
    clock.sleep = async (_ms, signal) => {
      controller.abort(reason);
      if (signal?.aborted) throw signal.reason;
    };
    await expect(makeSink({}, { clock }).send(makeEvents(2), controller.signal)).rejects.toBe(reason);
  });
});

describe('adobe-streaming sink: authentication and fatal answers', () => {
  it('fetches a new token once after a 401 (token expired mid-run) and carries on', async () => {
    const sink = makeSink();
    expect(await sink.send(makeEvents(2, { prefix: 'a' }))).toEqual(accepted(2));
    server.enqueue({ status: 401, body: { type: 'https://ns.adobe.com/adobecloud/problem/data-collection-service-authorization', status: '401', title: 'Authorization', report: { message: 'Ims service token is expired' } } });
    expect(await sink.send(makeEvents(2, { prefix: 'b' }))).toEqual(accepted(2));
    const auths = dcsRequests().map((r) => r.headers.authorization);
    expect(auths[1]).toBe(auths[0]);
    expect(auths[2]).not.toBe(auths[1]);
    expect(server.requestsTo('/ims/')).toHaveLength(2);
    expect(sink.stats()).toMatchObject({ unauthorized: 1, tokenRefreshes: 1 });
  });

  it('refreshes the token before it expires, without waiting for a 401', async () => {
    let now = 0;
    const tokens = new ImsTokenProvider(
      { imsUrl: `${server.url}/ims/token/v3`, clientId: 'client-1', clientSecret: SECRET, orgId: 'ORG1@AdobeOrg' },
      { refreshMarginMs: 60_000, now: () => now },
    );
    server.route('/ims/', () => ({ status: 200, body: { access_token: `short-token-${++tokenCount}-zz`, expires_in: 3600 } }));
    const sink = new AdobeStreamingSink(
      { type: 'adobe-streaming', dcsUrl: server.url, inletId: INLET, datasetId: 'd', schemaRef: SCHEMA },
      { log: silentLogger, tokens, identity: { clientId: 'client-1', orgId: 'ORG1@AdobeOrg' }, clock: virtualClock() },
    );
    sinks.push(sink);
    await sink.send(makeEvents(1, { prefix: 'early' }));
    now = 3_000_000; // 50 minutes: still fresh
    await sink.send(makeEvents(1, { prefix: 'mid' }));
    now = 3_560_000; // inside the one-minute margin
    await sink.send(makeEvents(1, { prefix: 'late' }));
    const auths = dcsRequests().map((r) => r.headers.authorization);
    expect(auths[0]).toBe(auths[1]);
    expect(auths[2]).not.toBe(auths[1]);
    expect(sink.stats()).toMatchObject({ unauthorized: 0, tokenRefreshes: 1 });
    tokens.close();
  });

  it('fails with an AuthError when a fresh token is refused too', async () => {
    server.enqueue({ status: 401, body: { error_code: '401013', message: 'Oauth token is not valid' } }, { status: 401, body: { error_code: '401013', message: 'Oauth token is not valid' } });
    const error = await makeSink().send(makeEvents(2)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).toMatch(/401 twice to POST http:\/\/127\.0\.0\.1:\d+\/collection\/batch\/a{64}\): Oauth token is not valid/);
    expect(server.requestsTo('/ims/')).toHaveLength(2);
  });

  it('retries when the token it is handed after a 401 was fetched earlier by another request and has expired too', async () => {
    // Tokens in the order the provider hands them out: the second was cached by a concurrent request before this
    // request's 401 (no new fetch), so its refusal says nothing about the credentials.
    const handed = ['expired-one-zz', 'expired-two-zz', 'fresh-three-zz'];
    let fetches = 1;
    let index = 0;
    const tokens = {
      get fetches() {
        return fetches;
      },
      getToken: async () => handed[index]!,
      invalidate: (token?: string) => {
        if (token === handed[index]) index++;
        if (index === 2) fetches++; // only the third token is fetched after the refusals
      },
    };
    server.fallback((req) =>
      req.headers.authorization === 'Bearer fresh-three-zz' ? acceptAll(req) : { status: 401, body: { error_code: '401013', message: 'Oauth token is not valid' } },
    );
    const sink = new AdobeStreamingSink(
      { type: 'adobe-streaming', dcsUrl: server.url, inletId: INLET, datasetId: 'd', schemaRef: SCHEMA },
      { log: silentLogger, tokens, identity: { clientId: 'client-1', orgId: 'ORG1@AdobeOrg' }, clock: virtualClock() },
    );
    sinks.push(sink);
    const deliveries = await sink.send(makeEvents(2));
    expect(deliveries.every((d) => d.kind === 'accepted')).toBe(true);
    expect(dcsRequests().map((r) => r.headers.authorization)).toEqual(['Bearer expired-one-zz', 'Bearer expired-two-zz', 'Bearer fresh-three-zz']);
  });

  it('fails with a FatalError carrying Adobe’s message on 403', async () => {
    server.enqueue({ status: 403, body: { error_code: '403003', message: 'Api Key is invalid' } });
    const error = await makeSink().send(makeEvents(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FatalError);
    expect((error as Error).message).toMatch(/^DCS answered 403 to POST http:\/\/127\.0\.0\.1:\d+\/collection\/batch\/a{64}: Api Key is invalid: code 403003$/);
  });

  it('fails with a FatalError on a whole-request 400 and does not retry it', async () => {
    server.enqueue({ status: 400, body: { type: 'x', status: 400, title: 'Invalid XDM Message Format', report: { message: 'Message has unknown xdm format' } } });
    const error = await makeSink().send(makeEvents(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FatalError);
    expect((error as Error).message).toContain('Invalid XDM Message Format: Message has unknown xdm format');
    expect(dcsRequests()).toHaveLength(1);
  });

  it('never lets the secret or a token into errors or log lines', async () => {
    const { log, lines } = captureLogger();
    server.route('/ims/', () => ({ status: 200, body: { access_token: 'tok-leak-check-123456', expires_in: 86399 } }));
    server.enqueue(
      { status: 503, body: { message: `echo client_secret=${SECRET}` } },
      { status: 401, body: { message: 'Bearer tok-leak-check-123456 expired' } },
      { status: 401, body: { message: `token tok-leak-check-123456 with ${SECRET}` } },
    );
    const sink = makeSink({}, { log });
    const error = await sink.send(makeEvents(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    log.error({ err: error, stats: sink.stats() }, (error as Error).message);
    const everything = lines.join('') + inspect(error, { depth: 10 }) + (error as Error).message;
    expect(lines.length).toBeGreaterThan(1);
    expect(everything).not.toContain(SECRET);
    expect(everything).not.toContain('tok-leak-check-123456');
  });
});

describe('adobe-streaming sink: configuration', () => {
  it('refuses a configuration without any target dataset', () => {
    expect(() => makeSink({ datasetId: undefined, schemaRef: undefined })).toThrow(/no target dataset/);
  });

  it('refuses an authenticated inlet without credentials', () => {
    expect(
      () => new AdobeStreamingSink({ type: 'adobe-streaming', inletId: INLET, datasetId: 'd', schemaRef: SCHEMA }, { log: silentLogger }),
    ).toThrow(/no Adobe credentials/);
  });

  it('sends no token to an unauthenticated inlet', async () => {
    const sink = new AdobeStreamingSink(
      { type: 'adobe-streaming', dcsUrl: server.url, inletId: INLET, datasetId: 'd', schemaRef: SCHEMA, authenticated: false, imsOrgId: 'O@AdobeOrg' },
      { log: silentLogger },
    );
    sinks.push(sink);
    expect(await sink.send(makeEvents(1))).toEqual(accepted(1));
    expect(dcsRequests()[0]!.headers.authorization).toBeUndefined();
    expect(server.requestsTo('/ims/')).toHaveLength(0);
    expect(messagesOf(dcsRequests()[0]!.json)[0]!.header.imsOrgId).toBe('O@AdobeOrg');
  });
});
