// Part files go up streamed from disk (never read whole), every retry sends the whole file (or chunk) again, and a
// send waiting for its batch holds none of its events: real files, real loopback HTTP, the local AEP imitation.
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAepLocal, type AepLocal } from '../../src/aep-local/index.js';
import { AdobeHttpClient } from '../../src/adobe/http.js';
import type { OutboundEvent, XdmEvent } from '../../src/core/types.js';
import { FatalError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { AdobeBatchSink, type AdobeBatchConfig } from '../../src/sinks/adobe-batch/index.js';
import { aepLocalAuth, aepLocalEventTypes } from '../helpers/aep-local-config.js';
import { startRecordingProxy, type RecordedExchange, type RecordingProxy } from '../helpers/recording-proxy.js';
import { tempDir } from '../helpers/temp.js';
import { virtualClock, type VirtualClock } from './helpers.js';
import { JsonBytes } from '../../src/core/json-bytes.js';

const template = JSON.parse(readFileSync(new URL('../fixtures/xdm/email-hard-bounce.json', import.meta.url), 'utf8')) as XdmEvent;

/** Valid events from the golden fixture with distinct ids; `pad` lengthens each (in the bounce reason). */
function makeEvents(n: number, { prefix, pad }: { prefix: string; pad: number }): OutboundEvent[] {
  const reason = `550 5.1.1 mailbox unknown ${'x'.repeat(pad)}`;
  return Array.from({ length: n }, (_, i) => {
    const event = structuredClone(template) as XdmEvent & { _experience: { customerJourneyManagement: { messageDeliveryfeedback: { messageFailure: { reason: string } } } } };
    event._id = `${prefix}-${i}`;
    event._experience.customerJourneyManagement.messageDeliveryfeedback.messageFailure.reason = reason;
    return { id: event._id, eventType: event.eventType, json: JsonBytes.of(JSON.stringify(event)) };
  });
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const root = tempDir('xdmf-batch-upload-');
let aep: AepLocal;
let proxy: RecordingProxy;
let dirCount = 0;
const sinks: AdobeBatchSink[] = [];

beforeAll(async () => {
  aep = await startAepLocal({ batchProcessingDelayMs: 1 });
  proxy = await startRecordingProxy(aep.endpoints.platformUrl);
});
afterAll(async () => {
  await proxy.close();
  await aep.close();
});
afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close();
  aep.reset();
  proxy.exchanges.length = 0;
});

/** A sink whose Platform calls go through the recording proxy (IMS straight to the imitation). */
function makeSink(overrides: Partial<AdobeBatchConfig> = {}, clock?: VirtualClock): AdobeBatchSink {
  const sink = new AdobeBatchSink(
    {
      type: 'adobe-batch',
      platformUrl: proxy.url,
      eventTypes: aepLocalEventTypes(aep),
      stagingDir: join(root, `staging-${dirCount++}`),
      lingerMs: 20,
      pollIntervalMs: 5,
      pollMaxIntervalMs: 20,
      backoffBaseMs: 50,
      backoffMaxMs: 1000,
      requestTimeoutMs: 10_000,
      ...overrides,
    },
    { log: silentLogger, auth: aepLocalAuth(aep), ...(clock ? { clock } : {}) },
  );
  sinks.push(sink);
  return sink;
}

/** What the part file of these events holds: their JSON Lines, in order. */
const partBytes = (events: OutboundEvent[]) => Buffer.from(events.map((e) => `${e.json}\n`).join(''));
const fileExchanges = (method: string) => proxy.exchanges.filter((x) => x.method === method && /\/files\/part-\d+\.json$/.test(x.url.split('?')[0]!));

