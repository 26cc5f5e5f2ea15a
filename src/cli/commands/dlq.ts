/** `xdm-feedback dlq`: list, show, replay, export and prune dead letters. */
import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { ConfigError, ExitCode } from '../../errors.js';
import {
  STAGES,
  countDeadLetters,
  exportDeadLetters,
  getDeadLetter,
  listDeadLetters,
  parseStage,
  pruneState,
  type DeadLetterFilter,
} from '../../ops/dlq.js';
import { runLocked } from '../../ops/locked-run.js';
import { replayDeadLetters } from '../../ops/replay.js';
import { openStateReadOnly } from '../../ops/status.js';
import { shortTime } from '../../ops/format.js';
import { parseWait } from '../../ops/run-sync.js';
import { openDb } from '../../store/db.js';
import { renderSummaries, table } from '../output.js';
import { globalOptions, loadConfig, loggerFor, print, runAction } from '../context.js';
import { onShutdownSignal } from '../signals.js';
import { optionalConfig, statePathOf } from './status.js';

interface FilterFlags {
  stage?: string;
  source?: string;
  reason?: string;
  run?: string;
  all?: boolean;
  limit?: string;
}

function withFilters(command: Command, includeAll = true): Command {
  command
    .addOption(new Option('--stage <stage>', 'only this stage').choices([...STAGES]))
    .option('--source <id>', 'only this source key (a configured id, or <id>@backfill:… for a backfill)')
    .option('--reason <text>', 'only reasons containing this text')
    .option('--run <id>', 'only dead letters of this run');
  if (includeAll) command.option('--all', 'include dead letters already replayed');
  return command;
}

function filterOf(flags: FilterFlags): DeadLetterFilter {
  const filter: DeadLetterFilter = {};
  const stage = parseStage(flags.stage);
  if (stage) filter.stage = stage;
  if (flags.source) filter.source = flags.source;
  if (flags.reason) filter.reason = flags.reason;
  if (flags.run !== undefined) {
    const run = Number(flags.run);
    if (!Number.isInteger(run)) throw new ConfigError(`--run ${flags.run}: give a run id (see \`xdm-feedback status\`)`);
    filter.runId = run;
  }
  if (flags.all) filter.includeReplayed = true;
  if (flags.limit !== undefined) {
    const limit = Number(flags.limit);
    if (!Number.isInteger(limit) || limit < 0) throw new ConfigError(`--limit ${flags.limit}: give a whole number`);
    filter.limit = limit;
  }
  return filter;
}

const cut = (text: string, n: number) => (text.length > n ? text.slice(0, n - 3) + '...' : text);

function prettyRaw(raw: string): string {
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    return raw;
  }
}

