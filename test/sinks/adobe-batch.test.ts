import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAepLocal, type AepLocal } from '../../src/aep-local/index.js';
import type { AdobeAuthConfig } from '../../src/adobe/ims.js';
import { AdobeHttpClient, type HttpRequest, type HttpResponse } from '../../src/adobe/http.js';
import type { OutboundEvent, XdmEvent } from '../../src/core/types.js';
import { AuthError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { AdobeBatchSink, resolveBatchConfig, type AdobeBatchConfig } from '../../src/sinks/adobe-batch/index.js';
import { createSink } from '../../src/sinks/index.js';
import { buildConfig } from '../../src/config/load.js';
import { tempDir } from '../helpers/temp.js';
import { virtualClock, type VirtualClock } from './helpers.js';
import { aepLocalEventTypes, aepLocalAuth } from '../helpers/aep-local-config.js';
import { JsonBytes } from '../../src/core/json-bytes.js';

const template = JSON.parse(readFileSync(new URL('../fixtures/xdm/email-hard-bounce.json', import.meta.url), 'utf8')) as XdmEvent;

function outbound(event: XdmEvent): OutboundEvent {
  return { id: event._id, eventType: event.eventType, json: JsonBytes.of(JSON.stringify(event)) };
}

/** Valid events built from the golden fixture, with distinct ids. */
function validEvents(n: number, prefix: string, eventType = 'message.feedback'): OutboundEvent[] {
  return Array.from({ length: n }, (_, i) => outbound({ ...template, _id: `${prefix}-${i}`, eventType } as XdmEvent));
}

/** An event AEP refuses: its timestamp is not a date-time. */
function invalidEvent(id: string): OutboundEvent {
  return outbound({ ...template, _id: id, timestamp: 'yesterday' } as XdmEvent);
}

const root = tempDir('xdmf-batch-');
let aep: AepLocal;
let dirCount = 0;
const sinks: AdobeBatchSink[] = [];

beforeAll(async () => {
  aep = await startAepLocal({ batchProcessingDelayMs: 1 });
});
afterAll(async () => {
  await aep.close();
});
afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close();
  aep.reset();
});

const auth = (): AdobeAuthConfig => aepLocalAuth(aep);

interface MakeOptions {
  clock?: VirtualClock;
  http?: AdobeHttpClient;
  stagingDir?: string;
}

function makeSink(overrides: Partial<AdobeBatchConfig> = {}, options: MakeOptions = {}): AdobeBatchSink {
  const sink = new AdobeBatchSink(
    {
      type: 'adobe-batch',
      platformUrl: aep.endpoints.platformUrl,
      eventTypes: aepLocalEventTypes(aep),
      stagingDir: options.stagingDir ?? join(root, `staging-${dirCount++}`),
      lingerMs: 20,
      pollIntervalMs: 5,
      pollMaxIntervalMs: 20,
      backoffBaseMs: 50,
      backoffMaxMs: 1000,
      requestTimeoutMs: 5000,
      ...overrides,
    },
    { log: silentLogger, auth: auth(), ...(options.clock ? { clock: options.clock } : {}), ...(options.http ? { http: options.http } : {}) },
  );
  sinks.push(sink);
  return sink;
}

/** Sends units the way the pipeline does (several in flight), then finishes the sink. */
async function sendAll(sink: AdobeBatchSink, units: OutboundEvent[][]) {
  const results = await Promise.all(units.map((u) => sink.send(u)));
  await sink.finish();
  return results;
}

const requests = (route: string) => Object.values(aep.stats().requests[route] ?? {}).reduce((a, b) => a + b, 0);

