import { readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAepLocal, type AepLocal } from '../../src/aep-local/index.js';
import { buildConfig, type Config } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import { runBackfill } from '../../src/ops/backfill.js';
import { AUTO_BATCH_THRESHOLD_BYTES, batchSinkConfig, chooseSink } from '../../src/ops/via.js';
import { tempDir } from '../helpers/temp.js';
import { aepLocalEventTypes, aepLocalAdobeSection } from '../helpers/aep-local-config.js';

const tenantFixture = JSON.parse(readFileSync(new URL('../fixtures/xdm/tenant-schema.xed-full.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const root = tempDir('xdmf-batch-backfill-');
let aep: AepLocal;

beforeAll(async () => {
  // The tenant's datasets use a schema whose feedbackStatus enum lacks "delivered": AEP fails those records.
  aep = await startAepLocal({ tenantSchema: tenantFixture, batchProcessingDelayMs: 1 });
});
afterAll(async () => {
  await aep.close();
});

/** OVO unified feedback records in May 2024; the ones in `delivered` are Delivered (→ "delivered"), the rest Pending (→ "sent"). */
function ovoRecords(count: number, prefix: string, delivered: ReadonlySet<number>): string {
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    lines.push(
      JSON.stringify({
        commId: `${prefix}-${i}`,
        commDescription: 'Payment reminder',
        customer: { customerId: String(100000 + i) },
        status: delivered.has(i) ? 'Delivered' : 'Pending',
        channel: i % 2 ? 'Email' : 'SMS',
        metadata: { eventId: `${prefix}-${i}-feedback`, traceToken: `t-${prefix}-${i}`, createdAt: Date.UTC(2024, 4, 1 + (i % 20), i % 24, i % 60) },
      }),
    );
  }
  return lines.join('\n') + '\n';
}

function configFor(dir: string, input: string, sink: Record<string, unknown>): Config {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'in.ndjson'), input);
  process.env.XDMF_BATCH_TEST_SECRET = aep.credentials.clientSecret;
  return buildConfig(
    {
      state: './state/state.db',
      sources: [{ type: 'ovo-feedback', id: 'ovo', files: ['./in.ndjson'] }],
      adobe: aepLocalAdobeSection(aep, { clientSecretEnv: 'XDMF_BATCH_TEST_SECRET' }),
      sink:
        sink.type === 'file'
          ? sink
          : {
              eventTypes: aepLocalEventTypes(aep),
              ...sink,
            },
    },
    { baseDir: dir },
  );
}

const fastBatch = (dir: string) => ({
  type: 'adobe-batch',
  stagingDir: join(dir, 'staging'),
  lingerMs: 20,
  pollIntervalMs: 5,
  pollMaxIntervalMs: 20,
  partialIngestionPercent: 10,
  maxBatchRecords: 150,
});

const window = { from: new Date('2024-05-01T00:00:00Z'), to: new Date('2024-06-01T00:00:00Z') };

describe('backfill through batch ingestion (the whole pipeline against the local AEP imitation)', () => {
  it('commits the records AEP ingested and dead-letters the failed ones with Adobe\'s validation errors', async () => {
    const dir = join(root, 'partial');
    const delivered = new Set([3, 77, 150, 201, 299]);
    const config = configFor(dir, ovoRecords(300, 'b', delivered), fastBatch(dir));
    const result = await runBackfill(config, { ...window, via: 'batch', log: silentLogger, tty: false });
    expect(result.error).toBeUndefined();
    expect(result.sink).toBe('adobe-batch');
    expect(result.exitCode).toBe(3);
    expect(result.summaries[0]).toMatchObject({ read: 300, sent: 295, deadLettered: { ingest: 5, validate: 0 } });

    const db = new Database(config.state, { readonly: true });
    const ledger = new Set(db.prepare('SELECT id FROM ledger').pluck().all() as string[]);
    const letters = db.prepare("SELECT event_id, stage, reason, errors, raw, stream, position FROM dead_letters ORDER BY id").all() as Array<{
      event_id: string;
      stage: string;
      reason: string;
      errors: string;
      raw: string;
      stream: string;
      position: string;
    }>;
    db.close();
    expect(letters).toHaveLength(5);
    // Their raw input and position waited on disk (the batch sink's verdicts are late) and came back intact.
    const lines = readFileSync(join(dir, 'in.ndjson'), 'utf8').split('\n');
    const lineEnds = lines.map((_, i) => Buffer.byteLength(lines.slice(0, i + 1).join('\n')) + 1);
    expect(letters.map((l) => JSON.parse(l.raw).commId).sort()).toEqual([...delivered].map((i) => `b-${i}`).sort());
    for (const letter of letters) {
      const i = Number(JSON.parse(letter.raw).commId.slice(2));
      expect(letter.raw).toBe(lines[i]);
      expect(letter.stream).toBe(join(dir, 'in.ndjson'));
      expect(JSON.parse(letter.position)).toMatchObject({ offset: lineEnds[i], line: i + 1 });
    }
    for (const letter of letters) {
      expect(letter.stage).toBe('ingest');
      expect(letter.reason).toMatch(/^ingest: AEP batch \S+ rejected the record: \/_experience\/customerJourneyManagement\/messageDeliveryfeedback\/feedbackStatus: must be equal to one of the allowed values/);
      expect(JSON.parse(letter.errors)).toEqual(expect.arrayContaining([expect.stringMatching(/messageDeliveryfeedback\/feedbackStatus: .*\(got "delivered"\)$/)]));
    }
    const accepted = aep.acceptedIds();
    expect(new Set(accepted)).toEqual(ledger);
    expect(accepted).toHaveLength(295);
    expect(aep.stats().duplicates).toBe(0);
    expect(aep.stats().batches.created).toBeGreaterThanOrEqual(2); // 300 records, 150 per group
    expect(readdirSync(join(dir, 'staging'))).toEqual([]);

    // A rerun of the same window sends nothing again.
    const again = await runBackfill(config, { ...window, via: 'batch', log: silentLogger, tty: false });
    expect(again.summaries[0]).toMatchObject({ sent: 0, deadLettered: { ingest: 0 } });
    expect(aep.acceptedIds()).toHaveLength(295);
  });
});

