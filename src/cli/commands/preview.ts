/** `xdm-feedback preview`: N records of a source, input and XDM side by side, with the validation verdict. Writes nothing. */
import type { Command } from 'commander';
import type { JsonObject, SourceItem, XdmEvent } from '../../core/types.js';
import { selectSources } from '../../core/run.js';
import { buildValidators, mapperFor, runMappingSettings } from '../../core/stages.js';
import { createSource } from '../../sources/index.js';
import { ConfigError } from '../../errors.js';
import { globalOptions, loadConfig, loggerFor, print, runAction } from '../context.js';

export interface PreviewRow {
  input: JsonObject | string;
  verdict: 'valid' | 'invalid' | 'skip' | 'unmappable' | 'undecodable';
  reason?: string;
  errors?: string[];
  xdm?: XdmEvent;
}

function sideBySide(left: string, right: string, width: number): string {
  const l = left.split('\n');
  const r = right.split('\n');
  const rows = Math.max(l.length, r.length);
  const out: string[] = [];
  for (let i = 0; i < rows; i++) out.push(`${(l[i] ?? '').slice(0, width).padEnd(width)} │ ${r[i] ?? ''}`);
  return out.join('\n');
}

export function renderPreview(rows: PreviewRow[]): string {
  const width = Math.max(40, Math.floor(((process.stdout.columns || 160) - 3) / 2));
  return rows
    .map((row, i) => {
      const head = `── record ${i + 1}: ${row.verdict}${row.reason ? ` (${row.reason})` : ''}`;
      const input = typeof row.input === 'string' ? row.input : JSON.stringify(row.input, null, 2);
      const xdm = row.xdm ? JSON.stringify(row.xdm, null, 2) : '(no event)';
      const errors = row.errors?.length ? '\n' + row.errors.map((e) => `   ✗ ${e}`).join('\n') : '';
      return `${head}\n${sideBySide(input, xdm, width)}${errors}`;
    })
    .join('\n\n');
}

export function registerPreviewCommand(program: Command): void {
  program
    .command('preview')
    .description('Show N records of a source next to the XDM events they map to, with the validation verdict (reads no checkpoint, writes nothing).')
    .option('-n, --count <n>', 'how many records', '5')
    .option('-s, --source <id>', 'the configured source id (default: the first)')
    .addHelpText(
      'after',
      `
Reads from the start of the source's input (ignoring checkpoints) and sends nothing. Exit code 0 when every record
shown maps to a valid event or is a skip (a non-outcome such as OVO Scheduled), 3 when one does not decode, map
or validate. --json prints one object per record: input, verdict, reason/errors and the XDM event.

Examples:
  xdm-feedback preview -n 5
  xdm-feedback preview --source crisisworks -n 20 --json`,
    )
    .action(async (_opts, command: Command) => {
      const options = globalOptions(command);
      const local = command.opts() as { count: string; source?: string };
      await runAction(options, async () => {
        const count = Number(local.count);
        // A count that is not a positive whole number would read the whole input instead of N records.
        if (!/^\d+$/.test(local.count) || count < 1) throw new ConfigError(`--count ${local.count}: give a whole number of records, 1 or more`);
        const config = loadConfig(options, { secrets: false }); // reads and maps; never calls Adobe
        const configured = selectSources(config, local.source ? [local.source] : undefined)[0]!;
        const mapper = mapperFor(configured, runMappingSettings(config));
        const validators = buildValidators(config);
        const source = createSource(configured, { baseDir: config.baseDir });
        const controller = new AbortController();
        const rows: PreviewRow[] = [];
        const toRow = (item: SourceItem): PreviewRow => {
          if (item.kind === 'undecodable') return { input: item.raw, verdict: 'undecodable', reason: item.reason };
          if (item.kind === 'text') throw new Error('preview reads decoded records'); // it never asks for deferDecoding
          const { record } = item;
          const result = mapper.map(record);
          if (result.kind === 'invalid') return { input: record, verdict: 'unmappable', reason: result.reason };
          if (result.kind === 'skip') return { input: record, verdict: 'skip', reason: result.reason };
          const errors = validators.flatMap((v) => v.validate(result.mapped.event) ?? []);
          return errors.length > 0
            ? { input: record, verdict: 'invalid', errors, xdm: result.mapped.event }
            : { input: record, verdict: 'valid', xdm: result.mapped.event };
        };
        try {
          outer: for await (const batch of source.read({ checkpoint: () => undefined, signal: controller.signal, log: loggerFor(options) })) {
            for (const item of batch) {
              rows.push(toRow(item));
              if (rows.length >= count) break outer;
            }
          }
        } finally {
          controller.abort();
          await source.close?.();
        }
        print(options, () => renderPreview(rows), () => rows);
        return rows.some((r) => r.verdict === 'invalid' || r.verdict === 'unmappable' || r.verdict === 'undecodable') ? 3 : 0;
      });
    });
}