describe('adobe-batch sink against the local AEP imitation', () => {
  it('stages events as JSON Lines, one batch per dataset, and accepts them once the batches succeed', async () => {
    const sink = makeSink();
    const units = [validEvents(40, 'fb'), validEvents(15, 'tr', 'message.tracking'), validEvents(30, 'fb2')];
    const results = await sendAll(sink, units);
    expect(results.flat().every((r) => r.kind === 'accepted')).toBe(true);
    expect(aep.acceptedIds().sort()).toEqual(units.flat().map((e) => e.id).sort());
    expect(aep.accepted().every((a) => a.via === 'batch')).toBe(true);
    const datasetOf = new Map(aep.accepted().map((a) => [a.event['_id'] as string, a.datasetId]));
    expect(datasetOf.get('fb-0')).toBe(aep.datasets[0]!.id);
    expect(datasetOf.get('tr-0')).toBe(aep.datasets[1]!.id);
    expect(aep.stats().batches).toMatchObject({ created: 2, success: 2, failed: 0 });
    expect(sink.stats()).toMatchObject({ groups: 1, batches: 2, records: 85, accepted: 85, rejected: 0 });
  });

  it('seals a batch at the record limit and keeps filling the next one while the first is ingested', async () => {
    const sink = makeSink({ maxBatchRecords: 50 });
    const units = Array.from({ length: 6 }, (_, i) => validEvents(25, `u${i}`));
    const results = await sendAll(sink, units);
    expect(results.flat().every((r) => r.kind === 'accepted')).toBe(true);
    expect(aep.stats().batches.created).toBe(3);
    expect(new Set(aep.acceptedIds()).size).toBe(150);
    expect(aep.stats().duplicates).toBe(0);
  });

  it('dead-letters the records AEP failed with their _validationErrors and accepts the rest (partial ingestion)', async () => {
    const sink = makeSink({ partialIngestionPercent: 20 });
    const events = validEvents(20, 'p');
    events[3] = invalidEvent('p-bad-1');
    events[11] = invalidEvent('p-bad-2');
    const [results] = await sendAll(sink, [events]);
    const rejected = results!.flatMap((r, i) => (r.kind === 'rejected' ? [[events[i]!.id, r] as const] : []));
    expect(rejected.map(([id]) => id)).toEqual(['p-bad-1', 'p-bad-2']);
    const [, verdict] = rejected[0]!;
    expect(verdict).toMatchObject({
      kind: 'rejected',
      reason: expect.stringMatching(/^ingest: AEP batch [0-9A-Z]{26} rejected the record: \/timestamp: must match format "date-time"/),
      errors: ['/timestamp: must match format "date-time" (got "yesterday")'],
    });
    expect(aep.acceptedIds()).toHaveLength(18);
    expect(aep.acceptedIds()).not.toContain('p-bad-1');
  });

  it('rejects every event with the batch errors when the whole batch fails', async () => {
    const sink = makeSink({ partialIngestionPercent: 0 });
    const events = [...validEvents(5, 'w'), invalidEvent('w-bad')];
    const [results] = await sendAll(sink, [events]);
    expect(results!.every((r) => r.kind === 'rejected')).toBe(true);
    expect(results![0]).toMatchObject({
      reason: expect.stringMatching(/^ingest: AEP batch \S+ failed, so this record was not ingested: failed: INGEST-1212-400: Encountered 1 errors/),
      errors: [expect.stringMatching(/^INGEST-1212-400: Encountered 1 errors in the data, more than the partial ingestion threshold/)],
    });
    expect(results![5]).toMatchObject({ reason: expect.stringContaining('rejected the record: /timestamp: must match format'), errors: expect.arrayContaining([expect.stringMatching(/^INGEST-1212-400/)]) });
    expect(aep.acceptedIds()).toEqual([]);
  });

  it('uploads files above maxPutBytes in chunks (INITIALIZE, PATCH with Content-Range, COMPLETE) and rotates part files', async () => {
    const sink = makeSink({ maxPutBytes: 6000, chunkBytes: 2500, maxFileBytes: 20_000 });
    const events = validEvents(60, 'big');
    const [results] = await sendAll(sink, [events]);
    expect(results!.every((r) => r.kind === 'accepted')).toBe(true);
    expect(aep.acceptedIds().sort()).toEqual(events.map((e) => e.id).sort());
    const fileCalls = aep.stats().requests['import.file'] ?? {};
    // Several part files, each chunked: many PATCHes (200), INITIALIZE and file COMPLETE (201).
    expect(fileCalls['200']).toBeGreaterThan(10);
    expect(fileCalls['201']).toBeGreaterThanOrEqual(4);
    expect(aep.stats().batches.created).toBe(1);
  });

  it('retries 429, 5xx and resets on every batch step (create, upload, complete, Catalog, Data Access)', async () => {
    const clock = virtualClock();
    const sink = makeSink({ partialIngestionPercent: 50 }, { clock });
    aep.setFaults({ routes: ['import', 'catalog', 'export'], script: ['429:3', '503', 'reset', '500', '502', 'ok', '504', '429', 'ok', '503', 'ok', 'reset', 'ok', '500'] });
    const events = [...validEvents(10, 'r'), invalidEvent('r-bad')];
    const [results] = await sendAll(sink, [events]);
    expect(results!.filter((r) => r.kind === 'accepted')).toHaveLength(10);
    expect(results![10]).toMatchObject({ kind: 'rejected', reason: expect.stringContaining('/timestamp') });
    expect(aep.acceptedIds()).toHaveLength(10);
    expect(aep.stats().batches.created).toBe(1);
    const stats = sink.stats();
    expect(stats.retries).toBeGreaterThanOrEqual(10);
    expect(stats.throttled).toBeGreaterThanOrEqual(2);
    expect(clock.sleeps.some((ms) => ms >= 3000)).toBe(true); // Retry-After honoured
  });

  it('dead-letters the events with a stage-ingest reason when AEP stays unavailable past the deadline', async () => {
    const clock = virtualClock();
    const sink = makeSink({ retryDeadlineMs: 20_000 }, { clock });
    aep.setFaults({ routes: ['import'], share5xx: 1, statuses5xx: [503] });
    const [results] = await sendAll(sink, [validEvents(3, 'down')]);
    expect(results).toEqual(
      Array.from({ length: 3 }, () => ({ kind: 'rejected', reason: expect.stringMatching(/^ingest: the batch failed, so this record was not ingested: could not create a batch: create batch: gave up after \d+ attempts/) })),
    );
  });

  it('calls no event of a partly failed batch accepted when its failed records cannot be read, and says why', async () => {
    const clock = virtualClock();
    const sink = makeSink({ partialIngestionPercent: 50, retryDeadlineMs: 10_000 }, { clock });
    aep.setFaults({ routes: ['export'], share5xx: 1, statuses5xx: [503] });
    const events = [...validEvents(4, 'da'), invalidEvent('da-bad')];
    const [results] = await sendAll(sink, [events]);
    expect(aep.acceptedIds()).toHaveLength(4); // AEP did ingest the valid ones
    expect(results!.every((r) => r.kind === 'rejected')).toBe(true);
    expect(results![0]).toMatchObject({ reason: expect.stringContaining('1 failed records could not be tied to their events') });
  });

  it('rejects events whose eventType has no dataset, without failing the others', async () => {
    const sink = makeSink();
    const events = [...validEvents(2, 'ok'), ...validEvents(1, 'odd', 'message.other')];
    const [results] = await sendAll(sink, [events]);
    expect(results!.map((r) => r.kind)).toEqual(['accepted', 'accepted', 'rejected']);
    expect(results![2]).toMatchObject({ reason: expect.stringContaining('no dataset is configured for eventType message.other') });
  });

  it('fails the run with a clear message when the token is refused twice', async () => {
    const sink = makeSink();
    aep.setFaults({ routes: ['import'], script: ['401', '401'] });
    await expect(sink.send(validEvents(1, 'auth'))).rejects.toThrow(AuthError);
  });

  it('removes its staging files after a clean run', async () => {
    const stagingDir = join(root, 'clean');
    const sink = makeSink({}, { stagingDir });
    await sendAll(sink, [validEvents(5, 'c')]);
    expect(readdirSync(stagingDir)).toHaveLength(1);
    await sink.close();
    expect(readdirSync(stagingDir)).toEqual([]);
  });
});

