/**
 * Forward-only migrations, through the built CLI: a real state file (runs, ledger, history, checkpoints, dead letters)
 * is rebuilt at every earlier schema version, then `status`, `dlq list`, `sync` and `dlq replay` run on it: the file
 * is migrated in place, nothing is lost, checkpoints and the ledger still hold (nothing is read or sent again).
 * Shipped migrations are frozen: editing one instead of appending a new one fails here.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAepLocal } from '../../src/aep-local/index.js';
import type { AepLocal } from '../../src/aep-local/types.js';
import { migrations } from '../../src/store/migrations.js';
import { buildWorkload, crashCli, deadLetters, jsonOf, ledgerIds, reconcile, type Workload } from '../helpers/crash-harness.js';
import { tempDir } from '../helpers/temp.js';

const root = tempDir('xdmf-migrations-');

/**
 * SHA-256 of every migration that has shipped. A migration, once released, is never edited (state files in the field
 * already ran it): a schema change is a new migration appended to the list, and its hash is added here.
 */
const SHIPPED = [
  'fae2dd858fc203537a99c2497a9e82d15ce2f2bb8c94da697d8bcb111f3a0f6a', // 1: the initial schema
  'ef00e80f821d5d80f68b26b973dac8824c7869690bd9ab272e66008b93875cc6', // 2: ledger.failure_reason, dead_letters_created
  'd9959846b240e08a827704a158e3a782d14c55bb2002d29e92178d21c69ce5e4', // 3: ledger and history keyed in time order
];

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Every table's rows, ordered, for comparing a state file before and after a migration. */
function rowsOf(path: string, table: string, columns: string[]): unknown[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(`SELECT ${columns.map((c) => `"${c}"`).join(', ')} FROM "${table}" ORDER BY ${columns.map((c) => `"${c}"`).join(', ')}`).all();
  } finally {
    db.close();
  }
}

function columnsOf(db: Database.Database, table: string, schema = 'main'): string[] {
  return (db.prepare(`PRAGMA ${schema}.table_info("${table}")`).all() as Array<{ name: string }>).map((c) => c.name);
}

/**
 * Rebuilds the current-version state file `from` as it would look at schema version `version`: the first `version`
 * migrations, then every row of every table, with the columns that version has.
 */
function downgrade(from: string, to: string, version: number): Record<string, string[]> {
  const db = new Database(to);
  try {
    for (let v = 0; v < version; v++) db.exec(migrations[v]!);
    db.pragma(`user_version = ${version}`);
    db.prepare('ATTACH DATABASE ? AS cur').run(from);
    const tables = db.prepare("SELECT name FROM main.sqlite_master WHERE type = 'table'").pluck().all() as string[];
    const kept: Record<string, string[]> = {};
    for (const table of tables) {
      const columns = columnsOf(db, table);
      const quoted = columns.map((c) => `"${c}"`).join(', ');
      db.exec(`INSERT INTO main."${table}" (${quoted}) SELECT ${quoted} FROM cur."${table}"`);
      kept[table] = columns;
    }
    db.exec('DETACH DATABASE cur');
    return kept;
  } finally {
    db.close();
  }
}

interface SyncJson {
  exitCode: number;
  summaries: Array<{ read: number; sent: number; alreadySent: number; deadLettered: Record<string, number> }>;
}

