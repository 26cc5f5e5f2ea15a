/** `xdm-feedback backfill`: re-read a time window of history, resumable, with progress; never moves the sync's checkpoints. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { runBackfill } from '../../ops/backfill.js';
import { checkWindow, parseWhen } from '../../ops/window.js';
import { parseWait } from '../../ops/run-sync.js';
import { parseBatchThreshold, parseVia } from '../../ops/via.js';
import { ConfigError } from '../../errors.js';
import { renderSummaries } from '../output.js';
import { globalOptions, loadConfig, loggerFor, print, runAction } from '../context.js';
import { onShutdownSignal } from '../signals.js';

export function registerBackfillCommand(program: Command): void {
  program
    .command('backfill')
    .description('Send the feedback of a past time window (provider time) again; resumes where it stopped.')
    .requiredOption('--from <date>', 'start of the window, inclusive: YYYY-MM-DD (UTC) or an ISO-8601 time')
    .requiredOption('--to <date>', 'end of the window, exclusive (up to, not including): YYYY-MM-DD (UTC) or ISO-8601')
    .option('-s, --source <id...>', 'only these configured source ids')
    .option('--via <how>', 'auto | streaming | batch: how events reach Adobe (auto: batch ingestion for large inputs, see --batch-threshold)', 'auto')
    .option(
      '--batch-threshold <size>',
      'with --via auto: input still to read at which batch ingestion is used instead of streaming, e.g. 500MB, 2GiB or bytes (default: 64MiB)',
    )
    .option('--dry-run [file]', 'write the exact envelopes to an NDJSON file instead of sending; state untouched (file default: xdm-feedback-dry-run.ndjson)')
    .option('--wait [seconds]', 'when the same window is already being backfilled, wait for it')
    .option('--metrics-prom <file>', 'also write the run metrics as a Prometheus textfile')
    .addHelpText(
      'after',
      `
The backfill keeps its own checkpoint per window (<source>@backfill:<from>..<to>): run the same command again
after a crash or Ctrl-C and it continues where it stopped; events already sent (by a sync or an earlier backfill)
are skipped by the ledger. Progress bar with rate and ETA on a terminal, progress log lines otherwise.

--via auto uses batch ingestion (the configured adobe-batch sink, or one derived from the adobe-streaming sink's
datasets) when the input files still to read hold at least --batch-threshold; below it, or when the size cannot be
told (Kafka, the MasStack API), it streams. A configured adobe-batch sink is always used.
Exit codes: 0 everything settled, 1 fatal error, 2 bad configuration or arguments, 3 finished with dead letters.

Examples:
  xdm-feedback backfill --from 2024-01-01 --to 2024-04-01
  xdm-feedback backfill --from 2024-03-01 --to 2024-03-02 --source crisisworks --dry-run march-1.ndjson
  xdm-feedback backfill --from 2023-01-01 --to 2024-01-01 --batch-threshold 200MB`,
    )
    .action(async (_opts, command: Command) => {
      const options = globalOptions(command);
      const local = command.opts() as {
        from: string;
        to: string;
        source?: string[];
        via?: string;
        batchThreshold?: string;
        dryRun?: string | boolean;
        wait?: string | boolean;
        metricsProm?: string;
      };
      await runAction(options, async () => {
        const window = { from: parseWhen('--from', local.from), to: parseWhen('--to', local.to) };
        checkWindow(window);
        const via = parseVia(local.via);
        if (local.batchThreshold !== undefined && via !== 'auto') {
          throw new ConfigError(`--batch-threshold only applies to --via auto (you asked for --via ${via})`);
        }
        const batchThreshold = local.batchThreshold === undefined ? undefined : parseBatchThreshold(local.batchThreshold);
        const config = loadConfig(options);
        const log = loggerFor(options);
        const controller = new AbortController();
        const release = onShutdownSignal(controller, log);
        try {
          const result = await runBackfill(config, {
            ...window,
            via,
            ...(batchThreshold !== undefined ? { autoThresholds: { bytes: batchThreshold } } : {}),
            log,
            signal: controller.signal,
            waitMs: parseWait(local.wait),
            ...(local.source ? { sourceIds: local.source } : {}),
            ...(local.dryRun ? { dryRunFile: resolve(typeof local.dryRun === 'string' ? local.dryRun : 'xdm-feedback-dry-run.ndjson') } : {}),
            ...(local.metricsProm ? { metricsProm: resolve(local.metricsProm) } : {}),
          });
          const interrupted = result.summaries.some((s) => s.interrupted);
          print(
            options,
            () =>
              [
                result.summaries.length > 0 ? renderSummaries(result.summaries) : '',
                interrupted ? 'stopped early: run the same command again to continue' : '',
                result.error ? `error: ${result.error}` : '',
              ]
                .filter((part) => part !== '')
                .join('\n\n'),
            () => result,
          );
          return result.exitCode;
        } finally {
          release();
        }
      });
    });
}