export function registerDlqCommand(program: Command): void {
  const dlq = program
    .command('dlq')
    .description('Inspect and act on dead letters: records that failed to decode, map, validate or be ingested.')
    .addHelpText(
      'after',
      `
Typical flow: \`dlq list\` to see what failed and why, fix the mapping or the data, then \`dlq replay\`.

Examples:
  xdm-feedback dlq list --stage map
  xdm-feedback dlq show 42
  xdm-feedback dlq replay --stage validate
  xdm-feedback dlq export --format csv --out dead-letters.csv
  xdm-feedback dlq prune --older-than 30`,
    );

  withFilters(dlq.command('list').description('List open dead letters (newest last).'))
    .option('--limit <n>', 'at most this many', '50')
    .action(async (_opts, command: Command) => {
      const options = globalOptions(command);
      await runAction(options, async () => {
        const filter = filterOf(command.opts() as FilterFlags);
        const state = statePathOf(options, optionalConfig(options));
        const db = openStateReadOnly(state);
        try {
          const rows = listDeadLetters(db, filter);
          const total = countDeadLetters(db, { ...filter, limit: -1 });
          print(
            options,
            () =>
              rows.length === 0
                ? 'no dead letters match'
                : table(
                    ['id', 'run', 'source', 'stage', 'created (UTC)', 'reason', ...(filter.includeReplayed ? ['replayed (UTC)'] : [])],
                    rows.map((d) => [
                      d.id,
                      d.runId,
                      d.source,
                      d.stage,
                      shortTime(d.createdAt),
                      cut(d.reason.replace(/\s+/g, ' '), 100),
                      ...(filter.includeReplayed ? [shortTime(d.replayedAt)] : []),
                    ]),
                  ) + (total > rows.length ? `\n${rows.length} of ${total} shown; use --limit or filters` : `\n${total} shown`),
            () => ({ total, deadLetters: rows }),
          );
        } finally {
          db.close();
        }
      });
    });

  dlq
    .command('show <id>')
    .description('Show one dead letter in full: reason, every validation error, position and the raw input.')
    .action(async (id: string, _opts, command: Command) => {
      const options = globalOptions(command);
      await runAction(options, async () => {
        const n = Number(id);
        if (!Number.isInteger(n)) throw new ConfigError(`dlq show ${id}: give a dead-letter id (see \`dlq list\`)`);
        const state = statePathOf(options, optionalConfig(options));
        const db = openStateReadOnly(state);
        try {
          const d = getDeadLetter(db, n);
          if (!d) throw new ConfigError(`dlq show ${id}: no dead letter with this id in ${state}`);
          print(
            options,
            () =>
              [
                `dead letter ${d.id}  (run ${d.runId}, ${shortTime(d.createdAt)} UTC)`,
                `source    ${d.source}`,
                `stage     ${d.stage}`,
                `stream    ${d.stream ?? '-'}`,
                `position  ${d.position ?? '-'}`,
                `event id  ${d.eventId ?? '-'}`,
                `replayed  ${d.replayedAt ? `${shortTime(d.replayedAt)} UTC by run ${d.replayRunId}` : 'no'}`,
                `reason    ${d.reason}`,
                ...(d.errors.length > 0 ? ['errors', ...d.errors.map((e) => `  - ${e}`)] : []),
                'raw',
                prettyRaw(d.raw),
              ].join('\n'),
            () => d,
          );
        } finally {
          db.close();
        }
      });
    });

  withFilters(
    dlq
      .command('replay')
      .description('Run open dead letters again through the current mapping, validation and sink (after a fix).'),
    false,
  )
    .option('--limit <n>', 'at most this many')
    .option('--wait [seconds]', 'when another replay runs, wait for it')
    .addHelpText(
      'after',
      `
Each replayed dead letter is marked (replayed_at, replay run); one that fails again gets a new dead-letter row.
Events already in the ledger are not sent twice (same _id). Exit code 3 when some failed again.`,
    )
    .action(async (_opts, command: Command) => {
      const options = globalOptions(command);
      const flags = command.opts() as FilterFlags & { wait?: string | boolean };
      await runAction(options, async () => {
        const filter = filterOf(flags);
        const config = loadConfig(options);
        const log = loggerFor(options);
        const controller = new AbortController();
        const release = onShutdownSignal(controller, log);
        try {
          let replayed = 0;
          let unknown: string[] = [];
          const result = await runLocked(
            config,
            { command: 'dlq replay', log, signal: controller.signal },
            {
              lockName: 'dlq-replay',
              waitMs: parseWait(flags.wait),
              run: async (cfg, opts) => {
                const r = await replayDeadLetters(cfg, opts, filter);
                replayed = r.replayed;
                unknown = r.unknownSources;
                return r;
              },
            },
          );
          print(
            options,
            () =>
              [
                `replayed ${replayed} dead letters (run ${result.runId})`,
                result.summaries.length > 0 ? renderSummaries(result.summaries) : '',
                unknown.length > 0 ? `left open (source no longer configured): ${unknown.join(', ')}` : '',
                result.error ? `error: ${result.error}` : '',
              ]
                .filter(Boolean)
                .join('\n\n'),
            () => ({ ...result, replayed, unknownSources: unknown }),
          );
          return result.exitCode;
        } finally {
          release();
        }
      });
    });

  withFilters(dlq.command('export').description('Write dead letters (with their raw input) to a file.'))
    .addOption(new Option('--format <format>', 'file format').choices(['ndjson', 'csv']).default('ndjson'))
    .requiredOption('--out <file>', 'output file')
    .option('--limit <n>', 'at most this many')
    .action(async (_opts, command: Command) => {
      const options = globalOptions(command);
      const flags = command.opts() as FilterFlags & { format: 'ndjson' | 'csv'; out: string };
      await runAction(options, async () => {
        const filter = filterOf(flags);
        const state = statePathOf(options, optionalConfig(options));
        const db = openStateReadOnly(state);
        try {
          const out = resolve(flags.out);
          const n = await exportDeadLetters(db, filter, flags.format, out);
          print(options, () => `wrote ${n} dead letters to ${out}`, () => ({ written: n, file: out, format: flags.format }));
        } finally {
          db.close();
        }
      });
    });

  dlq
    .command('prune')
    .description('Retention: delete replayed dead letters older than N days (and ledger/history per retentionDays).')
    .requiredOption('--older-than <days>', 'delete dead letters created more than this many days ago')
    .option('--include-open', 'also delete dead letters never replayed')
    .option('--ledger-older-than <days>', 'also delete ledger and history rows older than this (default: config retentionDays)')
    .option('--dry-run', 'only count what would be deleted')
    .action(async (_opts, command: Command) => {
      const options = globalOptions(command);
      const flags = command.opts() as { olderThan: string; includeOpen?: boolean; ledgerOlderThan?: string; dryRun?: boolean };
      await runAction(options, async () => {
        const days = (flag: string, v: string) => {
          const n = Number(v);
          if (!Number.isFinite(n) || n < 0) throw new ConfigError(`${flag} ${v}: give a number of days`);
          return n;
        };
        const config = optionalConfig(options);
        const ledgerDays = flags.ledgerOlderThan !== undefined ? days('--ledger-older-than', flags.ledgerOlderThan) : config?.retentionDays;
        const state = statePathOf(options, config);
        const db = openDb(state);
        try {
          const result = pruneState(db, {
            deadLettersOlderThanDays: days('--older-than', flags.olderThan),
            includeOpen: Boolean(flags.includeOpen),
            ...(ledgerDays !== undefined ? { ledgerOlderThanDays: ledgerDays } : {}),
            dryRun: Boolean(flags.dryRun),
          });
          const verb = result.dryRun ? 'would delete' : 'deleted';
          print(
            options,
            () =>
              `${verb} ${result.deadLetters} dead letters${result.cutoffs.ledger ? `, ${result.ledger} ledger entries and ${result.history} history rows` : ''}`,
            () => result,
          );
          return ExitCode.ok;
        } finally {
          db.close();
        }
      });
    });
}
