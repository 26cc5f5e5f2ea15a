/**
 * State safety with real processes: a state file write-locked by another process (before or during a sync), a
 * corrupt or truncated state file, and `status` from a second process while a sync runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAepLocal } from '../../src/aep-local/index.js';
import type { AepLocal } from '../../src/aep-local/types.js';
import { buildWorkload, crashCli, jsonOf, ledgerIds, reconcile } from '../helpers/crash-harness.js';
import { tempDir } from '../helpers/temp.js';

const root = tempDir('xdmf-state-');
const BUSY_TIMEOUT_MS = 5000; // src/store/db.ts default
const betterSqlite = createRequire(import.meta.url).resolve('better-sqlite3');

/** Another process that takes the write lock (BEGIN IMMEDIATE) on the state file and holds it until killed. */
async function holdWriteLock(path: string): Promise<ChildProcess> {
  const script = `
    const Database = require(${JSON.stringify(betterSqlite)});
    const db = new Database(${JSON.stringify(path)});
    db.pragma('busy_timeout = 10000');
    db.exec('BEGIN IMMEDIATE');
    db.prepare("INSERT INTO runs (command, started_at) VALUES ('intruder', 'x')").run();
    process.stdout.write('locked\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    child.on('exit', (code) => reject(new Error(`the lock holder exited with ${code}`)));
  });
  return child;
}

async function release(holder: ChildProcess): Promise<void> {
  const exited = new Promise((r) => holder.once('exit', r));
  holder.kill('SIGKILL'); // its transaction is rolled back: the intruder's row never lands
  await exited;
}

/** Everything in the state file, to compare before and after a refused run. */
function snapshot(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
    return JSON.stringify(tables.map((t) => [t, db.prepare(`SELECT * FROM "${t}"`).all()]));
  } finally {
    db.close();
  }
}

describe('state safety', () => {
  let aep: AepLocal;
  beforeAll(async () => {
    aep = await startAepLocal({ seed: 5 });
  });
  afterAll(async () => {
    await aep?.close();
  });

  it('a state file write-locked by another process: sync fails within the busy timeout naming the lock, and writes nothing', async () => {
    const workload = buildWorkload(600, 5, { shares: { reject: 0 } });
    aep.reset();
    const cli = crashCli(join(root, 'locked'), aep, workload.text);
    expect((await cli.run(['sync'])).code).toBe(3); // creates and fills the state file
    writeFileSync(cli.input, workload.text + buildWorkload(300, 6, { prefix: 'more', shares: { reject: 0 } }).text);
    const before = snapshot(cli.state);
    const accepted = aep.acceptedIds().length;

    const holder = await holdWriteLock(cli.state);
    try {
      const started = Date.now();
      const refused = await cli.run(['sync']);
      const took = Date.now() - started;
      expect(refused.code).toBe(1);
      expect(refused.stderr + refused.stdout).toMatch(/state file .*state\.db is locked by another process .*; wait for it to finish or use another --state file/);
      expect(took).toBeLessThan(BUSY_TIMEOUT_MS + 5000);
    } finally {
      await release(holder);
    }
    expect(snapshot(cli.state)).toBe(before); // not a row, not a checkpoint, not a lease
    expect(aep.acceptedIds()).toHaveLength(accepted); // nothing was sent either

    const rerun = await cli.run(['sync', '--json']);
    expect(rerun.code, rerun.stderr).toBe(3);
    expect(jsonOf<{ summaries: Array<{ read: number }> }>(rerun).summaries[0]!.read).toBe(300);
  }, 40_000);

  it('a write lock held for less than the busy timeout is waited out: the sync then completes normally', async () => {
    const workload = buildWorkload(400, 11, { shares: { reject: 0 } });
    aep.reset();
    const cli = crashCli(join(root, 'brief-lock'), aep, workload.text);
    expect((await cli.run(['sync'])).code).toBe(3);
    writeFileSync(cli.input, workload.text + buildWorkload(200, 12, { prefix: 'later', shares: { reject: 0 } }).text);
    const db = new Database(cli.state, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();

    const holder = await holdWriteLock(cli.state);
    const started = Date.now();
    const sync = cli.start(['sync', '--json']);
    await new Promise((r) => setTimeout(r, 1500));
    await release(holder);
    const done = await sync.done;
    expect(done.code, done.stderr).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500); // it waited instead of failing at once
    expect(jsonOf<{ summaries: Array<{ read: number; sent: number }> }>(done).summaries[0]).toMatchObject({ read: 200 });
  }, 40_000);

  it('the lock taken mid-run: the sync stops with a clear error, commits nothing partial, and the rerun loses nothing', async () => {
    const workload = buildWorkload(6000, 7, { shares: { reject: 0 } });
    aep.reset();
    aep.setFaults({ routes: ['dcs'], slowMs: 40 });
    const cli = crashCli(join(root, 'midrun'), aep, workload.text, { concurrency: { max: 2, initial: 1 } });
    const sync = cli.start(['sync']);
    while (aep.acceptedIds().length < 500) await new Promise((r) => setTimeout(r, 10));
    // Another process holds the write lock a little longer than the busy timeout, then lets go.
    const holder = await holdWriteLock(cli.state);
    await new Promise((r) => setTimeout(r, BUSY_TIMEOUT_MS + 1500));
    await release(holder);
    const stopped = await sync.done;
    expect(stopped.code, stopped.stdout + stopped.stderr).toBe(1);
    expect(stopped.stderr + stopped.stdout).toMatch(/state file .*state\.db is locked by another process/);
    const runs = new Database(cli.state, { readonly: true });
    expect(runs.prepare('SELECT exit_code, error FROM runs ORDER BY id DESC LIMIT 1').get()).toMatchObject({ exit_code: 1, error: expect.stringMatching(/locked by another process/) });
    runs.close();
    // What the ledger holds was accepted; nothing half-written (each unit is one transaction).
    const ledger = ledgerIds(cli.state);
    const all = new Set(aep.acceptedIds());
    expect([...ledger].every((id) => all.has(id))).toBe(true);
    const db = new Database(cli.state, { readonly: true });
    expect(db.prepare("SELECT count(*) FROM runs WHERE command = 'intruder'").pluck().get()).toBe(0);
    db.close();

    aep.setFaults(undefined);
    const rerun = await cli.run(['sync']);
    expect(rerun.code, rerun.stderr).toBe(3);
    const r = reconcile(workload, aep, cli.state);
    expect(r.lost).toEqual([]);
    expect(r.extraDeadLetters).toBe(0);
    expect(r.ledgerMatchesAccepted).toBe(true);
  }, 60_000);

  it('a corrupt or truncated state file: a clear error naming the file, exit 1, and the file is left as it was', async () => {
    aep.reset();
    const workload = buildWorkload(300, 8, { shares: { reject: 0 } });
    const cli = crashCli(join(root, 'corrupt'), aep, workload.text);
    expect((await cli.run(['sync'])).code).toBe(3);
    const good = readFileSync(cli.state);

    for (const [name, damage] of [
      ['garbage', () => writeFileSync(cli.state, Buffer.from('this is not a database, just text '.repeat(200)))],
      ['truncated', () => writeFileSync(cli.state, good.subarray(0, Math.floor(good.length / 2)))],
      ['zeroed header', () => writeFileSync(cli.state, Buffer.concat([Buffer.alloc(100), good.subarray(100)]))],
    ] as const) {
      damage();
      const damaged = readFileSync(cli.state);
      for (const args of [['sync'], ['status']]) {
        const run = await cli.run(args);
        expect(run.code, `${name} ${args[0]}: ${run.stdout}${run.stderr}`).toBe(1);
        expect(run.stderr + run.stdout, `${name} ${args[0]}`).toMatch(/state file .*state\.db (is not a valid xdm-feedback database|: database disk image is malformed|.*malformed)/);
        expect(run.stderr).not.toMatch(/\n\s+at /);
      }
      expect(readFileSync(cli.state).equals(damaged), `${name}: the damaged file was modified`).toBe(true);
      copyFileSync(join(cli.dir, 'state', 'state.db'), join(cli.dir, `damaged-${name.replace(' ', '-')}.db`));
      writeFileSync(cli.state, good);
    }
    expect(statSync(cli.state).size).toBe(good.length);
  }, 60_000);

  it('status answers from a second process while a sync runs, and shows the run in progress', async () => {
    const workload = buildWorkload(5000, 9, { shares: { reject: 0 } });
    aep.reset();
    aep.setFaults({ routes: ['dcs'], slowMs: 50 });
    const cli = crashCli(join(root, 'status'), aep, workload.text, { concurrency: { max: 1, initial: 1 } });
    const sync = cli.start(['sync']);
    while (aep.acceptedIds().length < 200) await new Promise((r) => setTimeout(r, 10));
    const status = await cli.run(['status', '--json']);
    const human = await cli.run(['status']);
    const stillRunning = sync.child.exitCode === null;
    aep.setFaults(undefined);
    const done = await sync.done;
    expect(done.code, done.stderr).toBe(3);
    expect(stillRunning).toBe(true);
    expect(status.code, status.stderr).toBe(0);
    expect(human.code, human.stderr).toBe(0);
    const text = JSON.stringify(jsonOf(status));
    expect(text).toMatch(/"sync"/);
    expect(human.stdout).toMatch(/sync/);
  }, 60_000);
});
