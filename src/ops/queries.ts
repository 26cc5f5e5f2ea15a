/** Read-only queries over the state database for operators: runs, checkpoints, ledger counts, dead letters, report series. */
import type { Db } from '../store/db.js';
import type { Stage } from '../core/types.js';

/** An inclusive-from, exclusive-to window on event time (ISO strings compare correctly as text). */
export interface EventTimeWindow {
  from?: string;
  to?: string;
}

export interface RunRow {
  id: number;
  command: string;
  source: string | null;
  sink: string | null;
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  exitCode: number | null;
  counters: Record<string, unknown>;
  error: string | null;
}

function parseJsonObject(text: unknown): Record<string, unknown> {
  if (typeof text !== 'string') return {};
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function toRunRow(r: Record<string, unknown>): RunRow {
  const startedAt = r.started_at as string;
  const endedAt = (r.ended_at as string | null) ?? null;
  return {
    id: r.id as number,
    command: r.command as string,
    source: (r.source as string | null) ?? null,
    sink: (r.sink as string | null) ?? null,
    startedAt,
    endedAt,
    durationMs: endedAt ? Date.parse(endedAt) - Date.parse(startedAt) : null,
    exitCode: (r.exit_code as number | null) ?? null,
    counters: parseJsonObject(r.counters),
    error: (r.error as string | null) ?? null,
  };
}

/** The last `limit` runs, newest first. */
export function recentRuns(db: Db, limit: number): RunRow[] {
  return (db.prepare('SELECT * FROM runs ORDER BY id DESC LIMIT ?').all(limit) as Array<Record<string, unknown>>).map(toRunRow);
}

/** All runs that started inside the window (on start time), oldest first. */
export function runsBetween(db: Db, window: EventTimeWindow = {}): RunRow[] {
  const rows = db
    .prepare('SELECT * FROM runs WHERE started_at >= ? AND started_at < ? ORDER BY id')
    .all(window.from ?? '', window.to ?? '\uffff') as Array<Record<string, unknown>>;
  return rows.map(toRunRow);
}

export function runById(db: Db, id: number): RunRow | undefined {
  const row = db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as Record<string, unknown> | undefined;
  return row ? toRunRow(row) : undefined;
}

export interface CheckpointRow {
  source: string;
  stream: string;
  position: string;
  updatedAt: string;
}

export function checkpointRows(db: Db): CheckpointRow[] {
  return (db.prepare('SELECT * FROM checkpoints ORDER BY source, stream').all() as Array<Record<string, unknown>>).map((r) => ({
    source: r.source as string,
    stream: r.stream as string,
    position: r.position as string,
    updatedAt: r.updated_at as string,
  }));
}

/** `[key, count]` pairs, largest first. */
export type Counts = Array<[string, number]>;

function windowClause(column: string, window: EventTimeWindow): { sql: string; args: string[] } {
  return { sql: `${column} >= ? AND ${column} < ?`, args: [window.from ?? '', window.to ?? '\uffff'] };
}

function counts(db: Db, sql: string, args: unknown[]): Counts {
  return (db.prepare(sql).all(...args) as Array<{ k: string | null; n: number }>).map((r) => [r.k ?? '(none)', r.n]);
}

/** Sent events per ledger column value (status, channel, event_type, failure_code…), largest first. */
export function ledgerCountsBy(
  db: Db,
  column: 'status' | 'channel' | 'event_type' | 'failure_type' | 'failure_category' | 'failure_code' | 'exclusion_code' | 'source' | 'sink',
  window: EventTimeWindow = {},
  extraWhere = '',
  limit = -1,
): Counts {
  const w = windowClause('event_time', window);
  return counts(
    db,
    `SELECT ${column} AS k, count(*) AS n FROM ledger WHERE ${w.sql} ${extraWhere} GROUP BY ${column} ORDER BY n DESC, k LIMIT ?`,
    [...w.args, limit],
  );
}

export function ledgerTotal(db: Db, window: EventTimeWindow = {}): number {
  const w = windowClause('event_time', window);
  return (db.prepare(`SELECT count(*) AS n FROM ledger WHERE ${w.sql}`).get(...w.args) as { n: number }).n;
}

/** Newest event time in the ledger per source (how far each source's sent data reaches). */
export function newestEventTimeBySource(db: Db): Map<string, string> {
  const rows = db.prepare('SELECT source, max(event_time) AS t FROM ledger GROUP BY source').all() as Array<{ source: string; t: string }>;
  return new Map(rows.map((r) => [r.source, r.t]));
}

export interface DeadLetterGroup {
  stage: Stage;
  source: string;
  open: number;
  oldest: string;
  newest: string;
}

/** Open (not replayed) dead letters grouped by stage and source. */
export function openDeadLetterGroups(db: Db): DeadLetterGroup[] {
  return db
    .prepare(
      `SELECT stage, source, count(*) AS open, min(created_at) AS oldest, max(created_at) AS newest
       FROM dead_letters WHERE replayed_at IS NULL GROUP BY stage, source ORDER BY stage, source`,
    )
    .all() as DeadLetterGroup[];
}

/** Dead letters (all, or only open ones) created in the window, counted by reason; the longest reasons are cut. */
export function deadLetterReasons(db: Db, window: EventTimeWindow = {}, limit = 10, onlyOpen = false): Array<{ stage: Stage; reason: string; n: number }> {
  const w = windowClause('created_at', window);
  return db
    .prepare(
      `SELECT stage, substr(reason, 1, 200) AS reason, count(*) AS n FROM dead_letters
       WHERE ${w.sql} ${onlyOpen ? 'AND replayed_at IS NULL' : ''}
       GROUP BY stage, substr(reason, 1, 200) ORDER BY n DESC, reason LIMIT ?`,
    )
    .all(...w.args, limit) as Array<{ stage: Stage; reason: string; n: number }>;
}

/** One `[bucket, key, count]` triple of a time series (bucket = UTC day `YYYY-MM-DD`). */
export interface SeriesPoint {
  day: string;
  key: string;
  n: number;
}

/** Sent events per UTC day (of event time) and per value of `keyExpr`, with an optional extra filter. */
export function ledgerDailySeries(db: Db, keyExpr: string, window: EventTimeWindow = {}, extraWhere = ''): SeriesPoint[] {
  const w = windowClause('event_time', window);
  return (
    db
      .prepare(
        `SELECT substr(event_time, 1, 10) AS day, ${keyExpr} AS key, count(*) AS n FROM ledger
         WHERE ${w.sql} ${extraWhere} GROUP BY day, key ORDER BY day, key`,
      )
      .all(...w.args) as Array<{ day: string; key: string | null; n: number }>
  ).map((r) => ({ day: r.day, key: r.key ?? '(none)', n: r.n }));
}

/** How many sent outcome events had each retryCount. */
export function retryCountDistribution(db: Db, window: EventTimeWindow = {}): Array<[number, number]> {
  const w = windowClause('event_time', window);
  return (
    db
      .prepare(
        `SELECT retry_count AS k, count(*) AS n FROM ledger WHERE ${w.sql} AND retry_count IS NOT NULL
         GROUP BY retry_count ORDER BY retry_count`,
      )
      .all(...w.args) as Array<{ k: number; n: number }>
  ).map((r) => [r.k, r.n]);
}

/** Optional columns added by later migrations; report queries use them only where present. */
export function hasColumn(db: Db, table: string, column: string): boolean {
  return (db.prepare(`SELECT name FROM pragma_table_info(?)`).all(table) as Array<{ name: string }>).some((c) => c.name === column);
}
