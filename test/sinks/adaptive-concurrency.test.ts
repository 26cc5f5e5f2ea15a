// Adaptive concurrency over real HTTP: against the local AEP imitation the DCS in-flight limit grows while answers
// are fast and clean, halves under a 429 storm, and grows again once the storm is over — in the stats the run
// summary prints and in the debug log.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAepLocal, type AepLocal } from '../../src/aep-local/index.js';
import type { OutboundEvent, XdmEvent } from '../../src/core/types.js';
import { AdobeStreamingSink } from '../../src/sinks/adobe-streaming/index.js';
import { captureLogger, virtualClock } from './helpers.js';
import { aepLocalAuth } from '../helpers/aep-local-config.js';
import { JsonBytes } from '../../src/core/json-bytes.js';

const template = JSON.parse(readFileSync(new URL('../fixtures/xdm/email-hard-bounce.json', import.meta.url), 'utf8')) as XdmEvent;
let counter = 0;

function events(n: number): OutboundEvent[] {
  return Array.from({ length: n }, () => {
    const event = { ...template, _id: `aimd-${counter++}` } as XdmEvent;
    return { id: event._id, eventType: 'message.feedback', json: JsonBytes.of(JSON.stringify(event)) };
  });
}

let aep: AepLocal;
beforeAll(async () => {
  aep = await startAepLocal();
});
afterAll(async () => {
  await aep.close();
});

/** Several send calls at once, as the pipeline makes them, each of up to 10 small DCS batches. */
async function traffic(sink: AdobeStreamingSink, calls: number, perCall: number): Promise<void> {
  const results = (await Promise.all(Array.from({ length: calls }, () => sink.send(events(perCall))))).flat();
  expect(results.filter((r) => r.kind !== 'accepted')).toEqual([]);
}

const num = (stats: Record<string, number | string>, key: string) => Number(stats[key]);

describe('adaptive concurrency against the local AEP imitation', () => {
  it('grows on fast clean answers, backs off under a 429 storm, and recovers after it', async () => {
    const { log, lines } = captureLogger();
    const [feedback] = aep.datasets;
    const sink = new AdobeStreamingSink(
      {
        type: 'adobe-streaming',
        dcsUrl: aep.endpoints.dcsUrl,
        inletId: aep.inletId,
        flowId: aep.flowId,
        datasetId: feedback!.id,
        schemaRef: feedback!.schemaRef,
        maxBatchEvents: 5,
        backoffBaseMs: 10,
        backoffMaxMs: 100,
        concurrency: { min: 1, max: 8, initial: 2 },
      },
      {
        log,
        clock: virtualClock(), // backoff and Retry-After cost no real time
        auth: aepLocalAuth(aep),
      },
    );
    /** The limit changes logged since `from` (debug lines 'DCS concurrency limit changed'). */
    const logged = (from: number) =>
      lines
        .slice(from)
        .map((l) => JSON.parse(l) as { msg: string; reason?: string; limit?: number })
        .filter((l) => l.msg === 'DCS concurrency limit changed');
    const changesSince = (from: number) => logged(from).map((l) => l.reason);
    try {
      // 1. Clean traffic: the limit climbs from 2. (Latency noise on a busy machine may also halve it now and
      //    then; that is the latency rule at work, so only back-pressure is ruled out here.)
      await traffic(sink, 8, 50);
      const grown = sink.stats();
      expect(num(grown, 'concurrencyIncreases')).toBeGreaterThan(0);
      expect(num(grown, 'concurrencyMax')).toBeGreaterThan(2);
      expect(changesSince(0)).toContain('increase');
      expect(changesSince(0)).not.toContain('backpressure');

      // 2. A 429 storm: the limit halves, and every event still gets through.
      const stormStart = lines.length;
      aep.setFaults({ script: Array.from({ length: 12 }, () => '429:0') });
      await traffic(sink, 8, 20);
      const stormed = sink.stats();
      expect(num(stormed, 'throttled')).toBeGreaterThan(0);
      expect(num(stormed, 'concurrencyDecreases')).toBeGreaterThan(num(grown, 'concurrencyDecreases'));
      expect(changesSince(stormStart)).toContain('backpressure');
      const storm = logged(stormStart);
      const lowest = Math.min(...storm.map((c) => c.limit!));
      expect(lowest).toBeLessThan(num(grown, 'concurrencyCurrent'));
      expect(lowest).toBeGreaterThanOrEqual(1);

      // 3. The storm is over: from its lowest point the limit grows again, within its bounds.
      const calmStart = lines.length;
      aep.setFaults(undefined);
      await traffic(sink, 8, 50);
      const recovered = sink.stats();
      const afterLowest = logged(stormStart).slice(storm.findIndex((c) => c.limit === lowest) + 1);
      expect(afterLowest.map((c) => c.reason)).toContain('increase');
      expect(Math.max(...afterLowest.map((c) => c.limit!))).toBeGreaterThan(lowest);
      expect(num(recovered, 'concurrencyMax')).toBeLessThanOrEqual(8);
      expect(changesSince(calmStart)).not.toContain('backpressure');
    } finally {
      await sink.close();
    }
  });
});
