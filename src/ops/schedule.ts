/**
 * `schedule`: runs a sync on every tick of the configured cron expression (node-cron, in the configured time zone),
 * each under the state file's lease lock. A tick that finds another run in progress is skipped (or waits, with
 * `waitMs`); a failing run is logged and recorded and the schedule goes on; a stop signal lets the running tick
 * finish its in-flight batch, commit and release the lock, then resolves.
 */
import cron from 'node-cron';
import type { Logger } from 'pino';
import { ConfigError, errorMessage } from '../errors.js';
import { totalDeadLettered } from '../core/pipeline.js';
import { LockBusyError, describeHolder } from './lock.js';
import type { LockedRunResult } from './locked-run.js';

/** What one tick did. */
export type TickOutcome =
  | { kind: 'ran'; result: LockedRunResult }
  | { kind: 'skipped'; reason: string }
  | { kind: 'failed'; error: string };

export interface ScheduleOptions {
  cron: string;
  /** IANA time zone of the cron expression. @default "UTC" */
  timezone?: string;
  /** Runs one sync; receives a signal that aborts on stop. Throws LockBusyError when another run holds the lock. */
  tick: (signal: AbortSignal) => Promise<LockedRunResult>;
  log: Logger;
  /** Aborting it stops the schedule (after the running tick settles). */
  signal: AbortSignal;
  /** Also run one tick right away, before the first cron time. @default false */
  runNow?: boolean;
  /** Called after each tick (tests, the CLI's summaries). */
  onTick?: (outcome: TickOutcome) => void;
}

/** Checks a cron expression and time zone, naming the key and the fix. */
export function checkSchedule(expression: string, timezone: string): void {
  const detail = cron.validateDetailed(expression);
  if (!detail.valid) {
    const why = detail.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    throw new ConfigError(`schedule.cron: "${expression}" is not a valid cron expression (${why}); e.g. "*/15 * * * *" for every 15 minutes`);
  }
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw new ConfigError(`schedule.timezone: "${timezone}" is not an IANA time zone; use e.g. "UTC" or "Europe/London"`);
  }
}

/** Runs the schedule until `options.signal` aborts; resolves once the last tick settled. Never rejects on a tick's failure. */
export async function runSchedule(options: ScheduleOptions): Promise<void> {
  const timezone = options.timezone ?? 'UTC';
  checkSchedule(options.cron, timezone);
  const { log, signal } = options;
  let running: Promise<void> | undefined;

  const tick = async (): Promise<void> => {
    if (signal.aborted) return;
    if (running) {
      log.warn('previous tick still running in this process; skipping this one');
      options.onTick?.({ kind: 'skipped', reason: 'previous tick still running' });
      return;
    }
    const body = (async () => {
      let outcome: TickOutcome;
      try {
        const result = await options.tick(signal);
        outcome = { kind: 'ran', result };
        const level = result.exitCode === 0 ? 'info' : 'error';
        log[level](
          {
            runId: result.runId,
            exitCode: result.exitCode,
            read: result.summaries.reduce((a, s) => a + s.read, 0),
            sent: result.summaries.reduce((a, s) => a + s.sent, 0),
            deadLettered: result.summaries.reduce((a, s) => a + totalDeadLettered(s), 0),
            ...(result.error ? { error: result.error } : {}),
            metrics: result.metricsFile,
          },
          result.exitCode === 0 ? 'scheduled run finished' : 'scheduled run finished with problems; the schedule goes on',
        );
      } catch (error) {
        if (error instanceof LockBusyError) {
          outcome = { kind: 'skipped', reason: `another run is in progress (${describeHolder(error.holder)})` };
          log.warn({ holder: error.holder.owner }, `skipping this tick: ${outcome.reason}`);
        } else {
          outcome = { kind: 'failed', error: errorMessage(error) };
          log.error({ err: outcome.error }, 'scheduled run failed; the schedule goes on');
        }
      }
      options.onTick?.(outcome);
    })();
    running = body;
    try {
      await body;
    } finally {
      running = undefined;
    }
  };

  // node-cron's own messages (missed executions after a suspend…) go through our logger, not the console.
  const cronLog = {
    info: (m: string) => log.debug({ cron: true }, m),
    warn: (m: string) => log.warn({ cron: true }, m),
    error: (m: string | Error) => log.error({ cron: true }, errorMessage(m)),
    debug: (m: string | Error) => log.debug({ cron: true }, errorMessage(m)),
  };
  const task = cron.schedule(options.cron, tick, { timezone, name: 'xdm-feedback-sync', logger: cronLog });
  const next = task.getNextRun();
  log.info({ cron: options.cron, timezone, next: next?.toISOString() }, 'schedule started');
  if (options.runNow) void tick();

  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
  await task.stop();
  await task.destroy();
  if (running) {
    log.info('stopping: waiting for the running tick to finish its in-flight batch and commit');
    await running;
  }
  log.info('schedule stopped');
}
