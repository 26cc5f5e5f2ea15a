/** `xdm-feedback sync`: one incremental run over the configured sources. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { runSync, parseWait } from '../../ops/run-sync.js';
import { renderSummaries } from '../output.js';
import { dryRunSinkConfig } from '../../sinks/index.js';
import { globalOptions, loadConfig, loggerFor, print, runAction } from '../context.js';
import { onShutdownSignal } from '../signals.js';

export function registerSyncCommand(program: Command): void {
  program
    .command('sync')
    .description('Read new feedback from every configured source, send it to Adobe, and checkpoint it (one run).')
    .option('-s, --source <id...>', 'only these configured source ids')
    .option('--dry-run [file]', 'write the exact envelopes to an NDJSON file instead of sending; state untouched (file default: xdm-feedback-dry-run.ndjson)')
    .option('--wait [seconds]', 'when another run holds the lock, wait for it (default: exit 1 at once)')
    .option('--metrics-prom <file>', 'also write the run metrics as a Prometheus textfile')
    .addHelpText(
      'after',
      `
Exit codes: 0 everything settled, 1 fatal error, 2 bad configuration, 3 finished with dead letters.
SIGTERM/SIGINT stop reading, let the in-flight batch finish and commit, then exit.

Examples:
  xdm-feedback sync --config xdm-feedback.yaml
  xdm-feedback sync --source ovo --dry-run out.ndjson --json`,
    )
    .action(async (_opts, command: Command) => {
      const options = globalOptions(command);
      const local = command.opts() as { source?: string[]; dryRun?: string | boolean; wait?: string | boolean; metricsProm?: string };
      await runAction(options, async () => {
        const config = loadConfig(options);
        const log = loggerFor(options);
        const controller = new AbortController();
        const release = onShutdownSignal(controller, log);
        try {
          const result = await runSync(config, {
            command: 'sync',
            log,
            signal: controller.signal,
            ...(local.source ? { sourceIds: local.source } : {}),
            ...(local.dryRun
              ? { sinkOverride: dryRunSinkConfig(resolve(typeof local.dryRun === 'string' ? local.dryRun : 'xdm-feedback-dry-run.ndjson'), config.sink) }
              : {}),
          }, { dryRun: Boolean(local.dryRun), waitMs: parseWait(local.wait), ...(local.metricsProm ? { metricsProm: resolve(local.metricsProm) } : {}) });
          print(
            options,
            () =>
              result.summaries.length === 0 && result.error
                ? `error: ${result.error}`
                : renderSummaries(result.summaries) + (result.error ? `\n\nerror: ${result.error}` : ''),
            () => result,
          );
          return result.exitCode;
        } finally {
          release();
        }
      });
    });
}
