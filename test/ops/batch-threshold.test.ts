// `backfill --batch-threshold`: where `--via auto` switches from streaming to batch ingestion, through the built CLI.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAepLocal } from '../../src/aep-local/index.js';
import type { AepLocal } from '../../src/aep-local/types.js';
import { AUTO_BATCH_THRESHOLD_BYTES, parseBatchThreshold } from '../../src/ops/via.js';
import { ConfigError } from '../../src/errors.js';
import { tempDir } from '../helpers/temp.js';
import { jsonOf, makeCli, ovoRecords } from './cli-harness.js';

const root = tempDir('xdmf-threshold-');
const window = ['backfill', '--from', '2024-05-01', '--to', '2024-06-01'];

interface BackfillJson {
  exitCode: number;
  sink: string;
  estimateBytes?: number;
  summaries: Array<{ read: number; sent: number }>;
}

describe('parseBatchThreshold', () => {
  it('reads bytes and sizes with decimal or binary units, in any case', () => {
    expect(parseBatchThreshold('1')).toBe(1);
    expect(parseBatchThreshold('2048')).toBe(2048);
    expect(parseBatchThreshold('500MB')).toBe(500_000_000);
    expect(parseBatchThreshold('500 mb')).toBe(500_000_000);
    expect(parseBatchThreshold('64MiB')).toBe(AUTO_BATCH_THRESHOLD_BYTES);
    expect(parseBatchThreshold('1.5GiB')).toBe(1.5 * 1024 ** 3);
    expect(parseBatchThreshold('2k')).toBe(2000);
    expect(parseBatchThreshold('1KiB')).toBe(1024);
  });

  it.each(['', '0', '-5', 'lots', '10 apples', '1e9', '0.2'])('refuses %j with a ConfigError that shows what to write', (value) => {
    expect(() => parseBatchThreshold(value)).toThrow(ConfigError);
    expect(() => parseBatchThreshold(value)).toThrow(/--batch-threshold .*: give a size of input, e\.g\. 500MB, 2GiB or a number of bytes/);
  });
});

describe('backfill --batch-threshold through the built CLI', () => {
  let aep: AepLocal;
  beforeAll(async () => {
    aep = await startAepLocal({ batchProcessingDelayMs: 20 });
  });
  afterAll(async () => {
    await aep?.close();
  });

  it('switches --via auto to batch ingestion once the input reaches the threshold, and streams below it', async () => {
    const small = makeCli(join(root, 'below'), aep, ovoRecords(30, { prefix: 'below' }));
    const size = statSync(join(small.dir, 'in.ndjson')).size;

    aep.reset();
    const streamed = await small.run([...window, '--batch-threshold', String(size + 1), '--json']);
    expect(streamed.code, streamed.stderr).toBe(0);
    expect(jsonOf<BackfillJson>(streamed)).toMatchObject({ sink: 'adobe-streaming', estimateBytes: size, summaries: [{ read: 30, sent: 30 }] });
    expect(aep.accepted().every((a) => a.via === 'streaming')).toBe(true);
    expect(aep.accepted()).toHaveLength(30);

    const large = makeCli(join(root, 'at'), aep, ovoRecords(30, { prefix: 'at' }));
    const largeSize = statSync(join(large.dir, 'in.ndjson')).size;
    aep.reset();
    const batched = await large.run([...window, '--batch-threshold', String(largeSize), '--json']);
    expect(batched.code, batched.stderr).toBe(0);
    expect(jsonOf<BackfillJson>(batched)).toMatchObject({ sink: 'adobe-batch', summaries: [{ read: 30, sent: 30 }] });
    expect(aep.accepted()).toHaveLength(30);
    expect(aep.accepted().every((a) => a.via === 'batch')).toBe(true);
    expect(aep.stats().batches.created).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('uses the default threshold (64 MiB) without the flag: a small backfill streams', async () => {
    const cli = makeCli(join(root, 'default'), aep, ovoRecords(10, { prefix: 'default' }));
    aep.reset();
    const run = await cli.run([...window, '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(jsonOf<BackfillJson>(run).sink).toBe('adobe-streaming');
  });

  it('refuses the flag with --via streaming or batch, and a size it cannot read, with exit code 2', async () => {
    const cli = makeCli(join(root, 'refused'), aep, ovoRecords(5, { prefix: 'refused' }));
    aep.reset();
    const withBatch = await cli.run([...window, '--via', 'batch', '--batch-threshold', '1KB', '--json']);
    expect(withBatch.code).toBe(2);
    expect(jsonOf(withBatch)).toEqual({ error: '--batch-threshold only applies to --via auto (you asked for --via batch)', exitCode: 2 });
    const garbled = await cli.run([...window, '--batch-threshold', 'lots']);
    expect(garbled.code).toBe(2);
    expect(garbled.stderr).toMatch(/--batch-threshold lots: give a size of input/);
    expect(aep.accepted()).toHaveLength(0);
  });
});
