import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openDb } from '../../src/store/db.js';
import { LockBusyError, acquireLock, lockHolder, ownerIsDeadLocally, renewLease, tryAcquire, withLock } from '../../src/ops/lock.js';
import { startOf } from '../../src/util/process-identity.js';
import { tempDir } from '../helpers/temp.js';
import { builtPath } from '../helpers/built.js';

const dir = tempDir('xdmf-lock-');
let n = 0;
const freshState = () => join(dir, `state-${++n}.db`);

describe('lease lock', () => {
  it('lets only one of two overlapping holders in, and names the holder to the other', async () => {
    const state = freshState();
    const first = await acquireLock(state, 'sync');
    try {
      const second = acquireLock(state, 'sync');
      await expect(second).rejects.toBeInstanceOf(LockBusyError);
      await expect(acquireLock(state, 'sync')).rejects.toThrow(/another run is in progress: lock "sync".*held by .*:\d+:(?:\d+|x)-[0-9a-f]{8}/);
    } finally {
      first.release();
    }
    const third = await acquireLock(state, 'sync');
    third.release();
  });

  it('keeps locks of different names apart', async () => {
    const state = freshState();
    const a = await acquireLock(state, 'sync');
    const b = await acquireLock(state, 'backfill');
    a.release();
    b.release();
  });

  it('runs only one of two concurrent withLock bodies when neither waits', async () => {
    const state = freshState();
    let inside = 0;
    let maxInside = 0;
    const body = async () => {
      inside++;
      maxInside = Math.max(maxInside, inside);
      await new Promise((r) => setTimeout(r, 50));
      inside--;
      return 'ran';
    };
    const results = await Promise.allSettled([withLock(state, 'sync', {}, body), withLock(state, 'sync', {}, body)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(maxInside).toBe(1);
  });

  it('makes a waiting second holder run after the first releases', async () => {
    const state = freshState();
    const order: string[] = [];
    const first = withLock(state, 'sync', {}, async () => {
      order.push('first start');
      await new Promise((r) => setTimeout(r, 100));
      order.push('first end');
    });
    await new Promise((r) => setTimeout(r, 10));
    const second = withLock(state, 'sync', { waitMs: 5000, pollMs: 20 }, async () => {
      order.push('second');
    });
    await Promise.all([first, second]);
    expect(order).toEqual(['first start', 'first end', 'second']);
  });

  it('takes over a stale lease whose heartbeat stopped, and the old holder learns it lost the lock', async () => {
    const state = freshState();
    const db = openDb(state);
    // A lease of a holder on another host (so its process cannot be probed) that expired a second ago.
    db.prepare('INSERT INTO locks VALUES (?, ?, ?, ?, ?)').run(
      'sync',
      'other-host:4242:deadbeef',
      new Date(Date.now() - 120_000).toISOString(),
      new Date(Date.now() - 61_000).toISOString(),
      new Date(Date.now() - 1_000).toISOString(),
    );
    const lease = await acquireLock(state, 'sync');
    expect(lockHolder(db, 'sync')?.owner).toBe(lease.owner);
    // The old holder's next heartbeat finds the lease gone.
    expect(renewLease(db, 'sync', 'other-host:4242:deadbeef', 60_000)).toBe(false);
    lease.release();
    expect(lockHolder(db, 'sync')).toBeUndefined();
    db.close();
  });

  it('does not take over a lease that is still alive on another host', async () => {
    const state = freshState();
    const db = openDb(state);
    db.prepare('INSERT INTO locks VALUES (?, ?, ?, ?, ?)').run(
      'sync',
      'other-host:4242:deadbeef',
      new Date().toISOString(),
      new Date().toISOString(),
      new Date(Date.now() + 60_000).toISOString(),
    );
    await expect(acquireLock(state, 'sync')).rejects.toThrow(/held by other-host:4242:deadbeef/);
    db.close();
  });

  it('takes over at once the lease of a process on this host that no longer exists', async () => {
    const state = freshState();
    const child = spawn(process.execPath, ['-e', '0']);
    const pid = child.pid!;
    await new Promise((r) => child.on('exit', r));
    const db = openDb(state);
    const { hostname } = await import('node:os');
    const owner = `${hostname()}:${pid}:0badf00d`;
    expect(ownerIsDeadLocally(owner)).toBe(true);
    expect(ownerIsDeadLocally(`${hostname()}:${process.pid}:0badf00d`)).toBe(false);
    db.prepare('INSERT INTO locks VALUES (?, ?, ?, ?, ?)').run('sync', owner, new Date().toISOString(), new Date().toISOString(), new Date(Date.now() + 60_000).toISOString());
    const lease = await acquireLock(state, 'sync');
    lease.release();
    db.close();
  });

  it.runIf(process.platform === 'linux')('takes over at once a lease whose PID now belongs to another process (PID reused)', async () => {
    const state = freshState();
    const { hostname } = await import('node:os');
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    const db = openDb(state);
    try {
      let startText = startOf(child.pid!);
      for (let i = 0; i < 50 && startText === undefined; i++) {
        await new Promise((r) => setTimeout(r, 20));
        startText = startOf(child.pid!);
      }
      const start = Number(startText);
      const host = hostname();
      expect(ownerIsDeadLocally(`${host}:${child.pid}:${start}-0badf00d`)).toBe(false); // that very process: alive
      expect(ownerIsDeadLocally(`${host}:${child.pid}:${start - 1}-0badf00d`)).toBe(true); // an earlier process with its PID
      expect(ownerIsDeadLocally(`${host}:${child.pid}:0badf00d`)).toBe(false); // an owner id without start: PID only
      const now = new Date().toISOString();
      db.prepare('INSERT INTO locks VALUES (?, ?, ?, ?, ?)').run('sync', `${host}:${child.pid}:${start - 1}-0badf00d`, now, now, new Date(Date.now() + 60_000).toISOString());
      const lease = await acquireLock(state, 'sync');
      lease.release();
    } finally {
      child.kill();
      db.close();
    }
  });

  it('lets exactly one of many racing processes take over a stale lease', async () => {
    const state = freshState();
    const db = openDb(state);
    db.prepare('INSERT INTO locks VALUES (?, ?, ?, ?, ?)').run('sync', 'gone:1:00000000', 'x', 'x', new Date(Date.now() - 1).toISOString());
    db.close();
    const script = `
      import { openDb } from ${JSON.stringify(builtPath('src/store/db.js'))};
      import { tryAcquire } from ${JSON.stringify(builtPath('src/ops/lock.js'))};
      const db = openDb(process.argv[1]);
      const r = tryAcquire(db, 'sync', 'racer:' + process.pid + ':' + Math.random().toString(16).slice(2, 10), 60000);
      process.stdout.write(r.acquired ? 'won' : 'lost');`;
    const racers = Array.from({ length: 4 }, () => {
      const p = spawn(process.execPath, ['--input-type=module', '-e', script, state], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.on('data', (d) => (out += d));
      p.stderr.on('data', (d) => (err += d));
      return new Promise<string>((resolve) => p.on('exit', () => resolve(out || `error: ${err}`)));
    });
    const outcomes = await Promise.all(racers);
    expect(outcomes.filter((o) => o === 'won')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'lost')).toHaveLength(3);
  });

  it('aborts the lost signal when another process takes the lease over after the heartbeat lapsed', async () => {
    const state = freshState();
    const lease = await acquireLock(state, 'sync', { ttlMs: 10_000, heartbeatMs: 20 });
    const db = openDb(state);
    db.prepare('UPDATE locks SET owner = ? WHERE name = ?').run('thief:1:11111111', 'sync');
    await new Promise<void>((resolve) => lease.lost.addEventListener('abort', () => resolve(), { once: true }));
    expect(lease.lost.aborted).toBe(true);
    lease.release();
    expect(lockHolder(db, 'sync')?.owner).toBe('thief:1:11111111');
    db.close();
  });

  it('extends the lease with each heartbeat', async () => {
    const state = freshState();
    const lease = await acquireLock(state, 'sync', { ttlMs: 1000, heartbeatMs: 20 });
    const db = openDb(state);
    const before = lockHolder(db, 'sync')!.expiresAt;
    await new Promise((r) => setTimeout(r, 80));
    const after = lockHolder(db, 'sync')!.expiresAt;
    expect(Date.parse(after)).toBeGreaterThan(Date.parse(before));
    lease.release();
    db.close();
  });

  it('treats a second acquisition by the same owner as a renewal', () => {
    const db = openDb(freshState());
    expect(tryAcquire(db, 'sync', 'me:1:aaaaaaaa', 1000)).toEqual({ acquired: true });
    expect(tryAcquire(db, 'sync', 'me:1:aaaaaaaa', 1000)).toEqual({ acquired: true });
    expect(tryAcquire(db, 'sync', 'you:2:bbbbbbbb', 1000).acquired).toBe(false);
    db.close();
  });
});
