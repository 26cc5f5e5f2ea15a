/** `status`: last runs, per-source lag, ledger counts and open dead letters, read from the state file (read-only, WAL). */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import type { Config } from '../config/load.js';
import type { Stage } from '../core/types.js';
import { StateError } from '../errors.js';
import { openDb, type Db } from '../store/db.js';
import { resolveFiles } from '../sources/shared/file-list.js';
import {
  checkpointRows,
  ledgerCountsBy,
  ledgerTotal,
  newestEventTimeBySource,
  openDeadLetterGroups,
  recentRuns,
  type Counts,
  type DeadLetterGroup,
  type RunRow,
} from './queries.js';
import { describeHolder, type LockHolder } from './lock.js';

/** How far one stream (a file, a partition, a watermark) of one source has been read. */
export interface StreamLag {
  /** The checkpoint key: a configured source id, with `@backfill:…` for a backfill's own position. */
  source: string;
  stream: string;
  /** When the checkpoint last moved; undefined for a configured file not read yet. */
  checkpointAt?: string;
  /** Short human form of the position (file byte offset and line, or the raw cursor). */
  position?: string;
  /**
   * For files: size and modification time; bytes read and left when the cursor is a byte offset (CSV cursors have one
   * next to the row, except row-only ones written by older versions); `note` says when the file shrank since its checkpoint.
   */
  file?: { offset?: number; size: number; bytesLeft?: number; modifiedAt: string; note?: string };
}

export interface StatusReport {
  state: string;
  generatedAt: string;
  /** Runs holding a lock now (a sync, schedule tick or backfill in progress). */
  running: Array<LockHolder & { description: string }>;
  runs: RunRow[];
  lag: StreamLag[];
  /** Newest event time sent per source key. */
  newestSent: Record<string, string>;
  ledger: { total: number; byStatus: Record<string, number>; byChannel: Record<string, number>; byEventType: Record<string, number> };
  deadLetters: { open: number; byStage: Record<Stage, number>; groups: DeadLetterGroup[] };
}

export interface StatusOptions {
  /** How many recent runs to list. @default 10 */
  runs?: number;
  /** The configuration, when known: adds configured files not read yet to the lag table. */
  config?: Config;
  now?: Date;
}

const toObject = (c: Counts): Record<string, number> => Object.fromEntries(c);

/** Opens the state file read-only (works while a sync writes to it) or explains why it cannot. */
export function openStateReadOnly(path: string): Db {
  if (path !== ':memory:' && !existsSync(path)) {
    throw new StateError(`no state file at ${path} yet: nothing has run with this configuration; run \`xdm-feedback sync\` first or pass --state`);
  }
  return openDb(path, { readonly: true });
}

interface FileOffset {
  offset: number;
  line?: number;
  row?: number;
  fingerprintSize?: number;
}

/** Reads the byte offset out of a file source's checkpoint (`{"fingerprint":{…},"offset":N,…}`), if it has one. */
export function parseFileOffset(position: string): FileOffset | undefined {
  let value: unknown;
  try {
    value = JSON.parse(position);
  } catch {
    return /^\d+$/.test(position) ? { offset: Number(position) } : undefined;
  }
  if (value === null || typeof value !== 'object') return typeof value === 'number' ? { offset: value } : undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.offset !== 'number') return undefined;
  const out: FileOffset = { offset: v.offset };
  if (typeof v.line === 'number') out.line = v.line;
  if (typeof v.row === 'number') out.row = v.row;
  const fp = v.fingerprint as Record<string, unknown> | undefined;
  if (fp && typeof fp.size === 'number') out.fingerprintSize = fp.size;
  return out;
}

/**
 * Whether the bytes after a checkpoint are only what closes a JSON array export (`]`, commas, white space): the
 * reader checkpoints after the last element, so a fully read export would otherwise show a few bytes left.
 */
function onlyClosingBytes(path: string, offset: number, length: number): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const buffer = Buffer.alloc(length);
    const read = readSync(fd, buffer, 0, length, offset);
    return /^[\s,\]]*$/.test(buffer.subarray(0, read).toString('utf8'));
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function fileLag(path: string, at: FileOffset | undefined, known: boolean): StreamLag['file'] | undefined {
  let info;
  try {
    info = statSync(path);
  } catch {
    return undefined;
  }
  if (!info.isFile()) return undefined;
  const lag: NonNullable<StreamLag['file']> = { size: info.size, modifiedAt: info.mtime.toISOString() };
  if (!known) return lag;
  const offset = at?.offset ?? 0;
  lag.offset = offset;
  lag.bytesLeft = Math.max(0, info.size - offset);
  if (lag.bytesLeft > 0 && lag.bytesLeft <= 1024 && onlyClosingBytes(path, offset, lag.bytesLeft)) lag.bytesLeft = 0;
  if (info.size < offset) {
    lag.note = 'the file shrank since its checkpoint; the next run reads it again from the start';
    lag.bytesLeft = info.size;
  }
  return lag;
}

