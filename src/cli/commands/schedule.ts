/** `xdm-feedback schedule`: a long-running process that syncs on the configured cron schedule, never overlapping. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { ConfigError, ExitCode } from '../../errors.js';
import { runSync, parseWait } from '../../ops/run-sync.js';
import { runSchedule } from '../../ops/schedule.js';
import { pruneState } from '../../ops/dlq.js';
import { openDb } from '../../store/db.js';
import { globalOptions, loadConfig, loggerFor, runAction } from '../context.js';
import { onShutdownSignal } from '../signals.js';

export function registerScheduleCommand(program: Command): void {
  program
    .command('schedule')
    .description('Run `sync` on the cron schedule of the config (schedule.cron, schedule.timezone) until stopped.')
    .option('--cron <expression>', 'override schedule.cron, e.g. "*/15 * * * *" (6 fields: with seconds)')
    .option('--timezone <zone>', 'override schedule.timezone (IANA, e.g. Europe/London)')
    .option('--wait [seconds]', 'when another run holds the lock, wait for it (default: skip this tick)')
    .option('--run-now', 'also run once right away')
    .option('--metrics-prom <file>', 'also write each run\'s metrics as a Prometheus textfile')
    .addHelpText(
      'after',
      `
Each tick takes the state file's lease lock; a tick that finds another run (a manual sync, a second scheduler)
is skipped with a warning. A failing run is logged and recorded (see \`status\`) and the schedule goes on.
SIGTERM/SIGINT: the running tick finishes its in-flight batch and commits, the lock is released, exit 0.
With retentionDays in the config, old ledger/history rows and replayed dead letters are pruned once a day.
It prints nothing on stdout (--json changes nothing): each run is logged on stderr (JSON lines unless on a
terminal), written to runs/<id>.json next to the state file and listed by \`status\`.

Examples:
  xdm-feedback schedule --config xdm-feedback.yaml
  xdm-feedback schedule --cron "*/5 * * * *" --run-now --metrics-prom /var/lib/node_exporter/xdm_feedback.prom`,
    )
    .action(async (_opts, command: Command) => {
      const options = globalOptions(command);
      const local = command.opts() as { cron?: string; timezone?: string; wait?: string | boolean; runNow?: boolean; metricsProm?: string };
      await runAction(options, async () => {
        const config = loadConfig(options);
        const log = loggerFor(options);
        const cron = local.cron ?? config.schedule?.cron;
        if (!cron) throw new ConfigError('schedule.cron: missing; add `schedule: { cron: "*/15 * * * *" }` to the config or pass --cron');
        const waitMs = parseWait(local.wait);
        const controller = new AbortController();
        const release = onShutdownSignal(controller, log);
        let lastPrune = 0;
        try {
          await runSchedule({
            cron,
            timezone: local.timezone ?? config.schedule?.timezone ?? 'UTC',
            log,
            signal: controller.signal,
            runNow: Boolean(local.runNow),
            tick: async (signal) => {
              const result = await runSync(
                config,
                { command: 'schedule', log, signal },
                { waitMs, ...(local.metricsProm ? { metricsProm: resolve(local.metricsProm) } : {}) },
              );
              if (config.retentionDays && Date.now() - lastPrune > 86_400_000) {
                lastPrune = Date.now();
                const db = openDb(config.state);
                try {
                  const pruned = pruneState(db, { deadLettersOlderThanDays: config.retentionDays, ledgerOlderThanDays: config.retentionDays });
                  log.info({ ...pruned }, 'pruned state older than retentionDays');
                } finally {
                  db.close();
                }
              }
              return result;
            },
          });
          return ExitCode.ok;
        } finally {
          release();
        }
      });
    });
}
