/** All reads and writes of the state database the pipeline needs, as prepared statements. */
import type { Statement } from 'better-sqlite3';
import type { Db } from './db.js';
import type { MessageKey, Outcome, Stage } from '../core/types.js';
import { redact } from '../redact.js';

export interface LedgerEntry {
  id: string;
  source: string;
  sink: string;
  eventTime: string;
  eventType: string;
  status?: string;
  channel?: string;
  failureType?: string;
  failureCategory?: string;
  failureCode?: string;
  failureReason?: string;
  exclusionCode?: string;
  retryCount?: number;
}

export interface DeadLetterInput {
  source: string;
  stage: Stage;
  raw: string;
  reason: string;
  errors?: string[];
  stream?: string;
  position?: string;
  eventId?: string;
}

export interface DeadLetterRow {
  id: number;
  runId: number;
  source: string;
  stage: Stage;
  stream: string | null;
  position: string | null;
  eventId: string | null;
  raw: string;
  reason: string;
  errors: string[];
  createdAt: string;
  replayedAt: string | null;
  replayRunId: number | null;
}

export type RunCounters = Record<string, number | string | Record<string, number>>;

/** Everything one acknowledged unit of work changes, written in one transaction. */
export interface UnitCommit {
  runId: number;
  source: string;
  checkpoints: Array<{ stream: string; position: string }>;
  accepted: LedgerEntry[];
  deadLetters: DeadLetterInput[];
}

let lastMs = 0;
let lastIso = '';
/** The current time in ISO form; the text is reused within a millisecond (called once per event). */
const now = () => {
  const ms = Date.now();
  if (ms !== lastMs) (lastMs = ms), (lastIso = new Date(ms).toISOString());
  return lastIso;
};

/** Failure reasons repeat (a few hundred distinct texts per feed): redact each distinct one once. */
const redactedReasons = new Map<string, string>();
function redactedReason(reason: string): string {
  let redacted = redactedReasons.get(reason);
  if (redacted === undefined) {
    redacted = redact(reason);
    if (redactedReasons.size >= 10_000) redactedReasons.clear();
    redactedReasons.set(reason, redacted);
  }
  return redacted;
}

export class StateStore {
  private readonly stmts: {
    getCheckpoint: Statement<[string, string], { position: string }>;
    listCheckpoints: Statement<[string], { stream: string; position: string }>;
    setCheckpoint: Statement<[string, string, string, string]>;
    ledgerHas: Statement<[string, string], { id: string }>;
    ledgerInsert: Statement<unknown[]>;
    deadLetterInsert: Statement<Record<string, unknown>>;
    historyInsert: Statement<unknown[]>;
    historyRetries: Statement<[string, string, string, string], { n: number }>;
  };

