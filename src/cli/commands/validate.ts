/** `xdm-feedback validate <file>`: checks XDM events (or DCS envelopes) in an NDJSON file against the schema. */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { XdmEvent } from '../../core/types.js';
import { buildValidators } from '../../core/run.js';
import { defaultConfigFiles, globalOptions, print, runAction, loadConfig } from '../context.js';
import { existsSync } from 'node:fs';
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
    .action(async (file: string, _opts, command: Command) => {
      const options = globalOptions(command);
      await runAction(options, async () => {
        const hasConfig = options.config !== undefined || defaultConfigFiles.some((f) => existsSync(f));
        const validators = buildValidators(hasConfig ? loadConfig(options) : {});
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
