/** `xdm-feedback report --html out.html`: one self-contained HTML page of charts and tables from the state file. */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { parseWhen, checkWindow } from '../../ops/window.js';
import { writeReport } from '../../ops/report.js';
import { openStateReadOnly } from '../../ops/status.js';
import type { EventTimeWindow } from '../../ops/queries.js';
import { globalOptions, print, runAction } from '../context.js';
import { optionalConfig, statePathOf } from './status.js';

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('Write a self-contained HTML report: outcomes by channel over time, bounces, failures, retries, exclusions, opens/clicks, throughput.')
    .requiredOption('--html <file>', 'the HTML file to write')
    .option('--from <date>', 'only events from this provider time on: YYYY-MM-DD (UTC) or ISO-8601')
    .option('--to <date>', 'only events before this provider time (exclusive)')
    .addHelpText(
      'after',
      `
The page has no external dependencies (chart.js is inlined) and makes no network requests: mail it, archive it,
open it offline. Reads the state file read-only, so it is safe while a sync runs.

Examples:
  xdm-feedback report --html report.html
  xdm-feedback report --html march.html --from 2024-03-01 --to 2024-04-01`,
    )
    .action(async (_opts, command: Command) => {
      const options = globalOptions(command);
      const local = command.opts() as { html: string; from?: string; to?: string };
      await runAction(options, async () => {
        const window: EventTimeWindow = {};
        const from = local.from ? parseWhen('--from', local.from) : undefined;
        const to = local.to ? parseWhen('--to', local.to) : undefined;
        if (from && to) checkWindow({ from, to });
        if (from) window.from = from.toISOString();
        if (to) window.to = to.toISOString();
        const state = statePathOf(options, optionalConfig(options));
        const db = openStateReadOnly(state);
        try {
          const out = resolve(local.html);
          const data = writeReport(db, out, window);
          print(
            options,
            () => `wrote ${out}: ${data.totals.events} events, ${data.totals.runs} runs, ${data.charts.length} charts`,
            () => ({ file: out, totals: data.totals, charts: data.charts.map((c) => c.id) }),
          );
        } finally {
          db.close();
        }
      });
    });
}