  constructor(readonly db: Db) {
    this.stmts = {
      getCheckpoint: db.prepare('SELECT position FROM checkpoints WHERE source = ? AND stream = ?'),
      listCheckpoints: db.prepare('SELECT stream, position FROM checkpoints WHERE source = ?'),
      setCheckpoint: db.prepare(
        `INSERT INTO checkpoints (source, stream, position, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (source, stream) DO UPDATE SET position = excluded.position, updated_at = excluded.updated_at`,
      ),
      ledgerHas: db.prepare('SELECT id FROM ledger WHERE event_time = ? AND id = ?'),
      ledgerInsert: db.prepare(
        `INSERT OR IGNORE INTO ledger (id, source, sink, run_id, sent_at, event_time, event_type, status, channel,
           failure_type, failure_category, failure_code, failure_reason, exclusion_code, retry_count)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      deadLetterInsert: db.prepare(
        `INSERT INTO dead_letters (run_id, source, stage, stream, position, event_id, raw, reason, errors, created_at)
         VALUES (@runId, @source, @stage, @stream, @position, @eventId, @raw, @reason, @errors, @createdAt)`,
      ),
      historyInsert: db.prepare(
        `INSERT OR IGNORE INTO history (source, source_event_id, message_id, channel, status, provider_time,
           counts_as_retry, attempt, recorded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      historyRetries: db.prepare(
        `SELECT count(*) AS n FROM history
         WHERE source = ? AND message_id = ? AND channel = ? AND counts_as_retry = 1
           AND provider_time < ?`,
      ),
    };
  }

  checkpoint(source: string, stream: string): string | undefined {
    return this.stmts.getCheckpoint.get(source, stream)?.position;
  }

  checkpoints(source: string): Map<string, string> {
    return new Map(this.stmts.listCheckpoints.all(source).map((r) => [r.stream, r.position]));
  }

  /** Whether the ledger has this event (the ledger is keyed by event time and `_id`; both come from the record). */
  isSent(id: string, eventTime: string): boolean {
    return this.stmts.ledgerHas.get(eventTime, id) !== undefined;
  }

  /**
   * Returns an outcome's retryCount — the earlier attempts of its message, by provider time, that ended in delay or
   * soft failure; a provider attempt number wins — and records the outcome in the message's history when it is such
   * an attempt itself (idempotent by source event id). Other outcomes are not written: nothing reads them (the sent
   * ones are in the ledger), and writing every outcome cost the state thread a third of its time.
   */
  placeInHistory(source: string, sourceEventId: string, message: MessageKey, outcome: Outcome): number {
    // Positional parameters: binding an object by name costs more than the insert itself.
    if (outcome.countsAsRetry) {
      this.stmts.historyInsert.run(
        source,
        sourceEventId,
        message.messageId,
        message.channel,
        outcome.status,
        outcome.providerTime,
        1, // counts_as_retry: only such outcomes are written
        outcome.attempt ?? null,
        now(),
      );
    }
    if (outcome.attempt !== undefined && outcome.attempt >= 1) return outcome.attempt - 1;
    return this.stmts.historyRetries.get(source, message.messageId, message.channel, outcome.providerTime)?.n ?? 0;
  }

  /** Writes ledger entries, dead letters and checkpoints of one settled unit atomically. */
  commitUnit(unit: UnitCommit): void {
    const sentAt = now();
    this.db.transaction(() => {
      for (const e of unit.accepted) {
        this.stmts.ledgerInsert.run(
          e.id,
          e.source,
          e.sink,
          unit.runId,
          sentAt,
          e.eventTime,
          e.eventType,
          e.status ?? null,
          e.channel ?? null,
          e.failureType ?? null,
          e.failureCategory ?? null,
          e.failureCode ?? null,
          e.failureReason ? redactedReason(e.failureReason) : null,
          e.exclusionCode ?? null,
          e.retryCount ?? null,
        );
      }
      for (const d of unit.deadLetters) this.insertDeadLetter(unit.runId, d, sentAt);
      for (const c of unit.checkpoints) this.stmts.setCheckpoint.run(unit.source, c.stream, c.position, sentAt);
    })();
  }

  private insertDeadLetter(runId: number, d: DeadLetterInput, createdAt: string): void {
    this.stmts.deadLetterInsert.run({
      runId,
      source: d.source,
      stage: d.stage,
      stream: d.stream ?? null,
      position: d.position ?? null,
      eventId: d.eventId ?? null,
      raw: d.raw,
      reason: redact(d.reason),
      errors: d.errors && d.errors.length > 0 ? JSON.stringify(d.errors.map(redact)) : null,
      createdAt,
    });
  }

  startRun(command: string, source: string | undefined, sink: string | undefined): number {
    const info = this.db
      .prepare('INSERT INTO runs (command, source, sink, started_at) VALUES (?, ?, ?, ?)')
      .run(command, source ?? null, sink ?? null, now());
    return Number(info.lastInsertRowid);
  }

  finishRun(runId: number, exitCode: number, counters: RunCounters, error?: string): void {
    this.db
      .prepare('UPDATE runs SET ended_at = ?, exit_code = ?, counters = ?, error = ? WHERE id = ?')
      .run(now(), exitCode, JSON.stringify(counters), error ? redact(error) : null, runId);
  }

  deadLetters(filter: { stage?: Stage; source?: string; runId?: number; reason?: string; open?: boolean; limit?: number } = {}): DeadLetterRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.stage) (where.push('stage = ?'), args.push(filter.stage));
    if (filter.source) (where.push('source = ?'), args.push(filter.source));
    if (filter.runId !== undefined) (where.push('run_id = ?'), args.push(filter.runId));
    if (filter.reason) (where.push('reason LIKE ?'), args.push(`%${filter.reason}%`));
    if (filter.open) where.push('replayed_at IS NULL');
    const sql = `SELECT * FROM dead_letters ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id LIMIT ?`;
    args.push(filter.limit ?? -1);
    return (this.db.prepare(sql).all(...args) as Array<Record<string, unknown>>).map(toDeadLetterRow);
  }
}

function toDeadLetterRow(r: Record<string, unknown>): DeadLetterRow {
  return {
    id: r.id as number,
    runId: r.run_id as number,
    source: r.source as string,
    stage: r.stage as Stage,
    stream: r.stream as string | null,
    position: r.position as string | null,
    eventId: r.event_id as string | null,
    raw: r.raw as string,
    reason: r.reason as string,
    errors: r.errors ? (JSON.parse(r.errors as string) as string[]) : [],
    createdAt: r.created_at as string,
    replayedAt: r.replayed_at as string | null,
    replayRunId: r.replay_run_id as number | null,
  };
}