/** An HTTP client that "crashes the process" at a chosen request: it aborts and never answers it. */
class CrashingHttp extends AdobeHttpClient {
  readonly crashed = new AbortController();
  constructor(private readonly crashAt: (req: HttpRequest) => boolean) {
    super({ requestTimeoutMs: 5000 });
  }
  override async request(req: HttpRequest): Promise<HttpResponse> {
    if (this.crashed.signal.aborted || this.crashAt(req)) {
      this.crashed.abort();
      // Never answered; only the sink's own shutdown (close) ends the wait.
      return new Promise<HttpResponse>((_, reject) => req.signal?.addEventListener('abort', () => reject(req.signal?.reason), { once: true }));
    }
    return super.request(req);
  }
}

describe('adobe-batch sink after a crash', () => {
  const crashAndRerun = async (crashAt: (req: HttpRequest) => boolean) => {
    const stagingDir = join(root, `crash-${dirCount++}`);
    const events = validEvents(30, `k${dirCount}`);
    const http = new CrashingHttp(crashAt);
    const first = makeSink({}, { stagingDir, http });
    const lost = first.send(events);
    lost.catch(() => undefined);
    await new Promise<void>((resolve) => http.crashed.signal.addEventListener('abort', () => resolve(), { once: true }));
    // The process is gone: nothing is closed, nothing cleaned up. The rerun reads the same records again.
    const batchesBefore = aep.stats().batches.created;
    const second = makeSink({}, { stagingDir });
    const [results] = await sendAll(second, [events]);
    await second.close();
    http.close();
    return { events, results: results!, batchesBefore, stagingDir };
  };

  it('resumes the same batch when the crash came between create and complete: no duplicates in AEP', async () => {
    const { events, results, batchesBefore, stagingDir } = await crashAndRerun((req) => req.method === 'POST' && /\/batches\/[^/]+\?action=COMPLETE$/.test(req.url));
    expect(results.every((r) => r.kind === 'accepted')).toBe(true);
    expect(batchesBefore).toBe(1);
    expect(aep.stats().batches.created).toBe(1); // the same batch was completed, no new one created
    const ids = aep.acceptedIds();
    expect(ids.sort()).toEqual(events.map((e) => e.id).sort());
    expect(aep.stats().duplicates).toBe(0);
    expect(readdirSync(stagingDir)).toEqual([]);
  });

  it('answers from the earlier batch when the crash came after complete, before the verdicts were committed', async () => {
    const { events, results } = await crashAndRerun((req) => req.method === 'GET' && req.url.includes('/catalog/batches/'));
    expect(results.every((r) => r.kind === 'accepted')).toBe(true);
    expect(aep.stats().batches.created).toBe(1);
    expect(aep.acceptedIds().sort()).toEqual(events.map((e) => e.id).sort());
    expect(aep.stats().duplicates).toBe(0);
  });

  it('leaves alone the groups of another live process sharing the staging folder, and takes over those of a dead one', async () => {
    const stagingDir = join(root, `shared-${dirCount++}`);
    const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)'], { stdio: 'ignore' });
    const dead = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
    await new Promise((resolve) => dead.on('exit', resolve));
    try {
      const groupOf = (name: string, pid: number) => {
        const dir = join(stagingDir, name);
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(dir, 'owner.json'), JSON.stringify({ pid, host: hostname() }));
        return dir;
      };
      const mine = groupOf('g-20240101T000000000Z-aaaaaa', live.pid!);
      const orphan = groupOf('g-20240101T000000000Z-bbbbbb', dead.pid!);
      const sink = makeSink({}, { stagingDir });
      await sendAll(sink, [validEvents(2, 'own')]);
      expect(existsSync(mine)).toBe(true); // still filling in the other process
      expect(existsSync(orphan)).toBe(false); // never sealed by a process that is gone: removed
    } finally {
      live.kill();
    }
  });

  it('finishes a compaction a kill interrupted: no staged record is left in a group this run never claims', async () => {
    // A group whose verdicts an earlier run committed stays as its outcome and _id list (no record content). A kill
    // while the part files were being replaced by that list left them (personal data) behind, in two windows.
    for (const window of ['before ids.json was in place', 'before the part files were removed'] as const) {
      const stagingDir = join(root, `compaction-${dirCount++}`);
      const http = new CrashingHttp((req) => req.method === 'GET' && req.url.includes('/catalog/batches/'));
      makeSink({}, { stagingDir, http }).send(validEvents(5, 'cmp')).catch(() => undefined);
      await new Promise<void>((resolve) => http.crashed.signal.addEventListener('abort', () => resolve(), { once: true }));
      http.close();
      const [group] = readdirSync(stagingDir);
      const groupDir = join(stagingDir, group!);
      const partsCopy = join(root, `compaction-parts-${dirCount++}`);
      cpSync(groupDir, partsCopy, { recursive: true });
      // A rerun that meets none of the events finishes the batch and compacts the group …
      await makeSink({}, { stagingDir }).finish();
      expect(readdirSync(groupDir).sort()).toEqual(['group.json', 'ids.json', 'owner.json']);
      // … and the kill came in the middle of that compaction:
      for (const entry of readdirSync(partsCopy)) if (!entry.endsWith('.json')) cpSync(join(partsCopy, entry), join(groupDir, entry), { recursive: true });
      if (window === 'before ids.json was in place') renameSync(join(groupDir, 'ids.json'), join(groupDir, 'ids.json.tmp'));
      await makeSink({}, { stagingDir }).finish();
      expect(readdirSync(groupDir).sort(), window).toEqual(['group.json', 'ids.json', 'owner.json']);
    }
  });

  it('stages the files in a new batch when Catalog no longer knows the earlier one', async () => {
    const stagingDir = join(root, `gone-${dirCount++}`);
    const events = validEvents(10, 'gone');
    const http = new CrashingHttp((req) => req.method === 'PUT');
    const first = makeSink({}, { stagingDir, http });
    first.send(events).catch(() => undefined);
    await new Promise<void>((resolve) => http.crashed.signal.addEventListener('abort', () => resolve(), { once: true }));
    aep.reset(); // the batch is forgotten (as an abandoned batch would be)
    const second = makeSink({}, { stagingDir });
    const [results] = await sendAll(second, [events]);
    expect(results!.every((r) => r.kind === 'accepted')).toBe(true);
    expect(aep.stats().batches.created).toBe(1);
    expect(aep.acceptedIds().sort()).toEqual(events.map((e) => e.id).sort());
    http.close();
  });

  it('starts afresh when the crash came before any batch was created', async () => {
    const { events, results, batchesBefore, stagingDir } = await crashAndRerun((req) => req.method === 'POST' && req.url.endsWith('/import/batches'));
    expect(batchesBefore).toBe(0);
    expect(results.every((r) => r.kind === 'accepted')).toBe(true);
    expect(aep.stats().batches.created).toBe(1);
    expect(new Set(aep.acceptedIds()).size).toBe(events.length);
    expect(existsSync(stagingDir) && readdirSync(stagingDir)).toEqual([]);
  });
});