/** A loopback server that keeps every request body and answers `status` (read first unless `early`). */
async function bodyServer(status: number, early = false) {
  const seen: Array<{ headers: http.IncomingHttpHeaders; body: Buffer }> = [];
  const server = http.createServer((req, res) => {
    if (early) {
      res.writeHead(status, { connection: 'close' }).end();
      req.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/upload`;
  return { url, seen, close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))) };
}

const openFds = () => readdirSync('/proc/self/fd').length;

describe('HTTP client: a file body', () => {
  it('streams a region of a file with its Content-Length (not chunked) and it arrives byte for byte', async () => {
    const path = join(root, 'region.bin');
    const data = randomBytes(3_000_000);
    writeFileSync(path, data);
    const server = await bodyServer(200);
    const client = new AdobeHttpClient({ proxy: 'none' });
    try {
      const res = await client.request({ method: 'PUT', url: server.url, body: { kind: 'file', path, start: 1000, length: 2_000_000 } });
      expect(res.status).toBe(200);
      expect(server.seen).toHaveLength(1);
      expect(server.seen[0]!.headers['content-length']).toBe('2000000');
      expect(server.seen[0]!.headers['transfer-encoding']).toBeUndefined();
      expect(server.seen[0]!.body.equals(data.subarray(1000, 2_001_000))).toBe(true);
      // A second call of the same request opens the file again: nothing was consumed by the first.
      await client.request({ method: 'PUT', url: server.url, body: { kind: 'file', path, length: data.length } });
      expect(server.seen[1]!.body.equals(data)).toBe(true);
    } finally {
      client.close();
      await server.close();
    }
  });

  it('refuses a missing or shortened file with a readable error before sending anything', async () => {
    const path = join(root, 'short.bin');
    writeFileSync(path, 'x'.repeat(100));
    const server = await bodyServer(200);
    const client = new AdobeHttpClient({ proxy: 'none' });
    try {
      const missing = client.request({ method: 'PUT', url: server.url, body: { kind: 'file', path: join(root, 'nope.bin'), length: 10 } });
      await expect(missing).rejects.toBeInstanceOf(FatalError);
      await expect(missing).rejects.toThrow(/cannot read the file to upload/);
      await expect(client.request({ method: 'PUT', url: server.url, body: { kind: 'file', path, start: 50, length: 80 } })).rejects.toThrow(
        /holds 100 bytes, fewer than the 130 expected/,
      );
      expect(server.seen).toHaveLength(0);
      // An empty region is an empty body, not an error.
      expect((await client.request({ method: 'PUT', url: server.url, body: { kind: 'file', path, length: 0 } })).status).toBe(200);
      expect(server.seen[0]!.headers['content-length']).toBe('0');
    } finally {
      client.close();
      await server.close();
    }
  });

  it.skipIf(!existsSync('/proc/self/fd'))('closes the file when the server answers before reading the body', async () => {
    const path = join(root, 'early.bin');
    writeFileSync(path, randomBytes(8_000_000));
    const server = await bodyServer(413, true);
    const client = new AdobeHttpClient({ proxy: 'none' });
    try {
      const before = openFds();
      for (let i = 0; i < 5; i++) {
        await client.request({ method: 'PUT', url: server.url, body: { kind: 'file', path, length: 8_000_000 } }).then(
          (res) => expect(res.status).toBe(413),
          (error: unknown) => expect(String(error)).toMatch(/EPIPE|ECONNRESET|socket hang up|aborted/i),
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      client.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(openFds()).toBeLessThanOrEqual(before);
    } finally {
      client.close();
      await server.close();
    }
  });
});

describe('adobe-batch uploads against the local AEP imitation', () => {
  it('uploads a part file of several MB in one streamed PUT that carries the whole file', async () => {
    const sink = makeSink();
    const events = makeEvents(3000, { prefix: 'big', pad: 1500 });
    const results = await sink.send(events);
    await sink.finish();
    expect(results.every((r) => r.kind === 'accepted')).toBe(true);
    expect(new Set(aep.acceptedIds())).toEqual(new Set(events.map((e) => e.id)));
    const puts = fileExchanges('PUT');
    expect(puts).toHaveLength(1);
    const expected = partBytes(events);
    expect(expected.length).toBeGreaterThan(4_500_000);
    expect(puts[0]!.headers['content-length']).toBe(String(expected.length));
    expect(puts[0]!.body.equals(expected)).toBe(true);
  });

  it('sends the whole file again when its upload is answered 503', async () => {
    const clock = virtualClock();
    const sink = makeSink({}, clock);
    // Create batch: ok; the upload: 503, then ok.
    aep.setFaults({ routes: ['import'], script: ['ok', '503'] });
    const events = makeEvents(400, { prefix: 'retry', pad: 300 });
    const results = await sink.send(events);
    await sink.finish();
    expect(results.every((r) => r.kind === 'accepted')).toBe(true);
    const puts = fileExchanges('PUT');
    expect(puts.map((x) => x.status)).toEqual([503, 201]); // the refused PUT stored nothing: the retry creates the file
    const expected = partBytes(events);
    for (const put of puts) expect(put.body.equals(expected)).toBe(true);
    expect(aep.acceptedIds()).toHaveLength(400);
    expect(aep.stats().duplicates).toBe(0);
    expect(sink.stats().retries).toBeGreaterThanOrEqual(1);
  });

  it('streams each chunk of a large file from its offset and resends only the chunk that failed', async () => {
    const clock = virtualClock();
    const sink = makeSink({ maxPutBytes: 50_000, chunkBytes: 40_000 }, clock);
    // Create batch, HEAD, INITIALIZE: ok; the first PATCH: 500; then everything ok.
    aep.setFaults({ routes: ['import'], script: ['ok', 'ok', 'ok', '500'] });
    const events = makeEvents(300, { prefix: 'chunk', pad: 400 });
    const results = await sink.send(events);
    await sink.finish();
    expect(results.every((r) => r.kind === 'accepted')).toBe(true);
    const expected = partBytes(events);
    const patches = fileExchanges('PATCH');
    const range = (x: RecordedExchange) => /bytes (\d+)-(\d+)/.exec(String(x.headers['content-range']))!.slice(1).map(Number) as [number, number];
    expect(patches.filter((x) => x.status === 500)).toHaveLength(1);
    const failed = patches.find((x) => x.status === 500)!;
    const retried = patches.filter((x) => x.status === 200 && range(x)[0] === range(failed)[0]);
    expect(retried).toHaveLength(1);
    expect(retried[0]!.body.equals(failed.body)).toBe(true);
    const ok = patches.filter((x) => x.status === 200).sort((a, b) => range(a)[0] - range(b)[0]);
    for (const x of ok) {
      const [start, end] = range(x);
      expect(x.body.equals(expected.subarray(start, end + 1))).toBe(true);
    }
    expect(Buffer.concat(ok.map((x) => x.body)).equals(expected)).toBe(true);
    expect(aep.acceptedIds()).toHaveLength(300);
  });
});

describe('adobe-batch sink memory', () => {
  it('holds neither the events nor their JSON text of a send that waits for its batch', async () => {
    const sink = makeSink({ lingerMs: 60_000, maxBatchRecords: 100_000 });
    const refs: Array<WeakRef<object>> = [];
    const pending = (() => {
      const events = makeEvents(500, { prefix: 'held', pad: 2000 });
      refs.push(new WeakRef(events), ...events.map((e) => new WeakRef(e)));
      return sink.send(events);
    })();
    let settled = false;
    void pending.then(() => (settled = true));
    // Let the send stage its events (the group stays open: no linger, far from the record limit).
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    gc();
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    expect(settled).toBe(false);
    expect(refs.filter((r) => r.deref() !== undefined)).toHaveLength(0);
    await sink.finish();
    const results = await pending;
    expect(results).toHaveLength(500);
    expect(results.every((r) => r.kind === 'accepted')).toBe(true);
  });
});
