import { describe, expect, it } from 'vitest';
import { AimdLimiter, type AimdPermit } from '../../src/adobe/aimd.js';

async function acquireN(limiter: AimdLimiter, n: number): Promise<AimdPermit[]> {
  const permits: AimdPermit[] = [];
  for (let i = 0; i < n; i++) permits.push(await limiter.acquire());
  return permits;
}

/** Runs one full window at the current limit: every slot taken, then released with the given latency. */
async function cleanWindow(limiter: AimdLimiter, latencyMs: number): Promise<void> {
  const permits = await acquireN(limiter, limiter.limit);
  for (const p of permits) p.release('ok', latencyMs);
}

describe('AimdLimiter', () => {
  it('grows by one after each saturated window of fast clean answers, up to max', async () => {
    const limiter = new AimdLimiter({ min: 1, max: 4, initial: 2 });
    await cleanWindow(limiter, 10);
    expect(limiter.limit).toBe(3);
    await cleanWindow(limiter, 10);
    expect(limiter.limit).toBe(4);
    await cleanWindow(limiter, 10);
    expect(limiter.limit).toBe(4);
    expect(limiter.snapshot()).toMatchObject({ increases: 2, decreases: 0, maxReached: 4 });
  });

  it('does not grow while the limit is never reached', async () => {
    const limiter = new AimdLimiter({ min: 1, max: 16, initial: 4 });
    for (let i = 0; i < 20; i++) (await limiter.acquire()).release('ok', 10);
    expect(limiter.limit).toBe(4);
  });

  it('halves on back-pressure, once for a burst of answers already in flight', async () => {
    const limiter = new AimdLimiter({ min: 1, max: 16, initial: 8 });
    const permits = await acquireN(limiter, 8);
    for (const p of permits.slice(0, 5)) p.release('backpressure', 10);
    expect(limiter.limit).toBe(4);
    expect(limiter.snapshot().decreases).toBe(1);
    // A request started after the decrease that is throttled again halves again.
    for (const p of permits.slice(5)) p.release('ok', 10);
    (await limiter.acquire()).release('backpressure', 10);
    expect(limiter.limit).toBe(2);
  });

  it('never goes below min nor above max', async () => {
    const limiter = new AimdLimiter({ min: 2, max: 3, initial: 3 });
    (await limiter.acquire()).release('backpressure');
    expect(limiter.limit).toBe(2);
    (await limiter.acquire()).release('backpressure');
    expect(limiter.limit).toBe(2);
    expect(new AimdLimiter({ min: 2, max: 3, initial: 10 }).limit).toBe(3);
    expect(new AimdLimiter({ min: 2, max: 3, initial: 0 }).limit).toBe(2);
  });

  it('halves when latency rises well above the moving baseline', async () => {
    const limiter = new AimdLimiter({ min: 1, max: 16, initial: 2, latencyRiseFactor: 2 });
    await cleanWindow(limiter, 10); // baseline 10, limit 3
    await cleanWindow(limiter, 12); // within the factor: limit 4
    expect(limiter.limit).toBe(4);
    await cleanWindow(limiter, 60); // five times slower
    expect(limiter.limit).toBe(2);
    expect(limiter.snapshot().decreases).toBe(1);
  });

  it('counts errors against growth without shrinking', async () => {
    const limiter = new AimdLimiter({ min: 1, max: 16, initial: 2 });
    const [a, b] = await acquireN(limiter, 2);
    a!.release('error', 10);
    b!.release('ok', 10);
    expect(limiter.limit).toBe(2);
    await cleanWindow(limiter, 10);
    expect(limiter.limit).toBe(3);
  });

  it('makes callers wait in order when the limit is reached, and lets an aborted waiter go', async () => {
    const limiter = new AimdLimiter({ min: 1, max: 1, initial: 1 });
    const first = await limiter.acquire();
    const order: string[] = [];
    const controller = new AbortController();
    const aborted = limiter.acquire(controller.signal).then(
      () => order.push('aborted-granted'),
      () => order.push('aborted-rejected'),
    );
    const second = limiter.acquire().then((p) => {
      order.push('second');
      return p;
    });
    controller.abort(new Error('stop'));
    await aborted;
    expect(limiter.inFlight).toBe(1);
    first.release('ok', 1);
    (await second).release('ok', 1);
    expect(order).toEqual(['aborted-rejected', 'second']);
    expect(limiter.inFlight).toBe(0);
  });

  it('ignores a second release of the same permit', async () => {
    const limiter = new AimdLimiter({ min: 1, max: 4, initial: 2 });
    const p = await limiter.acquire();
    p.release('ok', 1);
    p.release('ok', 1);
    expect(limiter.inFlight).toBe(0);
  });
});

describe('AimdLimiter change notifications', () => {
  it('reports each change of the limit with its reason', async () => {
    const changes: string[] = [];
    const limiter = new AimdLimiter({ min: 1, max: 8, initial: 2, onChange: (limit, reason) => changes.push(`${reason}:${limit}`) });
    await cleanWindow(limiter, 10);
    (await limiter.acquire()).release('backpressure');
    expect(changes).toEqual(['increase:3', 'backpressure:1']);
  });
});
