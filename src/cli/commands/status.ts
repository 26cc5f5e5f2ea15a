/** `xdm-feedback status`: last runs, per-source lag, counts by status and channel, open dead letters (read-only). */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError } from '../../errors.js';
import { buildStatus, openStateReadOnly } from '../../ops/status.js';
import { renderStatus } from '../../ops/status-text.js';
import { defaultStatePath } from '../../store/db.js';
import { defaultConfigFiles, globalOptions, loadConfig, print, runAction, type GlobalOptions } from '../context.js';
import type { Config } from '../../config/load.js';

/** The config when one is given or found; status also works with only `--state`. */
export function optionalConfig(options: GlobalOptions): Config | undefined {
  if (options.config || defaultConfigFiles.some((f) => existsSync(f))) return loadConfig(options, { secrets: false });
  return undefined;
}

/** The state file: --state, else the config's, else the default path. */
export function statePathOf(options: GlobalOptions, config: Config | undefined): string {
  return options.state ? resolve(options.state) : (config?.state ?? resolve(defaultStatePath));
}

export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('Show the last runs, how far each source has been read, counts by status and channel, and open dead letters.')
    .option('-n, --runs <n>', 'how many recent runs to list', '10')
    .addHelpText(
      'after',
      `
Reads the state file read-only, so it is safe while a sync runs. Works with --state alone (no config);
with a config it also lists input files not read yet.

Examples:
  xdm-feedback status --config xdm-feedback.yaml
  xdm-feedback status --state .xdm-feedback/state.db --json`,
    )
    .action(async (_opts, command: Command) => {
      const options = globalOptions(command);
      const local = command.opts() as { runs: string };
      await runAction(options, async () => {
        const runs = Number(local.runs);
        if (!Number.isInteger(runs) || runs < 0) throw new ConfigError(`--runs ${local.runs}: give a whole number`);
        const config = optionalConfig(options);
        const state = statePathOf(options, config);
        const db = openStateReadOnly(state);
        try {
          const report = await buildStatus(db, state, { runs, ...(config ? { config } : {}) });
          print(options, () => renderStatus(report), () => report);
        } finally {
          db.close();
        }
      });
    });
}
