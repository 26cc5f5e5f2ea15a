import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emptySummary } from '../../src/core/pipeline.js';
import type { RunResult } from '../../src/core/run.js';
import type { Config } from '../../src/config/load.js';
import { silentLogger } from '../../src/log.js';
import { prometheusText, runMetrics } from '../../src/ops/metrics.js';
import { runLocked } from '../../src/ops/locked-run.js';
import { acquireLock, LockBusyError } from '../../src/ops/lock.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('xdmf-metrics-');

function result(): RunResult {
  const s = emptySummary(7, 'ovo', 'adobe-streaming');
  Object.assign(s, {
    read: 100,
    sent: 90,
    skipped: 5,
    alreadySent: 2,
    durationMs: 2000,
    deadLettered: { decode: 1, map: 2, validate: 0, ingest: 0 },
    sinkStats: { retries: 4, throttled: 2, concurrencyMax: 6, mode: 'aimd' },
  });
  return { runId: 7, exitCode: 3, summaries: [s] };
}

const config = (name: string) => ({ state: join(dir, name, 'state.db') }) as unknown as Config;

describe('run metrics', () => {
  it('sums the run and keeps the sink figures per source', () => {
    const m = runMetrics('sync', result(), new Date('2024-05-01T00:00:00Z'), new Date('2024-05-01T00:00:03Z'));
    expect(m).toMatchObject({ runId: 7, exitCode: 3, durationMs: 3000, totals: { read: 100, sent: 90, deadLettered: 3 } });
    expect(m.sources[0]).toMatchObject({ recordsPerSecond: 50, deadLettered: 3, sinkStats: { retries: 4, concurrencyMax: 6 } });
  });

  it('renders valid Prometheus text with escaped labels and only numeric sink figures', () => {
    const r = result();
    r.summaries[0]!.source = 'we"ird\\source';
    const text = prometheusText(runMetrics('sync', r, new Date(0), new Date(3000)));
    expect(text).toContain('xdm_feedback_last_run_exit_code{command="sync"} 3');
    expect(text).toContain('xdm_feedback_last_run_records{command="sync",source="we\\"ird\\\\source",outcome="sent"} 90');
    expect(text).toContain('xdm_feedback_last_run_dead_letters{command="sync",source="we\\"ird\\\\source",stage="map"} 2');
    expect(text).toContain('stat="retries"} 4');
    expect(text).not.toContain('aimd');
    for (const line of text.trim().split('\n')) {
      expect(line).toMatch(/^(# (HELP|TYPE) xdm_feedback_\w+ .+|xdm_feedback_\w+\{[^}]*\} -?[\d.e+]+)$/);
    }
  });

  it('runLocked writes runs/<id>.json next to the state file and the Prometheus textfile', async () => {
    const prom = join(dir, 'a', 'metrics.prom');
    const out = await runLocked(config('a'), { command: 'sync', log: silentLogger }, { metricsProm: prom, run: async () => result() });
    expect(out.metricsFile).toBe(join(dir, 'a', 'runs', '7.json'));
    expect(JSON.parse(readFileSync(out.metricsFile!, 'utf8'))).toMatchObject({ runId: 7, command: 'sync', totals: { sent: 90 } });
    expect(readFileSync(prom, 'utf8')).toContain('xdm_feedback_last_run_id{command="sync"} 7');
  });

  it('runLocked refuses to run while another holder has the lock, and releases it after the run', async () => {
    const cfg = config('b');
    let ran = 0;
    const body = async () => {
      ran++;
      return result();
    };
    const lease = await acquireLock(cfg.state, 'sync');
    await expect(runLocked(cfg, { command: 'sync', log: silentLogger }, { run: body })).rejects.toBeInstanceOf(LockBusyError);
    expect(ran).toBe(0);
    lease.release();
    await runLocked(cfg, { command: 'sync', log: silentLogger }, { run: body });
    await runLocked(cfg, { command: 'sync', log: silentLogger }, { run: body });
    expect(ran).toBe(2);
    expect(existsSync(join(dir, 'b', 'runs', '7.json'))).toBe(true);
  });

  it('runLocked aborts the run when the lease is lost', async () => {
    const cfg = config('c');
    const out = await runLocked(
      cfg,
      { command: 'sync', log: silentLogger },
      {
        lock: { heartbeatMs: 10 },
        run: async (c, opts) => {
          const { openDb } = await import('../../src/store/db.js');
          const db = openDb(c.state);
          db.prepare("UPDATE locks SET owner = 'thief:1:00000000'").run();
          db.close();
          await new Promise<void>((resolve) => opts.signal!.addEventListener('abort', () => resolve(), { once: true }));
          return result();
        },
      },
    );
    expect(out.runId).toBe(7);
  });
});
