/**
 * A lease lock in the state database, so two runs (cron ticks, a second `schedule`, a manual `sync`) never overlap.
 * A lease has an owner (`host:pid:random`) and an expiry a heartbeat keeps pushing forward; a lease whose heartbeat
 * stopped (crashed run) is taken over, by an atomic compare-and-set in one IMMEDIATE transaction.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { openDb, type Db } from '../store/db.js';
import { ConnectorError, errorMessage } from '../errors.js';
import { currentProcess, identityFrom, isRunning, startLabel, type ProcessIdentity } from '../util/process-identity.js';

/** The current holder of a lock, as stored. */
export interface LockHolder {
  name: string;
  owner: string;
  acquiredAt: string;
  heartbeatAt: string;
  expiresAt: string;
}

export interface LockOptions {
  /** How long a lease lives without a heartbeat before another process may take it over. @default 60000 */
  ttlMs?: number;
  /** How often the holder extends its lease. @default 5000 */
  heartbeatMs?: number;
  /** Keep trying for this long before giving up (0: try once). @default 0 */
  waitMs?: number;
  /** How often to retry while waiting. @default 1000 */
  pollMs?: number;
  /** Stops waiting early (e.g. on SIGTERM). */
  signal?: AbortSignal;
  /** Called once if the lease is lost (another process took it over after our heartbeat lapsed). */
  onLost?: (holder: LockHolder | undefined) => void;
  log?: Logger;
  /** The clock, for tests. @default Date.now */
  now?: () => number;
}

/** The lock is held by another live process; the message names the holder and what to do. */
export class LockBusyError extends ConnectorError {
  override readonly name = 'LockBusyError';
  constructor(
    message: string,
    readonly holder: LockHolder,
  ) {
    super(message, 'state');
  }
}

/**
 * Identifies this process as a lock owner: `host:pid:start-random` (start: the process's start time where /proc tells
 * it, so a reused PID is not taken for the owner; random so two leases of one process differ).
 */
export function newOwnerId(): string {
  const me = currentProcess();
  return `${me.host}:${me.pid}:${startLabel(me)}-${randomBytes(4).toString('hex')}`;
}

function parseOwner(owner: string): ProcessIdentity | undefined {
  const parts = owner.split(':');
  if (parts.length < 3) return undefined;
  const pid = Number(parts[parts.length - 2]);
  const host = parts.slice(0, -2).join(':');
  const last = parts[parts.length - 1]!;
  const start = last.includes('-') ? last.slice(0, last.indexOf('-')) : undefined; // owners written before had no start
  return Number.isInteger(pid) && pid > 0 ? identityFrom(host, pid, start) : undefined;
}

/** True when the owner ran on this host and its process no longer exists (crashed, killed): its lease is dead now. */
export function ownerIsDeadLocally(owner: string): boolean {
  const parsed = parseOwner(owner);
  if (!parsed || parsed.host !== hostname() || parsed.pid === process.pid) return false;
  return !isRunning(parsed);
}

function rowToHolder(r: Record<string, unknown>): LockHolder {
  return {
    name: r.name as string,
    owner: r.owner as string,
    acquiredAt: r.acquired_at as string,
    heartbeatAt: r.heartbeat_at as string,
    expiresAt: r.expires_at as string,
  };
}

/** Reads who holds a lock (undefined when free). Works on a read-only connection. */
export function lockHolder(db: Db, name: string): LockHolder | undefined {
  const row = db.prepare('SELECT * FROM locks WHERE name = ?').get(name) as Record<string, unknown> | undefined;
  return row ? rowToHolder(row) : undefined;
}

export type AcquireResult = { acquired: true; tookOverFrom?: LockHolder } | { acquired: false; holder: LockHolder };

/**
 * One compare-and-set attempt: takes the lock when it is free, expired, held by a dead local process, or already ours.
 * Runs in an IMMEDIATE transaction, so of two processes racing for a stale lease exactly one wins.
 */
export function tryAcquire(db: Db, name: string, owner: string, ttlMs: number, nowMs: number = Date.now()): AcquireResult {
  return db
    .transaction((): AcquireResult => {
      const current = lockHolder(db, name);
      const stale = current !== undefined && (Date.parse(current.expiresAt) <= nowMs || ownerIsDeadLocally(current.owner));
      if (current && current.owner !== owner && !stale) return { acquired: false, holder: current };
      const at = new Date(nowMs).toISOString();
      const expires = new Date(nowMs + ttlMs).toISOString();
      db.prepare(
        `INSERT INTO locks (name, owner, acquired_at, heartbeat_at, expires_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, acquired_at = excluded.acquired_at,
           heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at`,
      ).run(name, owner, current?.owner === owner ? current.acquiredAt : at, at, expires);
      return current && current.owner !== owner ? { acquired: true, tookOverFrom: current } : { acquired: true };
    })
    .immediate();
}

