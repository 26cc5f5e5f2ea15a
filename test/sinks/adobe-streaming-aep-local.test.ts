import { readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAepLocal, type AepLocal } from '../../src/aep-local/index.js';
import type { XdmEvent } from '../../src/core/types.js';
import { AuthError, FatalError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { AdobeStreamingSink, type AdobeStreamingConfig } from '../../src/sinks/adobe-streaming/index.js';
import type { AdobeAuthConfig } from '../../src/adobe/ims.js';
import { captureLogger, testEvent, virtualClock, type TestEvent } from './helpers.js';
import { aepLocalRoutedSink, aepLocalAuth } from '../helpers/aep-local-config.js';

const template = JSON.parse(readFileSync(new URL('../fixtures/xdm/email-hard-bounce.json', import.meta.url), 'utf8')) as XdmEvent;

/** Valid message.feedback (or message.tracking) events built from the golden fixture, with distinct ids. */
function validEvents(n: number, prefix: string, eventType = 'message.feedback'): TestEvent[] {
  return Array.from({ length: n }, (_, i) => testEvent({ ...template, _id: `${prefix}-${i}`, eventType } as XdmEvent));
}

let aep: AepLocal;
const sinks: AdobeStreamingSink[] = [];

beforeAll(async () => {
  aep = await startAepLocal();
});
afterAll(async () => {
  await aep.close();
});
afterEach(async () => {
  for (const s of sinks.splice(0)) await s.close();
  aep.reset();
});

const auth = (overrides: Partial<AdobeAuthConfig> = {}): AdobeAuthConfig => aepLocalAuth(aep, overrides);

function makeSink(overrides: Partial<AdobeStreamingConfig> = {}, deps: { auth?: AdobeAuthConfig; log?: typeof silentLogger; clock?: ReturnType<typeof virtualClock> } = {}): AdobeStreamingSink {
  const sink = new AdobeStreamingSink(
    // dcsUrl: the full inlet URL, as Adobe shows it
    aepLocalRoutedSink(aep, { dcsUrl: aep.endpoints.dcsUrl, requestTimeoutMs: 2000, backoffBaseMs: 50, backoffMaxMs: 1000, ...overrides }),
    { log: deps.log ?? silentLogger, auth: deps.auth ?? auth(), clock: deps.clock ?? virtualClock() },
  );
  sinks.push(sink);
  return sink;
}

describe('adobe-streaming sink against the local AEP imitation', () => {
  it('delivers valid events into the dataset of their eventType', async () => {
    const events = [...validEvents(30, 'fb'), ...validEvents(10, 'tr', 'message.tracking')];
    const results = await makeSink({ maxBatchEvents: 7 }).send(events);
    expect(results.every((r) => r.kind === 'accepted')).toBe(true);
    expect(new Set(aep.acceptedIds())).toEqual(new Set(events.map((e) => e.id)));
    const byDataset = new Map(aep.accepted().map((a) => [a.event._id as string, a.datasetId]));
    expect(byDataset.get('fb-0')).toBe(aep.datasets[0]!.id);
    expect(byDataset.get('tr-0')).toBe(aep.datasets[1]!.id);
  });

  it('dead-letters events AEP finds invalid with its message, and delivers the rest', async () => {
    const events = validEvents(5, 'mix');
    const broken = { ...events[2]!.event, timestamp: 'yesterday' } as XdmEvent;
    events[2] = testEvent(broken);
    aep.setFaults({ rejectIdPattern: '^mix-4$' });
    const results = await makeSink().send(events);
    expect(results.map((r) => r.kind)).toEqual(['accepted', 'accepted', 'rejected', 'accepted', 'rejected']);
    expect(results[2]).toMatchObject({ reason: expect.stringMatching(/^ingest: DCS rejected the message \(400\): .*Message is invalid/) });
    expect(aep.acceptedIds().sort()).toEqual(['mix-0', 'mix-1', 'mix-3']);
  });

  it('rides out 429, 503, resets, 5xx and 413 from the imitation without losing an event', async () => {
    aep.setFaults({ script: ['429:2', '503:1', 'reset', '500', '413', 'ok', '502', 'reset-after', '504'] });
    const clock = virtualClock();
    const sink = makeSink({ maxBatchEvents: 20 }, { clock });
    const events = validEvents(60, 'storm');
    const results = await sink.send(events);
    expect(results.every((r) => r.kind === 'accepted')).toBe(true);
    expect(new Set(aep.acceptedIds())).toEqual(new Set(events.map((e) => e.id)));
    expect(clock.sleeps.some((ms) => ms >= 2000)).toBe(true);
    const stats = sink.stats();
    expect(stats.throttled).toBeGreaterThanOrEqual(1);
    expect(stats.splits).toBeGreaterThanOrEqual(1);
    expect(stats.resets).toBeGreaterThanOrEqual(1);
  });

  it('survives a random fault storm with concurrent sends: every event accepted at least once', async () => {
    aep.setFaults({ share429: 0.25, share5xx: 0.2, shareReset: 0.1, retryAfterSeconds: 1 });
    const sink = makeSink({ maxBatchEvents: 25, concurrency: { min: 1, max: 6, initial: 3 } });
    const sends = Array.from({ length: 6 }, (_, i) => sink.send(validEvents(100, `rand${i}`)));
    const results = (await Promise.all(sends)).flat();
    expect(results.filter((r) => r.kind !== 'accepted')).toEqual([]);
    expect(new Set(aep.acceptedIds()).size).toBe(600);
    expect(sink.stats().retries).toBeGreaterThan(0);
  });

  it('rejects events with stage-ingest reasons when AEP stays unavailable past the deadline', async () => {
    aep.setFaults({ share5xx: 1, statuses5xx: [503] });
    const clock = virtualClock();
    const results = await makeSink({ retryDeadlineMs: 30_000 }, { clock }).send(validEvents(4, 'down'));
    expect(results).toHaveLength(4);
    for (const r of results) expect(r).toMatchObject({ kind: 'rejected', reason: expect.stringMatching(/^ingest: gave up after \d+ attempts over [\d.]+s: 503 from DCS/) });
    expect(aep.acceptedIds()).toEqual([]);
  });

  it('fetches a new token when the imitation revokes the old one mid-run', async () => {
    const sink = makeSink();
    expect((await sink.send(validEvents(3, 'before'))).every((r) => r.kind === 'accepted')).toBe(true);
    aep.revokeTokens();
    expect((await sink.send(validEvents(3, 'after'))).every((r) => r.kind === 'accepted')).toBe(true);
    expect(sink.stats()).toMatchObject({ unauthorized: 1, tokenRefreshes: 1 });
    expect(aep.acceptedIds()).toHaveLength(6);
  });

  it('stops with an AuthError when even a fresh token is refused', async () => {
    aep.setFaults({ script: ['401', '401'] });
    await expect(makeSink().send(validEvents(2, 'auth'))).rejects.toBeInstanceOf(AuthError);
  });

  it('stops with an AuthError naming IMS when the client secret is wrong, without revealing it', async () => {
    const wrong = 'p8e-WrongSecretForAepLocal-1';
    const { log, lines } = captureLogger();
    const error = await makeSink({}, { auth: auth({ clientSecret: wrong }), log }).send(validEvents(1, 'bad')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).toMatch(/IMS refused the client credentials/);
    expect(inspect(error, { depth: 10}) + lines.join('')).not.toContain(wrong);
  });

  it('stops with a FatalError carrying Adobe’s message on 403 (wrong sandbox)', async () => {
    const error = await makeSink({}, { auth: auth({ sandbox: 'not-mine' }) }).send(validEvents(1, 'sbx')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FatalError);
    expect((error as Error).message).toMatch(/^DCS answered 403 to POST .*\/collection\/batch\/.*Sandbox \[not-mine\] does not own this inlet/);
  });
});
