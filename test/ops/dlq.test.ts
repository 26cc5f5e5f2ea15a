import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'csv-parse/sync';
import { countDeadLetters, exportDeadLetters, getDeadLetter, listDeadLetters, parseStage, pruneState } from '../../src/ops/dlq.js';
import { tempDir } from '../helpers/temp.js';
import { seedState } from './seed.js';

const dir = tempDir('xdmf-dlq-');

describe('dead-letter operations', () => {
  it('filters by stage, source, reason and run', () => {
    const { db, runIds } = seedState(dir, 'filters.db');
    expect(listDeadLetters(db).map((d) => d.stage)).toEqual(['map', 'map', 'validate', 'decode', 'ingest']);
    expect(listDeadLetters(db, { stage: 'map' })).toHaveLength(2);
    expect(listDeadLetters(db, { source: 'masstack' }).map((d) => d.stage)).toEqual(['ingest']);
    expect(listDeadLetters(db, { reason: 'weird2' }).map((d) => d.raw)).toEqual(['{"status":"Weird2"}']);
    expect(listDeadLetters(db, { reason: '100%_' })).toHaveLength(0); // LIKE wildcards in the text are literal
    expect(listDeadLetters(db, { runId: runIds[1]! })).toHaveLength(1);
    expect(listDeadLetters(db, { limit: 2 })).toHaveLength(2);
    expect(countDeadLetters(db, { stage: 'map' })).toBe(2);
    expect(() => parseStage('mapping')).toThrow(/--stage mapping: use one of decode, map, validate, ingest/);
    db.close();
  });

  it('hides replayed dead letters unless asked, and shows one in full', () => {
    const { db } = seedState(dir, 'show.db');
    const first = listDeadLetters(db)[0]!;
    db.prepare('UPDATE dead_letters SET replayed_at = ?, replay_run_id = 9 WHERE id = ?').run('2024-03-05T00:00:00.000Z', first.id);
    expect(listDeadLetters(db).map((d) => d.id)).not.toContain(first.id);
    expect(listDeadLetters(db, { includeReplayed: true }).map((d) => d.id)).toContain(first.id);
    const validate = listDeadLetters(db, { stage: 'validate' })[0]!;
    expect(getDeadLetter(db, validate.id)).toMatchObject({ stage: 'validate', errors: ['/timestamp: must match format "date-time"'] });
    expect(getDeadLetter(db, first.id)).toMatchObject({ replayRunId: 9 });
    expect(getDeadLetter(db, 99999)).toBeUndefined();
    db.close();
  });

  it('exports NDJSON and CSV that read back to the same rows, raw input included', async () => {
    const { db } = seedState(dir, 'export.db');
    const rows = listDeadLetters(db);
    const ndjson = join(dir, 'dl.ndjson');
    expect(await exportDeadLetters(db, {}, 'ndjson', ndjson)).toBe(5);
    const back = readFileSync(ndjson, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(back).toEqual(rows);

    const csv = join(dir, 'dl.csv');
    expect(await exportDeadLetters(db, { stage: 'decode' }, 'csv', csv)).toBe(1);
    const records = parse(readFileSync(csv, 'utf8'), { columns: true }) as Array<Record<string, string>>;
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ stage: 'decode', raw: 'not json, "quoted"', reason: 'line 7: Unexpected token', replayedAt: '' });

    expect(await exportDeadLetters(db, { limit: 3 }, 'ndjson', ndjson)).toBe(3);
    db.close();
  });

  it('prunes only replayed dead letters past the cutoff unless told to include open ones, and ledger/history by age', () => {
    const { db } = seedState(dir, 'prune.db');
    const ids = listDeadLetters(db).map((d) => d.id);
    db.prepare("UPDATE dead_letters SET created_at = '2020-01-01T00:00:00.000Z'").run();
    db.prepare("UPDATE dead_letters SET replayed_at = '2020-01-02T00:00:00.000Z' WHERE id IN (?, ?)").run(ids[0], ids[1]);
    db.prepare("UPDATE ledger SET sent_at = '2020-01-01T00:00:00.000Z' WHERE source = 'masstack'").run();

    const dry = pruneState(db, { deadLettersOlderThanDays: 30, ledgerOlderThanDays: 30, dryRun: true });
    expect(dry).toMatchObject({ deadLetters: 2, ledger: 12, dryRun: true });
    expect(countDeadLetters(db, { includeReplayed: true })).toBe(5);

    const done = pruneState(db, { deadLettersOlderThanDays: 30, ledgerOlderThanDays: 30 });
    expect(done).toMatchObject({ deadLetters: 2, ledger: 12, history: 0 });
    expect(countDeadLetters(db, { includeReplayed: true })).toBe(3);
    expect(db.prepare('SELECT count(*) FROM ledger').pluck().get()).toBe(30);

    expect(pruneState(db, { deadLettersOlderThanDays: 30, includeOpen: true }).deadLetters).toBe(3);
    expect(pruneState(db, { deadLettersOlderThanDays: 30, includeOpen: true }).deadLetters).toBe(0);
    db.close();
  });
});
