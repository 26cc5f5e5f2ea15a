import { describe, expect, it } from 'vitest';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openDb, schemaVersion } from '../../src/store/db.js';
import { migrations } from '../../src/store/migrations.js';
import { StateStore } from '../../src/store/state.js';
import { StateError } from '../../src/errors.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir();
let n = 0;
const freshStore = () => new StateStore(openDb(join(dir, `state-${n++}.db`)));
const msg = { messageId: 'm-1', channel: 'sms' };

describe('state database', () => {
  it('creates a WAL database at the latest schema version', () => {
    const db = openDb(join(dir, 'new.db'));
    expect(schemaVersion(db)).toBe(migrations.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('creates a new state folder and file (and its WAL) readable by the owner only: dead letters hold personal data', () => {
    const path = join(dir, 'private', 'nested', 'state.db');
    const db = openDb(path);
    new StateStore(db).startRun('sync', undefined, undefined); // a write, so the WAL exists
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'private', 'nested')).mode & 0o777).toBe(0o700);
    db.close();
  });

  it('migrates forward from every earlier version without losing rows', () => {
    for (let from = 1; from < migrations.length; from++) {
      const path = join(dir, `from-${from}.db`);
      const raw = new Database(path);
      for (let v = 0; v < from; v++) raw.exec(migrations[v]!);
      raw.pragma(`user_version = ${from}`);
      raw.prepare("INSERT INTO checkpoints VALUES ('s', 'f', '10', 'now')").run();
      raw.close();
      const db = openDb(path);
      expect(schemaVersion(db)).toBe(migrations.length);
      expect(new StateStore(db).checkpoint('s', 'f')).toBe('10');
      db.close();
    }
  });

  it('keeps the message history through the version 3 re-keying, and retryCount still counts it', () => {
    const path = join(dir, 'history-v2.db');
    const raw = new Database(path);
    for (let v = 0; v < 2; v++) raw.exec(migrations[v]!);
    raw.pragma('user_version = 2');
    const insert = raw.prepare('INSERT INTO history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
    insert.run('src', 'e1', 'm-1', 'sms', 'delay', '2026-01-01T09:00:00Z', 1, null, 'then');
    insert.run('src', 'e2', 'm-1', 'sms', 'delay', '2026-01-01T10:00:00Z', 1, null, 'then');
    raw.close();
    const store = new StateStore(openDb(path));
    expect(store.db.prepare('SELECT count(*) AS n FROM history').get()).toEqual({ n: 2 });
    expect(store.placeInHistory('src', 'e3', msg, { status: 'bounce', providerTime: '2026-01-01T11:00:00Z', countsAsRetry: true })).toBe(2);
    // the old rows are recognised as the same events when reported again
    expect(store.placeInHistory('src', 'e1', msg, { status: 'delay', providerTime: '2026-01-01T09:00:00Z', countsAsRetry: true })).toBe(0);
    expect(store.db.prepare('SELECT count(*) AS n FROM history').get()).toEqual({ n: 3 });
    store.db.close();
  });

  it('refuses a state file from a newer version with a clear error', () => {
    const path = join(dir, 'future.db');
    const raw = new Database(path);
    raw.pragma(`user_version = ${migrations.length + 5}`);
    raw.close();
    expect(() => openDb(path)).toThrow(/newer than this xdm-feedback understands/);
  });

  it('reports a corrupt state file as a StateError naming the file', () => {
    const path = join(dir, 'corrupt.db');
    writeFileSync(path, 'this is not a database, just text that is long enough to be read as a header '.repeat(20));
    let error: unknown;
    try {
      openDb(path);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(/not a valid xdm-feedback database/);
  });
});

describe('history and retryCount', () => {
  it('counts earlier delays and soft failures of the same message by provider time', () => {
    const store = freshStore();
    const at = (t: string, status: string, countsAsRetry: boolean) => ({ status, providerTime: t, countsAsRetry });
    expect(store.placeInHistory('src', 'e1', msg, at('2026-01-01T10:00:00Z', 'delay', true))).toBe(0);
    expect(store.placeInHistory('src', 'e2', msg, at('2026-01-01T11:00:00Z', 'delay', true))).toBe(1);
    expect(store.placeInHistory('src', 'e3', msg, at('2026-01-01T12:00:00Z', 'delivered', false))).toBe(2);
  });

  it('places a late, out-of-order report by its provider time, not its arrival', () => {
    const store = freshStore();
    store.placeInHistory('src', 'e3', msg, { status: 'bounce', providerTime: '2026-01-01T12:00:00Z', countsAsRetry: true });
    // arrives later but happened first: nothing before it
    expect(store.placeInHistory('src', 'e1', msg, { status: 'delay', providerTime: '2026-01-01T09:00:00Z', countsAsRetry: true })).toBe(0);
    // between the two: one earlier soft failure
    expect(store.placeInHistory('src', 'e2', msg, { status: 'delay', providerTime: '2026-01-01T10:00:00Z', countsAsRetry: true })).toBe(1);
  });

  it('does not mix messages, channels or sources', () => {
    const store = freshStore();
    store.placeInHistory('src', 'e1', msg, { status: 'delay', providerTime: '2026-01-01T09:00:00Z', countsAsRetry: true });
    const later = { status: 'delay', providerTime: '2026-01-01T10:00:00Z', countsAsRetry: true };
    expect(store.placeInHistory('src', 'e2', { messageId: 'm-1', channel: 'email' }, later)).toBe(0);
    expect(store.placeInHistory('src', 'e3', { messageId: 'm-2', channel: 'sms' }, later)).toBe(0);
    expect(store.placeInHistory('other', 'e4', msg, later)).toBe(0);
  });

  it('writes only the outcomes that count toward a later retryCount, and gives every outcome its count', () => {
    const store = freshStore();
    const at = (hour: string, countsAsRetry: boolean) => ({ status: countsAsRetry ? 'delay' : 'delivered', providerTime: `2026-01-01T${hour}:00:00Z`, countsAsRetry });
    expect(store.placeInHistory('src', 'e1', msg, at('09', false))).toBe(0);
    expect(store.placeInHistory('src', 'e2', msg, at('10', true))).toBe(0);
    expect(store.placeInHistory('src', 'e3', msg, at('11', false))).toBe(1);
    expect(store.placeInHistory('src', 'e4', msg, at('12', true))).toBe(1);
    expect(store.placeInHistory('src', 'e5', msg, at('13', false))).toBe(2);
    expect(store.db.prepare('SELECT source_event_id FROM history ORDER BY provider_time').pluck().all()).toEqual(['e2', 'e4']);
  });

  it('lets the provider attempt number win', () => {
    const store = freshStore();
    expect(store.placeInHistory('src', 'e1', msg, { status: 'delay', providerTime: '2026-01-01T09:00:00Z', countsAsRetry: true, attempt: 4 })).toBe(3);
  });

  it('recognises a repeated report of the same event and returns the same retryCount', () => {
    const store = freshStore();
    store.placeInHistory('src', 'e1', msg, { status: 'delay', providerTime: '2026-01-01T09:00:00Z', countsAsRetry: true });
    const outcome = { status: 'bounce', providerTime: '2026-01-01T10:00:00Z', countsAsRetry: true };
    expect(store.placeInHistory('src', 'e2', msg, outcome)).toBe(1);
    expect(store.placeInHistory('src', 'e2', msg, outcome)).toBe(1);
    expect(store.db.prepare('SELECT count(*) AS n FROM history').get()).toEqual({ n: 2 });
  });
});

describe('commitUnit', () => {
  it('writes ledger, dead letters and checkpoint together, and redacts reasons', () => {
    const store = freshStore();
    const runId = store.startRun('sync', 'src', 'file');
    store.commitUnit({
      runId,
      source: 'src',
      checkpoints: [{ stream: '/data/a.ndjson', position: '120' }],
      accepted: [{ id: 'id-1', source: 'src', sink: 'file', eventTime: '2026-01-01T00:00:00Z', eventType: 'message.feedback', status: 'sent', channel: 'email' }],
      deadLetters: [{ source: 'src', stage: 'map', raw: '{}', reason: 'unknown status for jane@example.com' }],
    });
    expect(store.isSent('id-1', '2026-01-01T00:00:00Z')).toBe(true);
    expect(store.checkpoint('src', '/data/a.ndjson')).toBe('120');
    const [dead] = store.deadLetters();
    expect(dead?.reason).toBe('unknown status for [email]');
  });

  it('writes nothing when any part of the unit fails', () => {
    const store = freshStore();
    expect(() =>
      store.commitUnit({
        runId: 1,
        source: 'src',
        checkpoints: [{ stream: 'f', position: '99' }],
        accepted: [{ id: 'id-2', source: 'src', sink: 'file', eventTime: 't', eventType: 'message.feedback' }],
        deadLetters: [{ source: 'src', stage: 'nonsense' as never, raw: '{}', reason: 'x' }],
      }),
    ).toThrow();
    expect(store.isSent('id-2', 't')).toBe(false);
    expect(store.checkpoint('src', 'f')).toBeUndefined();
  });
});
