/** Opens the SQLite state file: WAL, busy timeout, forward-only migrations, clear errors when locked or corrupt. */
import Database from 'better-sqlite3';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { StateError } from '../errors.js';
import { migrations } from './migrations.js';

export type Db = Database.Database;

export const defaultStatePath = './.xdm-feedback/state.db';

export interface OpenOptions {
  /** Open without migrating or writing (status while a sync runs). */
  readonly?: boolean;
  /** How long to wait for another process's write lock. @default 5000 */
  busyTimeoutMs?: number;
}

export function openDb(path: string, options: OpenOptions = {}): Db {
  // The state holds personal data (dead letters keep the raw record): a new folder and file are the owner's only.
  // SQLite gives the -wal and -shm files the database file's permissions.
  if (path !== ':memory:' && !options.readonly) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    if (!existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  }
  let db: Db;
  try {
    db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // Checkpoints (each with two fsyncs) every ~80 MB of WAL instead of SQLite's 4 MB: with random-order keys a
      // unit's commit writes ~1,000 pages, so the default checkpointed after nearly every unit. The WAL file is cut
      // back after a checkpoint so a long backfill does not leave a large file behind.
      db.pragma('wal_autocheckpoint = 20000');
      db.pragma(`journal_size_limit = ${64 * 1024 * 1024}`);
      db.pragma('foreign_keys = ON');
    }
    db.prepare('SELECT count(*) FROM sqlite_master').get();
  } catch (error) {
    throw describeSqliteError(path, error);
  }
  if (!options.readonly) migrate(db, path);
  return db;
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', { simple: true }) as number;
}

function migrate(db: Db, path: string): void {
  const current = schemaVersion(db);
  if (current > migrations.length) {
    throw new StateError(
      `state file ${path} has schema version ${current}, newer than this xdm-feedback understands (${migrations.length}); upgrade xdm-feedback or point --state at another file`,
    );
  }
  for (let version = current; version < migrations.length; version++) {
    try {
      db.transaction(() => {
        db.exec(migrations[version]!);
        db.pragma(`user_version = ${version + 1}`);
      }).immediate();
    } catch (error) {
      throw describeSqliteError(path, error);
    }
  }
}

export function describeSqliteError(path: string, error: unknown): StateError {
  const code = (error as { code?: string }).code ?? '';
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new StateError(`state file ${path} is locked by another process (${message}); wait for it to finish or use another --state file`, { cause: error });
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return new StateError(`state file ${path} is not a valid xdm-feedback database (${message}); restore it from a backup or move it aside to start fresh`, { cause: error });
  }
  if (code === 'SQLITE_CANTOPEN') {
    return new StateError(`cannot open state file ${path} (${message}); check the path and its permissions`, { cause: error });
  }
  return new StateError(`state file ${path}: ${message}`, { cause: error });
}
