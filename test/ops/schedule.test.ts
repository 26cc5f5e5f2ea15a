import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { withLock } from '../../src/ops/lock.js';
import type { LockedRunResult } from '../../src/ops/locked-run.js';
import { checkSchedule, runSchedule, type TickOutcome } from '../../src/ops/schedule.js';
import { ConfigError } from '../../src/errors.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('xdmf-schedule-');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fakeResult = (runId: number): LockedRunResult => ({ runId, exitCode: 0, summaries: [] });

describe('schedule', () => {
  it('runs only one of two overlapping schedulers per tick; the other skips with the holder named', async () => {
    const state = join(dir, 'overlap.db');
    let inside = 0;
    let maxInside = 0;
    let runs = 0;
    const tick = () =>
      withLock(state, 'sync', {}, async () => {
        inside++;
        maxInside = Math.max(maxInside, inside);
        runs++;
        await sleep(600);
        inside--;
        return fakeResult(runs);
      });
    const outcomes: TickOutcome[] = [];
    const stop = new AbortController();
    const both = Promise.all(
      [1, 2].map(() =>
        runSchedule({ cron: '* * * * * *', tick, log: silentLogger, signal: stop.signal, runNow: true, onTick: (o) => outcomes.push(o) }),
      ),
    );
    await sleep(1500);
    stop.abort();
    await both;
    expect(maxInside).toBe(1);
    expect(outcomes.filter((o) => o.kind === 'ran').length).toBeGreaterThanOrEqual(1);
    const skipped = outcomes.filter((o): o is Extract<TickOutcome, { kind: 'skipped' }> => o.kind === 'skipped');
    expect(skipped.length).toBeGreaterThanOrEqual(1);
    expect(skipped.some((s) => /another run is in progress \(held by .+:\d+:(?:\d+|x)-[0-9a-f]{8}/.test(s.reason))).toBe(true);
  });

  it('keeps going after a failing tick', async () => {
    const outcomes: TickOutcome[] = [];
    const stop = new AbortController();
    let calls = 0;
    const done = runSchedule({
      cron: '* * * * * *',
      runNow: true,
      log: silentLogger,
      signal: stop.signal,
      tick: async () => {
        calls++;
        if (calls === 1) throw new Error('the source is unreachable');
        return fakeResult(calls);
      },
      onTick: (o) => {
        outcomes.push(o);
        if (o.kind === 'ran') stop.abort();
      },
    });
    await done;
    expect(outcomes[0]).toEqual({ kind: 'failed', error: 'the source is unreachable' });
    expect(outcomes.at(-1)?.kind).toBe('ran');
  });

  it('on stop lets the running tick finish before resolving, and the tick sees the stop signal', async () => {
    const stop = new AbortController();
    let tickSawAbort = false;
    let tickFinished = false;
    const done = runSchedule({
      cron: '0 0 1 1 *',
      runNow: true,
      log: silentLogger,
      signal: stop.signal,
      tick: async (signal) => {
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        tickSawAbort = true;
        await sleep(50); // the in-flight batch finishing
        tickFinished = true;
        return fakeResult(1);
      },
    });
    await sleep(20);
    stop.abort();
    await done;
    expect(tickSawAbort).toBe(true);
    expect(tickFinished).toBe(true);
  });

  it('rejects a bad cron expression or time zone naming the key', () => {
    expect(() => checkSchedule('every hour', 'UTC')).toThrow(ConfigError);
    expect(() => checkSchedule('every hour', 'UTC')).toThrow(/schedule\.cron: "every hour" is not a valid cron expression/);
    expect(() => checkSchedule('*/15 * * * *', 'Mars/Olympus')).toThrow(/schedule\.timezone: "Mars\/Olympus"/);
    expect(() => checkSchedule('*/15 * * * *', 'Europe/London')).not.toThrow();
  });
});
