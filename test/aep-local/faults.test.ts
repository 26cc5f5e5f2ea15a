import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { parseFaultStep, startAepLocal, type AepLocal, type FaultPlan } from '../../src/aep-local/index.js';
import { batchPath, call, callConforming, dcsHeaders, envelope, event, platformHeaders } from './support.js';

let local: AepLocal;
let t: string;

beforeAll(async () => {
  local = await startAepLocal();
});
afterAll(() => local.close());
beforeEach(() => {
  local.reset();
  t = local.issueToken();
});

/** Sends one batch; `reset` when the connection was destroyed without an answer. */
async function send(target: AepLocal, id: string): Promise<number | 'reset'> {
  try {
    return (await call(target, { method: 'POST', path: batchPath(target), headers: dcsHeaders(target === local ? t : target.issueToken()), body: { messages: [envelope(event(id))] } })).status;
  } catch {
    return 'reset';
  }
}

describe('scripted faults', () => {
  test('a script is played exactly, one step per request, then requests succeed', async () => {
    local.setFaults({ script: ['429:2', '503', 'reset', '500', '502', '504', 'ok'] });
    const first = await callConforming(local, { method: 'POST', path: batchPath(local), headers: dcsHeaders(t), body: { messages: [envelope(event('x'))] } });
    expect(first.status).toBe(429);
    expect(first.headers['retry-after']).toBe('2');
    const second = await callConforming(local, { method: 'POST', path: batchPath(local), headers: dcsHeaders(t), body: { messages: [envelope(event('x'))] } });
    expect(second.status).toBe(503);
    expect(second.headers['retry-after']).toBe('1');
    const rest = [];
    for (let i = 0; i < 6; i++) rest.push(await send(local, `r-${i}`));
    expect(rest).toEqual(['reset', 500, 502, 504, 207, 207]);
    expect(local.acceptedIds()).toEqual(['r-4', 'r-5']);
    expect(local.stats().faults).toEqual({ '429': 1, '503': 1, reset: 1, '500': 1, '502': 1, '504': 1 });
    expect(local.stats().requests['dcs.batch']).toEqual({ '429': 1, '503': 1, reset: 1, '500': 1, '502': 1, '504': 1, '207': 2 });
  });

  test('reset-after stores the events but loses the answer, the way duplicates are born', async () => {
    local.setFaults({ script: ['reset-after'] });
    expect(await send(local, 'lost-answer')).toBe('reset');
    expect(await send(local, 'lost-answer')).toBe(207);
    expect(local.acceptedIds()).toEqual(['lost-answer', 'lost-answer']);
    expect(local.stats().duplicates).toBe(1);
  });

  test('a scripted 401 and 413 look like the route\'s real answers', async () => {
    local.setFaults({ script: ['401', '413'] });
    const unauthorized = await call(local, { method: 'POST', path: batchPath(local), headers: dcsHeaders(t), body: { messages: [envelope(event('x'))] } });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.json.status).toBe('401');
    expect((await send(local, 'y')).toString()).toBe('413');
  });

  test('slow:ms delays the answer and then handles the request normally', async () => {
    local.setFaults({ script: ['slow:120'] });
    const started = Date.now();
    expect(await send(local, 'slow')).toBe(207);
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
    expect(local.stats().faults['slow']).toBe(1);
  });

  test.each(['429:x', '418', '500:3', 'explode', 'slow'])('the script step "%s" is refused with a readable reason', (step) => {
    expect(() => parseFaultStep(step)).toThrow(/fault script entry/);
    expect(() => local.setFaults({ script: [step] })).toThrow(/fault script entry/);
  });

  test('faults target DCS and platform routes but not IMS unless asked', async () => {
    local.setFaults({ script: ['503', '503'] });
    const ims = await call(local, {
      method: 'POST',
      path: '/ims/token/v3',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: local.credentials.clientId, client_secret: local.credentials.clientSecret }).toString(),
    });
    expect(ims.status).toBe(200);
    const catalog = await call(local, { path: '/data/foundation/catalog/batches/nope', headers: platformHeaders(local, t) });
    expect(catalog.status).toBe(503);
    local.setFaults({ routes: ['ims'], script: ['429'] });
    expect(await send(local, 'dcs-untouched')).toBe(207);
  });
});

