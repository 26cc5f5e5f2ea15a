import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { emptySummary } from '../../src/core/pipeline.js';
import { createProgress } from '../../src/ops/progress.js';
import { AUTO_BATCH_THRESHOLD_BYTES, chooseSink, parseVia } from '../../src/ops/via.js';
import type { Config } from '../../src/config/load.js';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { log: pino({ level: 'info' }, stream), lines };
}

const summary = (source: string, read: number, sent: number) => Object.assign(emptySummary(1, source, 'file'), { read, sent });
const flush = () => new Promise((r) => setImmediate(r));

describe('backfill progress without a terminal', () => {
  it('logs a progress line at most every interval, with percent and ETA from bytes, and a final line', async () => {
    const { log, lines } = capture();
    let t = 0;
    let bytes = 0;
    const p = createProgress({ log, tty: false, totalBytes: 1000, bytesDone: () => bytes, logEverySeconds: 10, now: () => t });
    t = 5000;
    bytes = 100;
    p.update(summary('a', 50, 50));
    t = 10_000;
    bytes = 250;
    p.update(summary('a', 125, 120));
    t = 12_000;
    p.update(summary('b', 10, 10));
    p.stop();
    await flush();
    expect(lines.map((l) => l.msg)).toEqual(['progress', 'done reading']);
    expect(lines[0]).toMatchObject({ records: 125, sent: 120, percent: 25, etaSeconds: 30, recordsPerSecond: 13 });
    expect(lines[1]).toMatchObject({ records: 135, sent: 130 });
  });

  it('logs records and rate only when the input size is unknown', async () => {
    const { log, lines } = capture();
    let t = 0;
    const p = createProgress({ log, tty: false, logEverySeconds: 1, now: () => t });
    t = 2000;
    p.update(summary('a', 400, 400));
    await flush();
    expect(lines[0]).toEqual(expect.objectContaining({ records: 400, recordsPerSecond: 200 }));
    expect(lines[0]).not.toHaveProperty('etaSeconds');
  });
});

describe('--via', () => {
  const streaming = { sink: { type: 'adobe-streaming', inletId: 'x' } } as unknown as Config;
  const batch = { sink: { type: 'adobe-batch' } } as unknown as Config;

  it('uses the configured streaming sink for streaming and for auto without a batch sink', () => {
    expect(chooseSink('streaming', streaming, {})).toBe(streaming.sink);
    expect(chooseSink('auto', streaming, { bytes: AUTO_BATCH_THRESHOLD_BYTES * 10 })).toBe(streaming.sink);
  });

  it('names the fix when batch is asked for without a batch sink', () => {
    expect(() => chooseSink('batch', streaming, {})).toThrow(/--via batch: the configured sink is adobe-streaming; set sink.type to adobe-batch/);
    expect(chooseSink('batch', batch, {})).toBe(batch.sink);
    expect(() => parseVia('kafka')).toThrow(/--via kafka: use one of auto, streaming, batch/);
  });
});
