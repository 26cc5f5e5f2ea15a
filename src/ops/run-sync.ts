/**
 * How `sync` and each `schedule` tick run: under the `sync` lease lock with metrics written; a dry run instead
 * works on a scratch copy of the state, so it neither waits for the lock nor marks anything sent.
 */
import type { Config } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { runConnector, type RunOptions } from '../core/run.js';
import { runLocked, SYNC_LOCK, type LockedRunOptions, type LockedRunResult } from './locked-run.js';
import { withScratchState } from './scratch-state.js';

export interface SyncRunOptions extends LockedRunOptions {
  /** The run writes to a dry-run file sink: keep the real state untouched. */
  dryRun?: boolean;
}

/** Runs one sync the operator way. Throws LockBusyError when another run holds the lock and `waitMs` ran out. */
export async function runSync(config: Config, options: RunOptions, ops: SyncRunOptions = {}): Promise<LockedRunResult> {
  if (ops.dryRun) return withScratchState(config, (scratch) => (ops.run ?? runConnector)(scratch, options));
  return runLocked(config, options, { lockName: SYNC_LOCK, ...ops });
}

/** Parses `--wait [seconds]`: absent → 0 (fail at once), bare flag → wait as long as it takes. */
export function parseWait(value: string | boolean | undefined): number {
  if (value === undefined || value === false) return 0;
  if (value === true) return Number.MAX_SAFE_INTEGER;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0) throw new ConfigError(`--wait ${value}: give a number of seconds, or --wait alone to wait as long as it takes`);
  return seconds * 1000;
}
