/** The dead-letter table for operators: filtered listing, one record in full, NDJSON/CSV export, retention pruning. */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Stage } from '../core/types.js';
import type { Db } from '../store/db.js';
import type { DeadLetterRow } from '../store/state.js';
import { ConfigError } from '../errors.js';

export const STAGES: readonly Stage[] = ['decode', 'map', 'validate', 'ingest'];

/** Which dead letters a dlq command acts on. */
export interface DeadLetterFilter {
  stage?: Stage;
  /** Source key (configured id; backfills add `@backfill:…`). */
  source?: string;
  /** Substring of the reason. */
  reason?: string;
  /** Run that dead-lettered them. */
  runId?: number;
  /** Include dead letters already replayed. @default false */
  includeReplayed?: boolean;
  limit?: number;
}

export function parseStage(value: string | undefined): Stage | undefined {
  if (value === undefined) return undefined;
  if (!(STAGES as readonly string[]).includes(value)) throw new ConfigError(`--stage ${value}: use one of ${STAGES.join(', ')}`);
  return value as Stage;
}

function toRow(r: Record<string, unknown>): DeadLetterRow {
  let errors: string[] = [];
  if (typeof r.errors === 'string') {
    try {
      const parsed: unknown = JSON.parse(r.errors);
      errors = Array.isArray(parsed) ? parsed.map(String) : [String(parsed)];
    } catch {
      errors = [r.errors];
    }
  }
  return {
    id: r.id as number,
    runId: r.run_id as number,
    source: r.source as string,
    stage: r.stage as Stage,
    stream: (r.stream as string | null) ?? null,
    position: (r.position as string | null) ?? null,
    eventId: (r.event_id as string | null) ?? null,
    raw: r.raw as string,
    reason: r.reason as string,
    errors,
    createdAt: r.created_at as string,
    replayedAt: (r.replayed_at as string | null) ?? null,
    replayRunId: (r.replay_run_id as number | null) ?? null,
  };
}

function whereOf(filter: DeadLetterFilter, afterId = 0): { sql: string; args: unknown[] } {
  const where = ['id > ?'];
  const args: unknown[] = [afterId];
  if (filter.stage) (where.push('stage = ?'), args.push(filter.stage));
  if (filter.source) (where.push('source = ?'), args.push(filter.source));
  if (filter.runId !== undefined) (where.push('run_id = ?'), args.push(filter.runId));
  if (filter.reason) (where.push("reason LIKE ? ESCAPE '\\'"), args.push(`%${filter.reason.replace(/[\\%_]/g, (c) => '\\' + c)}%`));
  if (!filter.includeReplayed) where.push('replayed_at IS NULL');
  return { sql: where.join(' AND '), args };
}

/** Dead letters matching the filter, oldest first; `afterId` pages through large tables. */
export function listDeadLetters(db: Db, filter: DeadLetterFilter = {}, afterId = 0): DeadLetterRow[] {
  const w = whereOf(filter, afterId);
  return (db.prepare(`SELECT * FROM dead_letters WHERE ${w.sql} ORDER BY id LIMIT ?`).all(...w.args, filter.limit ?? -1) as Array<Record<string, unknown>>).map(toRow);
}

export function countDeadLetters(db: Db, filter: DeadLetterFilter = {}): number {
  const w = whereOf(filter);
  return (db.prepare(`SELECT count(*) AS n FROM dead_letters WHERE ${w.sql}`).get(...w.args) as { n: number }).n;
}

export function getDeadLetter(db: Db, id: number): DeadLetterRow | undefined {
  const row = db.prepare('SELECT * FROM dead_letters WHERE id = ?').get(id) as Record<string, unknown> | undefined;
  return row ? toRow(row) : undefined;
}

export type ExportFormat = 'ndjson' | 'csv';

const CSV_COLUMNS = ['id', 'runId', 'source', 'stage', 'stream', 'position', 'eventId', 'reason', 'errors', 'createdAt', 'replayedAt', 'replayRunId', 'raw'] as const;

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : Array.isArray(value) ? value.join('\n') : String(value);
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One dead letter as an export line (NDJSON object or CSV row without the trailing newline). */
export function exportLine(row: DeadLetterRow, format: ExportFormat): string {
  if (format === 'ndjson') return JSON.stringify(row);
  return CSV_COLUMNS.map((c) => csvCell(row[c])).join(',');
}

/** Streams the matching dead letters to `path`; returns how many were written. */
export async function exportDeadLetters(db: Db, filter: DeadLetterFilter, format: ExportFormat, path: string): Promise<number> {
  const out = createWriteStream(path, { encoding: 'utf8' });
  const write = async (line: string) => {
    if (!out.write(line + '\n')) await once(out, 'drain');
  };
  let n = 0;
  try {
    if (format === 'csv') await write(CSV_COLUMNS.join(','));
    // Page by id so memory stays flat however many dead letters there are.
    const max = filter.limit !== undefined && filter.limit >= 0 ? filter.limit : Infinity;
    let after = 0;
    while (n < max) {
      const page = listDeadLetters(db, { ...filter, limit: Math.min(1000, max - n) }, after);
      if (page.length === 0) break;
      for (const row of page) {
        await write(exportLine(row, format));
        n++;
      }
      after = page.at(-1)!.id;
    }
  } finally {
    out.end();
    await once(out, 'close');
  }
  return n;
}

export interface PruneOptions {
  /** Delete dead letters created more than this many days ago. */
  deadLettersOlderThanDays?: number;
  /** Also delete open (never replayed) dead letters past the cutoff. @default false */
  includeOpen?: boolean;
  /**
   * Delete ledger entries sent, and history rows recorded, more than this many days ago (by when we wrote them, not
   * event time, so a fresh backfill of old events keeps its dedupe entries for the full retention).
   */
  ledgerOlderThanDays?: number;
  /** Count only; delete nothing. @default false */
  dryRun?: boolean;
  now?: Date;
}

export interface PruneResult {
  deadLetters: number;
  ledger: number;
  history: number;
  dryRun: boolean;
  cutoffs: { deadLetters?: string; ledger?: string };
}

const cutoff = (now: Date, days: number) => new Date(now.getTime() - days * 86_400_000).toISOString();

/** Retention: deletes old dead letters, ledger entries and history rows in one transaction. */
export function pruneState(db: Db, options: PruneOptions): PruneResult {
  const now = options.now ?? new Date();
  const result: PruneResult = { deadLetters: 0, ledger: 0, history: 0, dryRun: Boolean(options.dryRun), cutoffs: {} };
  const run = (sql: string, arg: string) =>
    options.dryRun
      ? (db.prepare(`SELECT count(*) AS n FROM (${sql.replace(/^DELETE FROM (\w+)/, 'SELECT 1 FROM $1')})`).get(arg) as { n: number }).n
      : db.prepare(sql).run(arg).changes;
  db.transaction(() => {
    if (options.deadLettersOlderThanDays !== undefined) {
      const at = cutoff(now, options.deadLettersOlderThanDays);
      result.cutoffs.deadLetters = at;
      result.deadLetters = run(
        `DELETE FROM dead_letters WHERE created_at < ?${options.includeOpen ? '' : ' AND replayed_at IS NOT NULL'}`,
        at,
      );
    }
    if (options.ledgerOlderThanDays !== undefined) {
      const at = cutoff(now, options.ledgerOlderThanDays);
      result.cutoffs.ledger = at;
      result.ledger = run('DELETE FROM ledger WHERE sent_at < ?', at);
      result.history = run('DELETE FROM history WHERE recorded_at < ?', at);
    }
  })();
  return result;
}
