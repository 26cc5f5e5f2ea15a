/** `xdm-feedback validate <file>`: checks XDM events (or DCS envelopes) in an NDJSON file against the schema. */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { XdmEvent } from '../../core/types.js';
import { buildValidators } from '../../core/stages.js';
import { defaultConfigFiles, globalOptions, print, runAction, loadConfig } from '../context.js';
import { existsSync, statSync } from 'node:fs';
import { ConfigError } from '../../errors.js';
import { table } from '../output.js';

interface LineVerdict {
  line: number;
  valid: boolean;
  errors: string[];
}

function entityOf(value: unknown): XdmEvent {
  const body = (value as { body?: { xdmEntity?: unknown } }).body;
  return (body?.xdmEntity ?? value) as XdmEvent;
}

export function registerValidateCommand(program: Command): void {
  program
    .command('validate')
    .argument('<file>', 'NDJSON file of XDM events or DCS envelopes (e.g. the output of sync --dry-run)')
    .description('Validate XDM ExperienceEvents against the bundled schema (and the pulled tenant schema, when configured).')
    .addHelpText(
      'after',
      `
Each line is an XDM event or a DCS envelope (its body.xdmEntity is checked). Exit code 0 when every event is valid,
3 when some are not (the first 50 are listed with their errors; --json lists them all), 2 when the file is missing.

Examples:
  xdm-feedback sync --dry-run out.ndjson && xdm-feedback validate out.ndjson
  xdm-feedback validate events.ndjson --config xdm-feedback.yaml --json`,
    )
    .action(async (file: string, _opts, command: Command) => {
      const options = globalOptions(command);
      await runAction(options, async () => {
        if (!existsSync(file) || !statSync(file).isFile()) throw new ConfigError(`validate: no file at ${file}`);
        const hasConfig = options.config !== undefined || defaultConfigFiles.some((f) => existsSync(f));
        const validators = buildValidators(hasConfig ? loadConfig(options, { secrets: false }) : {});
        const verdicts: LineVerdict[] = [];
        let line = 0;
        for await (const text of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
          line++;
          if (text.trim() === '') continue;
          let errors: string[];
          try {
            const event = entityOf(JSON.parse(text));
            errors = validators.flatMap((v) => v.validate(event) ?? []);
          } catch (error) {
            errors = [`not JSON: ${(error as Error).message}`];
          }
          verdicts.push({ line, valid: errors.length === 0, errors });
        }
        const invalid = verdicts.filter((v) => !v.valid);
        print(
          options,
          () =>
            `${verdicts.length} events, ${verdicts.length - invalid.length} valid, ${invalid.length} invalid` +
            (invalid.length ? '\n\n' + table(['line', 'errors'], invalid.slice(0, 50).map((v) => [v.line, v.errors.join('; ')])) : ''),
          () => ({ events: verdicts.length, invalid: invalid.length, verdicts: invalid }),
        );
        return invalid.length > 0 ? 3 : 0;
      });
    });
}