describe('forward-only migrations of the state file', () => {
  it('every shipped migration is unchanged (a schema change is a new migration, never an edit of an old one)', () => {
    expect(migrations.length).toBeGreaterThanOrEqual(SHIPPED.length);
    migrations.slice(0, SHIPPED.length).forEach((sql, i) => expect(sha256(sql), `migration ${i + 1} was edited`).toBe(SHIPPED[i]));
  });

  let aep: AepLocal;
  let first: Workload;
  let second: Workload;
  beforeAll(async () => {
    // Every third outcome a soft failure: the history keeps only the attempts that count toward a later retryCount.
    const softFailures = (i: number, record: Record<string, unknown>) => {
      if (i % 3 === 0 && record.status !== 'Scheduled' && !String(record.status).startsWith('Bogus')) {
        Object.assign(record, { status: 'Failed', description: 'Error: EmailGatewayError Mailgun answered 500' });
      }
    };
    first = buildWorkload(1500, 31, { prefix: 'old', shares: { reject: 0.01 }, decorate: softFailures });
    second = buildWorkload(700, 32, { prefix: 'new', shares: { reject: 0 } });
    aep = await startAepLocal({ seed: 31 });
  });
  afterAll(async () => {
    await aep?.close();
  });

  for (let version = 1; version < migrations.length; version++) {
    it(`a state file at schema version ${version} of ${migrations.length}: status and dlq read it, sync migrates it in place and loses nothing`, async () => {
      // A state file written by the current version over the first part of the input (ledger, history, checkpoints,
      // dead letters of three stages, runs), then rebuilt as that older version would have held it.
      aep.reset();
      aep.setFaults({ rejectIds: (id) => first.rejected.has(id) });
      const cli = crashCli(join(root, `from-${version}`), aep, first.text);
      const written = await cli.run(['sync']);
      expect(written.code, written.stderr).toBe(3);
      const latest = `${cli.state}.latest`;
      const copy = new Database(cli.state, { readonly: true });
      copy.prepare('VACUUM INTO ?').run(latest);
      copy.close();
      for (const suffix of ['', '-wal', '-shm']) rmSync(cli.state + suffix, { force: true });
      const kept = downgrade(latest, cli.state, version);
      rmSync(latest);
      appendFileSync(cli.input, second.text);
      const before = Object.fromEntries(Object.entries(kept).map(([t, cols]) => [t, rowsOf(cli.state, t, cols)]));
      expect(before.ledger!.length).toBeGreaterThan(1000);
      expect(before.dead_letters!.length).toBeGreaterThan(20);
      expect(before.checkpoints!.length).toBe(1);
      expect(before.history!.length).toBeGreaterThan(400);
      expect(before.runs!.length).toBe(1);

      // Read-only commands on the old file: they neither migrate it nor fail.
      const status = await cli.run(['status', '--json']);
      expect(status.code, status.stderr).toBe(0);
      const list = await cli.run(['dlq', 'list', '--json', '--limit', '1000']);
      expect(list.code, list.stderr).toBe(0);
      expect(jsonOf<{ total: number }>(list).total).toBe(before.dead_letters!.length);
      const probe = new Database(cli.state, { readonly: true });
      expect(probe.pragma('user_version', { simple: true })).toBe(version);
      probe.close();

      // sync migrates, then resumes from the old checkpoint: only the new lines are read and sent.
      aep.reset();
      aep.setFaults(undefined);
      const sync = await cli.run(['sync', '--json']);
      expect(sync.code, sync.stderr).toBe(3);
      const summary = jsonOf<SyncJson>(sync).summaries[0]!;
      expect(summary.read).toBe(second.records.length);
      expect(summary.sent).toBe(second.counts.accept);
      const db = new Database(cli.state, { readonly: true });
      expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      db.close();
      // Every row the old file held is still there, unchanged (the checkpoint moved on, as the read count shows; leases come and go).
      for (const [table, columns] of Object.entries(kept)) {
        if (table === 'checkpoints' || table === 'locks') continue;
        const after = rowsOf(cli.state, table, columns) as unknown[];
        const afterText = new Set(after.map((r) => JSON.stringify(r)));
        const missing = (before[table] as unknown[]).filter((r) => !afterText.has(JSON.stringify(r)));
        expect(missing, `${table}: rows lost or changed by the migration`).toEqual([]);
      }
      // Nothing of the first part was sent again; the second part reconciles on its own.
      const oldLedger = new Set((before.ledger as Array<{ id: string }>).map((r) => r.id));
      expect(aep.acceptedIds().filter((id) => oldLedger.has(id))).toEqual([]);
      const r = reconcile(second, aep, cli.state);
      expect(r.lost).toEqual([]);
      expect(r.duplicates).toBe(0);
      expect(ledgerIds(cli.state).size).toBe(oldLedger.size + second.counts.accept);

      // Dead letters written by the old version are replayable after the migration (AEP accepts them now).
      const oldIngest = deadLetters(cli.state).filter((d) => d.stage === 'ingest').length;
      expect(oldIngest).toBe(first.counts.reject);
      const replay = await cli.run(['dlq', 'replay', '--stage', 'ingest', '--json']);
      expect(replay.code, replay.stderr).toBe(0);
      expect(jsonOf<{ replayed: number }>(replay).replayed).toBe(oldIngest);
      expect(aep.acceptedIds().filter((id) => first.rejected.has(id))).toHaveLength(oldIngest);
    }, 60_000);
  }
});
