import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AepLocal, AepLocalOptions } from '../../src/aep-local/types.js';
import { tempDir } from '../helpers/temp.js';
import { breakMapping, fixMapping, jsonOf, makeCli, ovoRecords, until } from './cli-harness.js';

// The imitation is written in parallel; these tests run as soon as its entry point exists.
const entry = '../../src/aep-local/index.js';
const startAepLocal = await import(/* @vite-ignore */ entry).then(
  (m: { startAepLocal?: (options?: AepLocalOptions) => Promise<AepLocal> }) => m.startAepLocal,
  () => undefined,
);

const root = tempDir('xdmf-ops-e2e-');
let aep: AepLocal;

beforeAll(async () => {
  if (startAepLocal) aep = await startAepLocal();
});
afterAll(async () => {
  await aep?.close();
});
afterEach(() => aep?.reset());

const readDb = (path: string) => new Database(path, { readonly: true });

interface RunJson {
  runId: number;
  exitCode: number;
  summaries: Array<{ read: number; sent: number; alreadySent: number; interrupted: boolean; source: string }>;
}

describe.skipIf(!startAepLocal)('operations end to end: the built CLI as a child process against the local AEP imitation', () => {
  it('SIGTERM mid-sync exits 0 after committing the in-flight batch; the rerun sends the rest, nothing lost or repeated', async () => {
    const total = 5000;
    const cli = makeCli(join(root, 'sigterm'), aep, ovoRecords(total));
    aep.setFaults({ slowMs: 60 });
    const first = cli.start(['sync', '--json']);
    await until(() => aep.acceptedIds().length > 0, 15_000, 'the first events to reach AEP');
    first.child.kill('SIGTERM');
    const stopped = await first.done;
    expect(stopped.code, stopped.stderr).toBe(0);
    const result1 = jsonOf<RunJson>(stopped);
    expect(result1.summaries[0]!.interrupted).toBe(true);
    expect(result1.summaries[0]!.sent).toBeLessThan(total);

    // Everything AEP accepted was committed: the ledger holds exactly those ids.
    const db = readDb(cli.state);
    const ledger = new Set(db.prepare('SELECT id FROM ledger').pluck().all() as string[]);
    db.close();
    expect(new Set(aep.acceptedIds())).toEqual(ledger);
    expect(ledger.size).toBe(result1.summaries[0]!.sent);
    expect(readDb(cli.state).prepare('SELECT count(*) FROM locks').pluck().get()).toBe(0); // released

    aep.setFaults(undefined);
    const second = await cli.run(['sync', '--json']);
    expect(second.code, second.stderr).toBe(0);
    const result2 = jsonOf<RunJson>(second);
    expect(result2.summaries[0]!.alreadySent).toBe(0); // resumed past the committed records: none read twice
    expect(result1.summaries[0]!.read + result2.summaries[0]!.read).toBe(total);
    const ids = aep.acceptedIds();
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
    expect(aep.stats().duplicates).toBe(0);

    // Per-run metrics files next to the state file.
    const metrics = JSON.parse(readFileSync(join(cli.dir, 'state', 'runs', `${result2.runId}.json`), 'utf8'));
    expect(metrics).toMatchObject({ runId: result2.runId, command: 'sync', exitCode: 0, totals: { sent: result2.summaries[0]!.sent } });
    expect(Object.keys(metrics.sources[0].sinkStats).length).toBeGreaterThan(0);
  });

  it('schedule: SIGTERM during a tick finishes the in-flight batch, commits, releases the lock and exits 0', async () => {
    const total = 5000;
    const cli = makeCli(join(root, 'schedule'), aep, ovoRecords(total));
    aep.setFaults({ slowMs: 60 });
    const prom = join(cli.dir, 'metrics.prom');
    // A cron that never fires during the test; --run-now starts the first tick at once.
    const scheduler = cli.start(['schedule', '--cron', '0 0 1 1 *', '--run-now', '--metrics-prom', prom]);
    await until(() => aep.acceptedIds().length > 0, 15_000, 'the scheduled run to send');
    scheduler.child.kill('SIGTERM');
    const stopped = await scheduler.done;
    expect(stopped.code, stopped.stderr).toBe(0);
    const db = readDb(cli.state);
    const ledger = db.prepare('SELECT count(*) FROM ledger').pluck().get() as number;
    expect(db.prepare('SELECT count(*) FROM locks').pluck().get()).toBe(0);
    expect(db.prepare('SELECT command, exit_code FROM runs').all()).toEqual([{ command: 'schedule', exit_code: 0 }]);
    db.close();
    expect(ledger).toBeLessThan(total);
    expect(new Set(aep.acceptedIds()).size).toBe(ledger);
    expect(readFileSync(prom, 'utf8')).toMatch(/xdm_feedback_last_run_interrupted\{command="schedule"\} 1/);

    aep.setFaults(undefined);
    expect((await cli.run(['sync'])).code).toBe(0);
    expect(aep.acceptedIds()).toHaveLength(total);
    expect(aep.stats().duplicates).toBe(0);
  });

  it('sync --dry-run writes the envelopes but leaves the state untouched, so the real sync still sends everything', async () => {
    const cli = makeCli(join(root, 'dry'), aep, ovoRecords(40));
    const dry = await cli.run(['sync', '--dry-run', 'dry.ndjson']);
    expect(dry.code, dry.stderr).toBe(0);
    const lines = readFileSync(join(cli.dir, 'dry.ndjson'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(40);
    const first = JSON.parse(lines[0]!) as { _id?: string; body?: { xdmEntity: { _id: string } } };
    expect(first._id ?? first.body?.xdmEntity._id).toEqual(expect.any(String));
    expect(aep.acceptedIds()).toHaveLength(0);
    const real = jsonOf<RunJson>(await cli.run(['sync', '--json']));
    expect(real.summaries[0]).toMatchObject({ read: 40, sent: 40, alreadySent: 0 });
    expect(aep.acceptedIds()).toHaveLength(40);
  });

  it('a sync killed with SIGKILL leaves a stale lease that the next sync takes over at once; nothing is lost', async () => {
    const total = 3000;
    const cli = makeCli(join(root, 'kill9'), aep, ovoRecords(total));
    aep.setFaults({ slowMs: 60 });
    const crashed = cli.start(['sync']);
    await until(() => aep.acceptedIds().length > 0, 15_000, 'the first sync to send');
    crashed.child.kill('SIGKILL');
    expect((await crashed.done).signal).toBe('SIGKILL');
    const db = readDb(cli.state);
    expect(db.prepare("SELECT count(*) FROM locks WHERE name = 'sync'").pluck().get()).toBe(1); // left behind
    db.close();

    aep.setFaults(undefined);
    const rerun = await cli.run(['sync']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(new Set(aep.acceptedIds()).size).toBe(total);
    // Only what was in flight at the kill may have been sent twice (AEP dedupes by _id); never more than that.
    expect(aep.stats().duplicates).toBeLessThanOrEqual(500);
  });

  it('lets one of two overlapping syncs run; the other exits 1 naming the lock holder', async () => {
    const cli = makeCli(join(root, 'overlap'), aep, ovoRecords(1000));
    // Every answer takes 1.5 s, so the first sync is certainly still running when the second starts.
    aep.setFaults({ slowMs: 1500, slowShare: 1 });
    const a = cli.start(['sync']);
    await until(() => aep.acceptedIds().length > 0, 15_000, 'the first sync to send');
    const b = await cli.run(['sync']);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/another run is in progress: lock "sync" .* held by [^ ]+:\d+:(?:\d+|x)-[0-9a-f]{8}/);
    const ra = await a.done;
    expect(ra.code, ra.stderr).toBe(0);
    expect(new Set(aep.acceptedIds()).size).toBe(1000);
  });

  it('resumes an interrupted backfill from its own checkpoint, reading every record once and leaving the sync checkpoint alone', async () => {
    const inWindow = 8000; // more than the units one run holds in flight (8 sends + 1 mapped ahead, 500 records each)
    const input = ovoRecords(inWindow, { prefix: 'may' }) + ovoRecords(100, { prefix: 'june', month: 5 });
    const cli = makeCli(join(root, 'backfill'), aep, input);
    aep.setFaults({ slowMs: 60 });
    const args = ['backfill', '--from', '2024-05-01', '--to', '2024-06-01', '--json'];
    const first = cli.start(args);
    await until(() => aep.acceptedIds().length > 0, 15_000, 'the backfill to send');
    first.child.kill('SIGINT');
    const r1 = await first.done;
    expect(r1.code, r1.stderr).toBe(0);
    const j1 = jsonOf<RunJson>(r1);
    expect(j1.summaries[0]!.interrupted).toBe(true);
    expect(j1.summaries[0]!.read).toBeLessThan(inWindow + 100);

    aep.setFaults(undefined);
    const r2 = await cli.run(args);
    expect(r2.code, r2.stderr).toBe(0);
    const j2 = jsonOf<RunJson>(r2);
    expect(j1.summaries[0]!.read + j2.summaries[0]!.read).toBe(inWindow + 100);
    expect(j2.summaries[0]!.alreadySent).toBe(0);
    const ids = aep.acceptedIds();
    expect(ids).toHaveLength(inWindow); // June is outside the window
    expect(new Set(ids).size).toBe(inWindow);

    const db = readDb(cli.state);
    const keys = db.prepare('SELECT DISTINCT source FROM checkpoints').pluck().all();
    db.close();
    expect(keys).toEqual(['ovo@backfill:2024-05-01T00:00:00.000Z..2024-06-01T00:00:00.000Z']);

    // A third run of the same window has nothing left to read.
    const r3 = jsonOf<RunJson>(await cli.run(args));
    expect(r3.summaries[0]!.read).toBe(0);
  });

  it('dlq replay after a mapping fix sends the fixed events and clears their dead letters', async () => {
    const total = 90;
    const cli = makeCli(join(root, 'replay'), aep, ovoRecords(total));
    breakMapping(cli, 'Delivered');
    const broken = await cli.run(['sync', '--json']);
    expect(broken.code).toBe(3);
    const delivered = (2 * total) / 3; // i % 3 !== 0 are Delivered
    expect(aep.acceptedIds()).toHaveLength(total - delivered);
    const list = jsonOf<{ total: number; deadLetters: Array<{ stage: string; reason: string }> }>(await cli.run(['dlq', 'list', '--json', '--limit', '1000']));
    expect(list.total).toBe(delivered);
    expect(list.deadLetters.every((d) => d.stage === 'map' && /unknown status 'Delivered'/.test(d.reason))).toBe(true);

    fixMapping(cli);
    const replay = await cli.run(['dlq', 'replay', '--stage', 'map', '--json']);
    expect(replay.code, replay.stderr).toBe(0);
    expect(jsonOf<{ replayed: number }>(replay).replayed).toBe(delivered);
    const ids = aep.acceptedIds();
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
    expect(jsonOf<{ total: number }>(await cli.run(['dlq', 'list', '--json'])).total).toBe(0);

    const db = readDb(cli.state);
    const marked = db.prepare('SELECT count(*) FROM dead_letters WHERE replayed_at IS NOT NULL AND replay_run_id IS NOT NULL').pluck().get();
    const ledger = db.prepare('SELECT count(*) FROM ledger').pluck().get();
    db.close();
    expect(marked).toBe(delivered);
    expect(ledger).toBe(total);

    // Replaying again finds nothing; the sync checkpoint was not disturbed, so a sync reads nothing new.
    expect(jsonOf<{ replayed: number }>(await cli.run(['dlq', 'replay', '--json'])).replayed).toBe(0);
    const sync = jsonOf<RunJson>(await cli.run(['sync', '--json']));
    expect(sync.summaries[0]!.read).toBe(0);
    expect(aep.acceptedIds()).toHaveLength(total);
  });

  it('status --json and the HTML report agree with the database', async () => {
    const cli = makeCli(join(root, 'status'), aep, ovoRecords(120));
    breakMapping(cli, 'Pending');
    expect((await cli.run(['sync'])).code).toBe(3);
    const status = jsonOf<{
      runs: Array<{ id: number; exitCode: number; counters: { read: number; sent: number; deadLettered: number } }>;
      lag: Array<{ source: string; file?: { bytesLeft: number; size: number } }>;
      ledger: { total: number; byStatus: Record<string, number>; byChannel: Record<string, number> };
      deadLetters: { open: number; byStage: Record<string, number> };
    }>(await cli.run(['status', '--json']));
    const db = readDb(cli.state);
    const q = (sql: string) => db.prepare(sql).pluck().get() as number;
    expect(status.ledger.total).toBe(q('SELECT count(*) FROM ledger'));
    expect(status.ledger.byStatus).toEqual(
      Object.fromEntries((db.prepare('SELECT status, count(*) AS n FROM ledger GROUP BY status').all() as Array<{ status: string; n: number }>).map((r) => [r.status, r.n])),
    );
    expect(status.ledger.byChannel).toEqual(
      Object.fromEntries((db.prepare('SELECT channel, count(*) AS n FROM ledger GROUP BY channel').all() as Array<{ channel: string; n: number }>).map((r) => [r.channel, r.n])),
    );
    expect(status.deadLetters.open).toBe(q('SELECT count(*) FROM dead_letters WHERE replayed_at IS NULL'));
    expect(status.deadLetters.byStage.map).toBe(40);
    expect(status.runs[0]).toMatchObject({ exitCode: 3, counters: { read: 120, sent: 80, deadLettered: 40 } });
    expect(status.lag[0]).toMatchObject({ source: 'ovo', file: { bytesLeft: 0 } });

    const report = await cli.run(['report', '--html', 'report.html', '--json']);
    expect(report.code, report.stderr).toBe(0);
    const html = readFileSync(join(cli.dir, 'report.html'), 'utf8');
    const data = JSON.parse(html.match(/<script id="report-data" type="application\/json">(.*?)<\/script>/s)![1]!);
    expect(data.totals.events).toBe(q('SELECT count(*) FROM ledger'));
    expect(data.totals.openDeadLetters).toBe(40);
    const byChannel = data.charts.find((c: { id: string }) => c.id === 'outcomes-by-channel');
    const sum = byChannel.datasets.flatMap((d: { data: number[] }) => d.data).reduce((a: number, b: number) => a + b, 0);
    expect(sum).toBe(q("SELECT count(*) FROM ledger WHERE event_type = 'message.feedback'"));
    db.close();
  });
});
