/** The `xdm-feedback` command line: one subcommand per job, `--help` everywhere, `--json` for machines. */
import { Command, Option } from 'commander';
import { registerSyncCommand } from './commands/sync.js';
import { registerPreviewCommand } from './commands/preview.js';
import { registerValidateCommand } from './commands/validate.js';
import { registerScheduleCommand } from './commands/schedule.js';
import { registerBackfillCommand } from './commands/backfill.js';
import { registerStatusCommand } from './commands/status.js';
import { registerDlqCommand } from './commands/dlq.js';
import { registerReportCommand } from './commands/report.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerSchemaCommand } from './commands/schema.js';
import { registerAepLocalCommand } from '../aep-local/cli.js';
import { enforceTlsVerification } from '../util/tls-verification.js';

export function buildProgram(): Command {
  const program = new Command('xdm-feedback')
    .description(
      'Export delivery feedback from messaging platforms into Adobe Experience Platform as AJO message-delivery-feedback ExperienceEvents.',
    )
    .version('0.1.0')
    .option('-c, --config <file>', 'configuration file, JSON or YAML (default: ./xdm-feedback.yaml if present)')
    .option('--state <file>', 'SQLite state file (overrides the config)')
    .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']))
    .option('--json', 'machine-readable JSON on stdout instead of tables')
    .showHelpAfterError()
    // Every command's --help lists --config, --state, --json and --log-level too (its examples use them).
    .configureHelp({ showGlobalOptions: true })
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 fatal error, 2 bad configuration or arguments, 3 finished with dead letters.
Secrets come only from the environment (ADOBE_CLIENT_SECRET) or a file named in the config.`,
    );
  program.hook('preAction', () => {
    if (enforceTlsVerification()) process.stderr.write('xdm-feedback: NODE_TLS_REJECT_UNAUTHORIZED=0 is ignored: TLS certificates are always verified\n');
  });
  // With --json, an argument error (unknown option, missing required option…) is a JSON object on stdout like
  // every other error, and the help that follows it on a terminal is left out.
  const wantsJson = () => (program as unknown as { rawArgs?: string[] }).rawArgs?.includes('--json') === true;
  program.configureOutput({
    outputError: (text, write) => {
      if (!wantsJson()) return write(text);
      process.stderr.write(text);
      process.stdout.write(JSON.stringify({ error: text.trim().replace(/^error: /, '').replace(/\s*\n\s*/g, ' '), exitCode: 2 }) + '\n');
    },
    writeErr: (text) => {
      if (!wantsJson()) process.stderr.write(text);
    },
  });
  program.exitOverride((error) => {
    if (error.code === 'commander.help' && error.exitCode !== 0) {
      // No command given (`xdm-feedback`, `xdm-feedback dlq`): the help went to stderr; that is a usage error.
      if (wantsJson()) process.stdout.write(JSON.stringify({ error: 'no command given; see --help for the commands', exitCode: 2 }) + '\n');
      process.exit(2);
    }
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') process.exit(0);
    process.exit(2);
  });
  registerDemoCommand(program);
  registerSyncCommand(program);
  registerPreviewCommand(program);
  registerValidateCommand(program);
  registerScheduleCommand(program);
  registerBackfillCommand(program);
  registerStatusCommand(program);
  registerDlqCommand(program);
  registerReportCommand(program);
  registerSchemaCommand(program);
  registerAepLocalCommand(program);
  return program;
}