describe('adobe-batch configuration', () => {
  it('names the key and the fix when no dataset is configured or a size is above Adobe\'s limits', () => {
    expect(() => resolveBatchConfig({ type: 'adobe-batch' })).toThrow(/sink: no target dataset; set datasetId, or eventTypes\["message.feedback"\].datasetId/);
    expect(() => resolveBatchConfig({ type: 'adobe-batch', datasetId: 'd', maxPutBytes: 300 * 1024 * 1024 })).toThrow(/sink.maxPutBytes: .* above Adobe's 256 MB upload limit/);
    expect(() => resolveBatchConfig({ type: 'adobe-batch', datasetId: 'd', chunkBytes: 600_000_000 })).toThrow(/sink.chunkBytes/);
  });

  it('takes the Platform URL from the adobe section and sizes the units in flight from the batch size', () => {
    const resolved = resolveBatchConfig({ type: 'adobe-batch', datasetId: 'd' }, 'https://platform-stage.adobe.io/');
    expect(resolved).toMatchObject({ platformUrl: 'https://platform-stage.adobe.io', maxBatchRecords: 25_000, maxConcurrentBatches: 2, maxPendingSends: 151, partialIngestionPercent: 5 });
    expect(resolveBatchConfig({ type: 'adobe-batch', datasetId: 'd' }).platformUrl).toBe('https://platform.adobe.io');
  });

  it('is registered: createSink builds it and the config loader validates its section', () => {
    const sink = createSink({ type: 'adobe-batch', datasetId: 'd', stagingDir: join(root, 'registered') }, { log: silentLogger, auth: auth() });
    expect(sink.name).toBe('adobe-batch');
    sinks.push(sink as AdobeBatchSink);
    process.env.XDMF_BATCH_CFG_SECRET = 'x';
    const base = { sources: [{ type: 'ovo-feedback', files: ['./in.ndjson'] }], adobe: { clientId: 'c', orgId: 'O@AdobeOrg', clientSecretEnv: 'XDMF_BATCH_CFG_SECRET' } };
    expect(() => buildConfig({ ...base, sink: { type: 'adobe-batch', datasetId: 'd', maxBatchRecord: 5 } }, { baseDir: root })).toThrow(/sink: unknown key "maxBatchRecord"/);
    expect(buildConfig({ ...base, sink: { type: 'adobe-batch', datasetId: 'd' } }, { baseDir: root }).sink.type).toBe('adobe-batch');
  });
});
