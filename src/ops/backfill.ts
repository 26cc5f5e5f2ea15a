/**
 * `backfill`: reads a time window of history again, under its own checkpoint key (`<id>@backfill:<from>..<to>`), so
 * it resumes after a crash or Ctrl-C and never moves the sync's checkpoints; the ledger keeps it from resending.
 */
import type { Config } from '../config/load.js';
import type { RunSummary } from '../core/pipeline.js';
import { selectSources, type RunOptions } from '../core/run.js';
import type { TimeWindow } from '../core/types.js';
import { dryRunSinkConfig } from '../sinks/index.js';
import { checkWindow } from './window.js';
import { openDb } from '../store/db.js';
import type { Logger } from 'pino';
import { bytesRead, sourceFiles, totalBytes } from './estimate.js';
import { runLocked, type LockedRunResult } from './locked-run.js';
import { createProgress } from './progress.js';
import { withScratchState } from './scratch-state.js';
import { AUTO_BATCH_THRESHOLD_BYTES, chooseSink, type AutoThresholds, type Via } from './via.js';

export interface BackfillOptions {
  from: Date;
  to: Date;
  sourceIds?: string[];
  via: Via;
  /** When `via` is `auto`: input still to read at which batch ingestion is chosen (default AUTO_BATCH_THRESHOLD_BYTES). */
  autoThresholds?: AutoThresholds;
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
    const sink = sinkOverride ?? chooseSink(options.via, cfg, left === undefined ? {} : { bytes: left }, options.autoThresholds);
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
      options.log.info(
        {
          from: options.from.toISOString(),
          to: options.to.toISOString(),
          via: options.via,
          sink: sink.type,
          bytes: total,
          bytesLeft: left,
          ...(options.via === 'auto' ? { batchThresholdBytes: options.autoThresholds?.bytes ?? AUTO_BATCH_THRESHOLD_BYTES } : {}),
        },
        'backfill starting',
      );
      const result = await runLocked(cfg, runOptions, {
        lockName: `backfill:${options.from.toISOString()}..${options.to.toISOString()}`,
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
