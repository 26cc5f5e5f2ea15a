/**
 * One connector run the way operators run it: under the state file's lease lock, with its metrics written
 * (`runs/<id>.json`, optionally a Prometheus textfile). `sync`, every `schedule` tick and `backfill` go through here.
 */
import type { Config } from '../config/load.js';
import { runConnector, stateErrorOf, type RunOptions, type RunResult } from '../core/run.js';
import { errorMessage } from '../errors.js';
import { acquireLock, type LockOptions } from './lock.js';
import { runMetrics, writePrometheusTextfile, writeRunMetrics } from './metrics.js';

/** The lock every incremental sync takes (cron ticks, `schedule`, manual `sync`). */
export const SYNC_LOCK = 'sync';

export interface LockedRunOptions {
  /** Lock name. @default "sync" */
  lockName?: string;
  /** Wait this long for a running holder to finish (0: fail at once with LockBusyError). @default 0 */
  waitMs?: number;
  /** Lease timing (tests shorten these). */
  lock?: Pick<LockOptions, 'ttlMs' | 'heartbeatMs' | 'pollMs'>;
  /** Also write the metrics as a Prometheus textfile here. */
  metricsProm?: string;
  /** Run the connector (tests and `dlq replay` substitute their own body). @default runConnector */
  run?: (config: Config, options: RunOptions) => Promise<RunResult>;
}

export interface LockedRunResult extends RunResult {
  /** Where the run's metrics JSON went (undefined if it could not be written; the reason is logged). */
  metricsFile?: string;
}

/**
 * Takes the lock (throws LockBusyError if another live run holds it), runs, releases, writes metrics.
 * A lost lease (another process took it over after our heartbeat lapsed) aborts the run like a SIGTERM.
 */
export async function runLocked(config: Config, options: RunOptions, locked: LockedRunOptions = {}): Promise<LockedRunResult> {
  try {
    return await lockedRun(config, options, locked);
  } catch (error) {
    throw stateErrorOf(config.state, error); // e.g. the lease write waited out the busy timeout: name the file
  }
}

async function lockedRun(config: Config, options: RunOptions, locked: LockedRunOptions): Promise<LockedRunResult> {
  const lease = await acquireLock(config.state, locked.lockName ?? SYNC_LOCK, {
    ...locked.lock,
    waitMs: locked.waitMs ?? 0,
    log: options.log,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const started = new Date();
  let result: RunResult;
  try {
    const signal = options.signal ? AbortSignal.any([options.signal, lease.lost]) : lease.lost;
    result = await (locked.run ?? runConnector)(config, { ...options, signal });
  } finally {
    lease.release();
  }
  const out: LockedRunResult = { ...result };
  try {
    const metrics = runMetrics(options.command, result, started, new Date());
    out.metricsFile = writeRunMetrics(config.state, metrics);
    if (locked.metricsProm) writePrometheusTextfile(locked.metricsProm, metrics);
  } catch (error) {
    options.log.warn({ err: errorMessage(error) }, 'could not write the run metrics');
  }
  return out;
}