/** Extends the lease if we still own it; false when it was taken over. */
export function renewLease(db: Db, name: string, owner: string, ttlMs: number, nowMs: number = Date.now()): boolean {
  const info = db
    .prepare('UPDATE locks SET heartbeat_at = ?, expires_at = ? WHERE name = ? AND owner = ?')
    .run(new Date(nowMs).toISOString(), new Date(nowMs + ttlMs).toISOString(), name, owner);
  return info.changes === 1;
}

/** Deletes the lease if we still own it. */
export function releaseLease(db: Db, name: string, owner: string): boolean {
  return db.prepare('DELETE FROM locks WHERE name = ? AND owner = ?').run(name, owner).changes === 1;
}

/** A held lease; `release()` stops the heartbeat and frees the lock (idempotent). */
export interface Lease {
  readonly name: string;
  readonly owner: string;
  /** Aborted when the lease is lost: stop work, another process owns the lock now. */
  readonly lost: AbortSignal;
  release(): void;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

export function describeHolder(holder: LockHolder, nowMs = Date.now()): string {
  const since = Math.max(0, Math.round((nowMs - Date.parse(holder.acquiredAt)) / 1000));
  const beat = Math.max(0, Math.round((nowMs - Date.parse(holder.heartbeatAt)) / 1000));
  return `held by ${holder.owner} since ${holder.acquiredAt} (${since}s, last heartbeat ${beat}s ago, expires ${holder.expiresAt})`;
}

/**
 * Acquires the named lock on the state file at `statePath`, waiting up to `waitMs`, and keeps it alive with a
 * heartbeat on its own connection. Throws LockBusyError when another live process holds it.
 */
export async function acquireLock(statePath: string, name: string, options: LockOptions = {}): Promise<Lease> {
  const ttlMs = options.ttlMs ?? 60_000;
  const heartbeatMs = options.heartbeatMs ?? 5_000;
  const now = options.now ?? Date.now;
  const owner = newOwnerId();
  const db = openDb(statePath);
  const deadline = now() + (options.waitMs ?? 0);
  let announced = false;
  try {
    for (;;) {
      const result = tryAcquire(db, name, owner, ttlMs, now());
      if (result.acquired) {
        if (result.tookOverFrom) {
          options.log?.warn({ lock: name, previous: result.tookOverFrom.owner, expired: result.tookOverFrom.expiresAt }, 'took over a stale lock whose holder stopped its heartbeat');
        }
        break;
      }
      const stillWaiting = now() < deadline && !options.signal?.aborted;
      if (!stillWaiting) {
        throw new LockBusyError(
          `another run is in progress: lock "${name}" on ${statePath} is ${describeHolder(result.holder, now())}; ` +
            `wait for it (--wait), or if that process is gone, the lock frees itself when it expires`,
          result.holder,
        );
      }
      if (!announced) {
        options.log?.info({ lock: name, holder: result.holder.owner }, 'waiting for another run to finish');
        announced = true;
      }
      await sleep(Math.min(options.pollMs ?? 1000, Math.max(1, deadline - now())), options.signal);
    }
  } catch (error) {
    db.close();
    throw error;
  }

  const lost = new AbortController();
  let released = false;
  const beat = setInterval(() => {
    try {
      if (!renewLease(db, name, owner, ttlMs, now())) {
        clearInterval(beat);
        const holder = lockHolder(db, name);
        options.log?.error({ lock: name, holder: holder?.owner }, 'lost the lock: another process took it over; stopping');
        lost.abort();
        options.onLost?.(holder);
      }
    } catch (error) {
      // A busy database delays one heartbeat; the lease survives as long as one lands before it expires.
      options.log?.warn({ lock: name, err: errorMessage(error) }, 'could not renew the lock; will retry');
    }
  }, heartbeatMs);
  beat.unref();
  return {
    name,
    owner,
    lost: lost.signal,
    release() {
      if (released) return;
      released = true;
      clearInterval(beat);
      try {
        releaseLease(db, name, owner);
      } catch (error) {
        options.log?.warn({ lock: name, err: errorMessage(error) }, 'could not release the lock; it frees itself when it expires');
      } finally {
        db.close();
      }
    },
  };
}

/** Runs `body` while holding the named lock; the lock is released however `body` ends. */
export async function withLock<T>(statePath: string, name: string, options: LockOptions, body: (lease: Lease) => Promise<T>): Promise<T> {
  const lease = await acquireLock(statePath, name, options);
  try {
    return await body(lease);
  } finally {
    lease.release();
  }
}
