/**
 * `backfill`: reads a time window of history again, under its own checkpoint key (`<id>@backfill:<from>..<to>`), so
 * it resumes after a crash or Ctrl-C and never moves the sync's checkpoints; the ledger keeps it from resending.
 */
import type { Config } from '../config/load.js';
import type { RunSummary } from '../core/pipeline.js';
import { selectSources, type RunOptions } from '../core/run.js';
import type { TimeWindow } from '../core/types.js';
import { dryRunSinkConfig } from '../sinks/index.js';
import { ConfigError } from '../errors.js';
import { openDb } from '../store/db.js';
import type { Logger } from 'pino';
import { bytesRead, sourceFiles, totalBytes } from './estimate.js';
import { runLocked, type LockedRunResult } from './locked-run.js';
import { createProgress } from './progress.js';
import { withScratchState } from './scratch-state.js';
import { chooseSink, type Via } from './via.js';

export interface BackfillOptions {
  from: Date;
  to: Date;
  sourceIds?: string[];
  via: Via;
  /** Write the envelopes to this NDJSON file instead of sending (on a scratch copy of the state). */
  dryRunFile?: string;
  log: Logger;
  signal?: AbortSignal;
  /** Progress bar (true), log lines (false); default: whether stderr is a TTY. */
  tty?: boolean;
  waitMs?: number;
  metricsProm?: string;
  /** Lease timing (tests shorten these). */
  lock?: { ttlMs?: number; heartbeatMs?: number; pollMs?: number };
}

/** Parses a `--from`/`--to` value: `YYYY-MM-DD` (UTC midnight) or a full ISO-8601 time. */
export function parseWhen(flag: string, value: string): Date {
  const text = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new ConfigError(`${flag} ${value}: not a date; use YYYY-MM-DD (UTC) or an ISO-8601 time such as 2024-03-01T00:00:00Z`);
  }
  return date;
}

export function checkWindow(window: { from: Date; to: Date }): void {
  if (window.to.getTime() <= window.from.getTime()) {
    throw new ConfigError(`--to must be after --from (got ${window.from.toISOString()} .. ${window.to.toISOString()})`);
  }
}

/** The checkpoint suffix of a backfill window: stable for the same window, so a rerun resumes. */
export function backfillSuffix(window: { from: Date; to: Date }): string {
  return `@backfill:${window.from.toISOString()}..${window.to.toISOString()}`;
}

export async function runBackfill(config: Config, options: BackfillOptions): Promise<LockedRunResult & { sink: string; estimateBytes?: number }> {
  checkWindow(options);
  const suffix = backfillSuffix(options);
  const window: TimeWindow = { from: options.from, to: options.to };
  const sources = selectSources(config, options.sourceIds);
  const files = await sourceFiles(sources, config.baseDir, (id) => id + suffix);
  const total = files ? totalBytes(files) : undefined;

  const run = async (cfg: Config, sinkOverride: RunOptions['sinkOverride'], locked: boolean) => {
    const db = openDb(cfg.state);
    const left = files && total !== undefined ? total - bytesRead(db, files) : undefined;
    const sink = sinkOverride ?? chooseSink(options.via, cfg, left === undefined ? {} : { bytes: left });
    const progress = createProgress({
      log: options.log,
      ...(options.tty !== undefined ? { tty: options.tty } : {}),
      ...(files && total !== undefined ? { totalBytes: total, bytesDone: () => bytesRead(db, files) } : {}),
    });
    const runOptions: RunOptions = {
      command: options.dryRunFile ? 'backfill --dry-run' : 'backfill',
      log: options.log,
      window,
      checkpointSuffix: suffix,
      sinkOverride: sink,
      onProgress: (s: RunSummary) => progress.update(s),
      ...(options.sourceIds ? { sourceIds: options.sourceIds } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    };
    try {
      options.log.info({ from: options.from.toISOString(), to: options.to.toISOString(), sink: sink.type, bytes: total, bytesLeft: left }, 'backfill starting');
      const result = await runLocked(cfg, runOptions, {
        lockName: `backfill${suffix}`,
        ...(locked ? {} : { waitMs: 0 }),
        ...(options.waitMs !== undefined ? { waitMs: options.waitMs } : {}),
        ...(options.metricsProm && !options.dryRunFile ? { metricsProm: options.metricsProm } : {}),
        ...(options.lock ? { lock: options.lock } : {}),
      });
      return { ...result, sink: sink.type, ...(total !== undefined ? { estimateBytes: total } : {}) };
    } finally {
      progress.stop();
      db.close();
    }
  };

  if (options.dryRunFile) {
    const file = options.dryRunFile;
    return withScratchState(config, (scratch) => run(scratch, dryRunSinkConfig(file, config.sink), false));
  }
  return run(config, undefined, true);
}