function shortPosition(position: string, at: FileOffset | undefined): string {
  if (at) {
    // A CSV cursor has both: its row count says more than the physical line (quoted cells span lines).
    const where = at.row !== undefined ? `, row ${at.row}` : at.line !== undefined ? `, line ${at.line}` : '';
    return `byte ${at.offset}${where}`;
  }
  // Row-only file cursors (CSV checkpoints of older versions): `{"fingerprint":…,"row":N}`.
  try {
    const v = JSON.parse(position) as Record<string, unknown>;
    if (v && typeof v === 'object' && typeof v.row === 'number') return `row ${v.row}`;
  } catch {
    // not JSON: shown as it is
  }
  return position.length > 80 ? position.slice(0, 77) + '...' : position;
}

/** The configured file patterns of a source, when its settings have a `files` list (file-based sources do). */
export function configuredFilePatterns(source: object): string[] | undefined {
  const files = (source as { files?: unknown }).files;
  if (typeof files === 'string') return [files];
  return Array.isArray(files) && files.every((f) => typeof f === 'string') ? (files as string[]) : undefined;
}

/** Builds the status report from an open (read-only is fine) state database. */
export async function buildStatus(db: Db, statePath: string, options: StatusOptions = {}): Promise<StatusReport> {
  const now = options.now ?? new Date();
  const lag: StreamLag[] = [];
  const seen = new Set<string>();
  for (const c of checkpointRows(db)) {
    if (c.stream.startsWith('@')) continue; // internal cursors (dead-letter replays)
    const at = parseFileOffset(c.position);
    const row: StreamLag = { source: c.source, stream: c.stream, checkpointAt: c.updatedAt, position: shortPosition(c.position, at) };
    const file = c.stream.startsWith('/') || /^[A-Za-z]:[\\/]/.test(c.stream) ? fileLag(c.stream, at, at !== undefined) : undefined;
    if (file) row.file = file;
    lag.push(row);
    seen.add(`${c.source}\u0000${c.stream}`);
  }
  for (const source of options.config?.sources ?? []) {
    const patterns = configuredFilePatterns(source);
    if (!patterns) continue;
    let files: string[] = [];
    try {
      files = await resolveFiles(patterns, options.config!.baseDir);
    } catch {
      continue; // a missing file is the sync's error to report, not status's
    }
    for (const path of files) {
      if (seen.has(`${source.id}\u0000${path}`)) continue;
      const file = fileLag(path, undefined, true);
      lag.push({ source: source.id, stream: path, position: 'not read yet', ...(file ? { file } : {}) });
    }
  }

  const groups = openDeadLetterGroups(db);
  const byStage: Record<Stage, number> = { decode: 0, map: 0, validate: 0, ingest: 0 };
  for (const g of groups) byStage[g.stage] += g.open;
  const running = (db.prepare('SELECT * FROM locks ORDER BY name').all() as Array<Record<string, unknown>>)
    .map(
      (r): LockHolder => ({
        name: r.name as string,
        owner: r.owner as string,
        acquiredAt: r.acquired_at as string,
        heartbeatAt: r.heartbeat_at as string,
        expiresAt: r.expires_at as string,
      }),
    )
    .filter((h) => Date.parse(h.expiresAt) > now.getTime())
    .map((h) => ({ ...h, description: describeHolder(h, now.getTime()) }));

  return {
    state: statePath,
    generatedAt: now.toISOString(),
    running,
    runs: recentRuns(db, options.runs ?? 10),
    lag,
    newestSent: Object.fromEntries(newestEventTimeBySource(db)),
    ledger: {
      total: ledgerTotal(db),
      byStatus: toObject(ledgerCountsBy(db, 'status')),
      byChannel: toObject(ledgerCountsBy(db, 'channel')),
      byEventType: toObject(ledgerCountsBy(db, 'event_type')),
    },
    deadLetters: { open: groups.reduce((a, g) => a + g.open, 0), byStage, groups },
  };
}
