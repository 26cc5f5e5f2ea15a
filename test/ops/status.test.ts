import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { buildStatus, openStateReadOnly, parseFileOffset } from '../../src/ops/status.js';
import { renderStatus } from '../../src/ops/status-text.js';
import { acquireLock } from '../../src/ops/lock.js';
import { tempDir } from '../helpers/temp.js';
import { seedState } from './seed.js';

const dir = tempDir('xdmf-status-');

describe('status', () => {
  it('reports runs, lag, ledger counts and open dead letters that agree with the database', async () => {
    const { db, inputFile, runIds } = seedState(dir);
    const ro = openStateReadOnly(join(dir, 'state.db'));
    const report = await buildStatus(ro, 'state.db');

    expect(report.runs.map((r) => r.id)).toEqual([...runIds].reverse());
    expect(report.runs[0]).toMatchObject({ command: 'sync', exitCode: 3, error: 'one event was rejected', counters: { sent: 12 } });
    expect(report.runs[0]!.durationMs).toBeGreaterThanOrEqual(0);

    const fileLag = report.lag.find((l) => l.stream === inputFile)!;
    expect(fileLag.file).toMatchObject({ offset: 600, size: 1000, bytesLeft: 400 });
    expect(fileLag.position).toBe('byte 600, line 12');
    expect(report.lag.find((l) => l.source === 'masstack')).toMatchObject({ stream: 'watermark', position: '2024-03-03T00:00:00Z' });

    const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    expect(report.ledger.total).toBe(count('SELECT count(*) AS n FROM ledger'));
    for (const [status, n] of Object.entries(report.ledger.byStatus)) {
      expect(n).toBe((db.prepare('SELECT count(*) AS n FROM ledger WHERE status = ?').get(status) as { n: number }).n);
    }
    for (const [channel, n] of Object.entries(report.ledger.byChannel)) {
      expect(n).toBe((db.prepare('SELECT count(*) AS n FROM ledger WHERE channel = ?').get(channel) as { n: number }).n);
    }
    expect(Object.values(report.ledger.byStatus).reduce((a, b) => a + b, 0)).toBe(report.ledger.total);
    expect(report.deadLetters.open).toBe(5);
    expect(report.deadLetters.byStage).toEqual({ decode: 1, map: 2, validate: 1, ingest: 1 });
    expect(report.newestSent.ovo).toBe(db.prepare("SELECT max(event_time) AS t FROM ledger WHERE source = 'ovo'").pluck().get());

    const text = renderStatus(report);
    expect(text).toMatch(/open dead letters: 5/);
    expect(text).toMatch(/400 B of 1000 B/);
    expect(text).toMatch(/no run in progress/);
    ro.close();
    db.close();
  });

  it('works read-only while another connection holds a write transaction, and shows the running lock', async () => {
    const { db } = seedState(dir, 'busy.db');
    const lease = await acquireLock(join(dir, 'busy.db'), 'sync');
    db.prepare('BEGIN IMMEDIATE').run();
    db.prepare("INSERT INTO runs (command, started_at) VALUES ('sync', '2024-03-04T00:00:00Z')").run();
    const ro = openStateReadOnly(join(dir, 'busy.db'));
    const report = await buildStatus(ro, 'busy.db');
    expect(report.runs).toHaveLength(2); // the uncommitted run is not visible
    expect(report.running.map((r) => r.name)).toEqual(['sync']);
    expect(renderStatus(report)).toMatch(/sync\s+held by/);
    db.prepare('COMMIT').run();
    ro.close();
    lease.release();
    db.close();
  });

  it('explains a missing state file instead of creating one', () => {
    expect(() => openStateReadOnly(join(dir, 'nope.db'))).toThrow(/no state file at .*nope\.db yet.*run `xdm-feedback sync` first/);
  });

  it('reads byte offsets out of file checkpoints and ignores cursors that are not offsets', () => {
    expect(parseFileOffset('{"fingerprint":{"size":5},"offset":42,"line":3}')).toEqual({ offset: 42, line: 3, fingerprintSize: 5 });
    expect(parseFileOffset('{"fingerprint":{},"offset":7,"row":2}')).toEqual({ offset: 7, row: 2 });
    expect(parseFileOffset('123')).toEqual({ offset: 123 });
    expect(parseFileOffset('2024-03-03T00:00:00Z')).toBeUndefined();
    expect(parseFileOffset('{"partition":0,"kafkaOffset":"12"}')).toBeUndefined();
  });
});