describe('seeded shares', () => {
  const plan: FaultPlan = { share429: 0.2, share5xx: 0.2, shareReset: 0.1 };

  async function outcomes(seed: number, n: number): Promise<Array<number | 'reset'>> {
    const target = await startAepLocal({ seed, faults: plan });
    try {
      const out: Array<number | 'reset'> = [];
      for (let i = 0; i < n; i++) out.push(await send(target, `s-${i}`));
      return out;
    } finally {
      await target.close();
    }
  }

  test('the same seed gives the same faults in the same order; another seed gives others', async () => {
    const a = await outcomes(42, 40);
    const b = await outcomes(42, 40);
    const c = await outcomes(7, 40);
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
    const faults = a.filter((o) => o !== 207);
    // 50 % of requests are expected to fail; a seeded run of 40 lands well inside 8..32.
    expect(faults.length).toBeGreaterThan(8);
    expect(faults.length).toBeLessThan(32);
    expect(new Set(faults)).toContain('reset');
    expect(new Set(faults)).toContain(429);
  });

  test('429 answers carry Retry-After from the plan', async () => {
    local.setFaults({ share429: 1, retryAfterSeconds: 7 });
    const reply = await call(local, { method: 'POST', path: batchPath(local), headers: dcsHeaders(t), body: { messages: [envelope(event('x'))] } });
    expect(reply.status).toBe(429);
    expect(reply.headers['retry-after']).toBe('7');
  });

  test('statuses5xx narrows the 5xx drawn', async () => {
    local.setFaults({ share5xx: 1, statuses5xx: [502] });
    expect([await send(local, 'a'), await send(local, 'b'), await send(local, 'c')]).toEqual([502, 502, 502]);
  });

  test('slowMs without slowShare slows every answer', async () => {
    local.setFaults({ slowMs: 60 });
    const started = Date.now();
    await send(local, 'a');
    await send(local, 'b');
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
  });

  test.each([{ share429: 1.5 }, { shareReset: -0.1 }, { slowMs: -1 }, { statuses5xx: [404] }, { rejectIdPattern: '(' }])('an invalid plan %j is refused and the old plan stays', (bad) => {
    local.setFaults({ script: ['503'] });
    expect(() => local.setFaults(bad as FaultPlan)).toThrow(/fault plan/);
  });
});

describe('per-message rejections and the size threshold', () => {
  test('messages whose _id matches the pattern or the predicate are rejected one by one', async () => {
    local.setFaults({ rejectIdPattern: '^bad-', rejectIds: (id) => id === 'veto' });
    const reply = await call(local, {
      method: 'POST',
      path: batchPath(local),
      headers: dcsHeaders(t),
      body: { messages: ['ok-1', 'bad-1', 'veto', 'ok-2'].map((id) => envelope(event(id))) },
    });
    expect(reply.json.responses.map((r: { statusCode?: number }) => r.statusCode ?? 200)).toEqual([200, 400, 400, 200]);
    expect(reply.json.responses[1].message).toContain('Message is invalid');
    expect(local.acceptedIds()).toEqual(['ok-1', 'ok-2']);
    expect(local.stats().faults['reject']).toBe(2);
  });

  test('a reject share rejects about that share of messages, reproducibly', async () => {
    const run = async () => {
      const target = await startAepLocal({ seed: 3, faults: { rejectShare: 0.25 } });
      try {
        const reply = await call(target, {
          method: 'POST',
          path: batchPath(target),
          headers: dcsHeaders(target.issueToken()),
          body: { messages: Array.from({ length: 100 }, (_, i) => envelope(event(`m-${i}`))) },
        });
        const rejected = reply.json.responses.filter((r: { statusCode?: number }) => r.statusCode === 400).length as number;
        return { accepted: target.acceptedIds().length, rejected };
      } finally {
        await target.close();
      }
    };
    const first = await run();
    expect(await run()).toEqual(first);
    expect(first.rejected).toBeGreaterThan(10);
    expect(first.rejected).toBeLessThan(40);
    expect(first.accepted).toBe(100 - first.rejected);
  });

  test('a lower maxRequestBytes in the plan turns big requests into 413', async () => {
    local.setFaults({ maxRequestBytes: 3_000 });
    const small = await send(local, 'small');
    const big = await call(local, {
      method: 'POST',
      path: batchPath(local),
      headers: dcsHeaders(t),
      body: { messages: Array.from({ length: 3 }, (_, i) => envelope(event(`b-${i}`))) },
    });
    expect(small).toBe(207);
    expect(big.status).toBe(413);
    expect(local.stats().faults['413']).toBe(1);
  });
});

describe('the control route', () => {
  test('POST /__local/faults sets a plan from JSON and GET shows it; an invalid one gets 400', async () => {
    const set = await call(local, { method: 'POST', path: '/__local/faults', headers: { 'content-type': 'application/json' }, body: { script: ['503:4', 'ok'], share429: 0 } });
    expect(set.status).toBe(200);
    expect(set.json).toMatchObject({ script: ['503:4', 'ok'], scriptLeft: 2 });
    const reply = await call(local, { method: 'POST', path: batchPath(local), headers: dcsHeaders(t), body: { messages: [envelope(event('x'))] } });
    expect(reply.status).toBe(503);
    expect(reply.headers['retry-after']).toBe('4');
    expect((await call(local, { path: '/__local/faults' })).json.scriptLeft).toBe(1);
    const bad = await call(local, { method: 'POST', path: '/__local/faults', body: { script: ['boom'] } });
    expect(bad.status).toBe(400);
    expect(bad.json.error).toContain('boom');
    expect((await call(local, { path: '/__local/faults' })).json.scriptLeft).toBe(1);
  });
});