describe('backfill through batch ingestion with few units in flight', () => {
  it('never waits forever on a batch still filling: a quiet spell seals it while the pipeline is blocked', async () => {
    const dir = join(root, 'blocked');
    // 1300 records = three source units of up to 500; only two may be in flight, and a batch could hold them all.
    const config = configFor(dir, ovoRecords(1300, 'q', new Set()), { ...fastBatch(dir), maxBatchRecords: 100_000, maxPendingSends: 2 });
    aep.reset();
    const result = await runBackfill(config, { ...window, via: 'batch', log: silentLogger, tty: false });
    expect(result.error).toBeUndefined();
    expect(result.summaries[0]).toMatchObject({ read: 1300, sent: 1300 });
    expect(new Set(aep.acceptedIds()).size).toBe(1300);
    expect(aep.stats().batches.created).toBeGreaterThanOrEqual(2);
  });
});

describe('backfill through batch ingestion, large', () => {
  it('maps on the main thread: the pace is the batches\', and a mapping thread would only keep more events waiting', async () => {
    const dir = join(root, 'large');
    const config = configFor(dir, ovoRecords(3000, 'l', new Set()), fastBatch(dir));
    aep.reset();
    const lines: string[] = [];
    const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
    const result = await runBackfill(config, { ...window, via: 'batch', log, tty: false });
    expect(result.error).toBeUndefined();
    expect(result.summaries[0]).toMatchObject({ read: 3000, sent: 3000 });
    const finished = lines.map((l) => JSON.parse(l) as { msg?: string; unitsOnMappingThread?: number }).filter((l) => l.msg === 'pipeline finished');
    expect(finished).toHaveLength(1);
    expect(finished[0]!.unitsOnMappingThread).toBe(0);
  });
});

describe('--via', () => {
  const dir = join(root, 'via');
  const streaming = () => configFor(dir, '', { type: 'adobe-streaming', inletId: aep.inletId, dcsUrl: aep.url, flowId: aep.flowId });

  it('derives a batch target from the streaming sink: same datasets, the adobe section\'s Platform URL, staging next to the state', () => {
    const config = streaming();
    const batch = batchSinkConfig(config);
    expect(batch).toEqual({
      type: 'adobe-batch',
      platformUrl: aep.endpoints.platformUrl,
      stagingDir: join(dir, 'state', 'batches'),
      eventTypes: (config.sink as { eventTypes: unknown }).eventTypes,
    });
    expect(chooseSink('batch', config, {})).toEqual(batch);
  });

  it('auto picks batch at the size threshold, streaming below it or when the size is unknown', () => {
    const config = streaming();
    expect(chooseSink('auto', config, { bytes: AUTO_BATCH_THRESHOLD_BYTES })).toMatchObject({ type: 'adobe-batch' });
    expect(chooseSink('auto', config, { bytes: AUTO_BATCH_THRESHOLD_BYTES - 1 })).toBe(config.sink);
    expect(chooseSink('auto', config, {})).toBe(config.sink);
    expect(chooseSink('auto', config, { records: 250_000 })).toMatchObject({ type: 'adobe-batch' });
    expect(chooseSink('auto', config, { bytes: 1000 }, { bytes: 500 })).toMatchObject({ type: 'adobe-batch' });
    expect(chooseSink('streaming', config, { bytes: AUTO_BATCH_THRESHOLD_BYTES * 4 })).toBe(config.sink);
  });

  it('auto and batch use a configured adobe-batch sink whatever the size; streaming refuses it', () => {
    const config = configFor(dir, '', fastBatch(dir));
    expect(chooseSink('auto', config, { bytes: 10 })).toBe(config.sink);
    expect(chooseSink('batch', config, {})).toBe(config.sink);
    expect(() => chooseSink('streaming', config, {})).toThrow(/--via streaming: the configured sink is adobe-batch/);
  });

  it('refuses batch with the fix when no batch target can be derived (a file sink)', () => {
    const config = configFor(dir, '', { type: 'file', path: './out.ndjson' });
    expect(() => chooseSink('batch', config, {})).toThrow(/--via batch: the configured sink is file; set sink.type to adobe-batch/);
    expect(chooseSink('auto', config, { bytes: AUTO_BATCH_THRESHOLD_BYTES * 2 })).toBe(config.sink);
  });
});
