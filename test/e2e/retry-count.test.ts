// retryCount through the whole pipeline: a mixed, out-of-order history of one message, read by two syncs into the
// local AEP over real HTTP with a real SQLite state, gets the retryCount that its provider times say.
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAepLocal, type AepLocal } from '../../src/aep-local/index.js';
import { buildConfig } from '../../src/config/load.js';
import { runConnector } from '../../src/core/run.js';
import { mapperFor } from '../../src/core/stages.js';
import type { JsonObject } from '../../src/core/types.js';
import { openDb } from '../../src/store/db.js';
import { StateStore } from '../../src/store/state.js';
import { MAX_EVENT_BYTES } from '../../src/validate/index.js';
import { silentLogger } from '../../src/log.js';
import { tempDir } from '../helpers/temp.js';
import { aepLocalAdobe, aepLocalStreamingSink } from '../helpers/aep-local-config.js';

const dir = tempDir('xdmf-retry-');
let aep: AepLocal;

beforeAll(async () => {
  aep = await startAepLocal();
});
afterAll(() => aep.close());

/** One MasStack status record of an email communication. */
const record = (id: string, status: string, hour: string, reason?: string) =>
  JSON.stringify({ id, externalId: `ext-${id}`, channel: 'EMAIL', status, statusTime: `2024-05-10T${hour}:00Z`, destinationEmail: 'someone@example.com', ...(reason ? { reason } : {}) }) + '\n';

/** A sync of one MasStack export into the local AEP, with its own state file. */
const masstackConfig = (input: string, state: string) =>
  buildConfig(
    { state: join(dir, state), sources: [{ type: 'masstack', files: [input] }], adobe: aepLocalAdobe(aep, 'XDMF_RETRY_SECRET'), sink: aepLocalStreamingSink(aep) },
    { baseDir: dir },
  );

/** What AEP received: `<message> <status> <hour>` → retryCount of each accepted event. */
function received(): Record<string, number | undefined> {
  const out: Record<string, number | undefined> = {};
  for (const { event } of aep.accepted()) {
    const cjm = (event._experience as Record<string, any>).customerJourneyManagement;
    const key = `${cjm.messageProfile.messageProfileID} ${cjm.messageDeliveryfeedback.feedbackStatus} ${String(event.timestamp).slice(11, 16)}`;
    out[key] = cjm.messageDeliveryfeedback.retryCount;
  }
  return out;
}

describe('retryCount from the message history, through sync', () => {
  it('counts earlier delays and soft failures by provider time, places late reports correctly and never re-sends a repeat', async () => {
    const input = join(dir, 'masstack.ndjson');
    // Run 1 reads these in this order; the last one arrives late but happened first.
    writeFileSync(input, record('m1', 'DEFERRED', '09:00') + record('m1', 'DEFERRED', '11:00') + record('m1', 'REJECTED', '13:00') + record('m1', 'DEFERRED', '08:00'));
    const config = masstackConfig(input, 'state.db');

    const first = await runConnector(config, { command: 'sync', log: silentLogger });
    expect(first.exitCode).toBe(0);
    expect(received()).toEqual({
      'm1 delay 09:00': 0,
      'm1 delay 11:00': 1, // 09:00 before it
      'm1 bounce 13:00': 2, // 09:00 and 11:00 (REJECTED is a soft bounce: final, but counted for what follows)
      'm1 delay 08:00': 0, // read last, happened first: nothing before it
    });

    // Run 2: another late report between 09:00 and 11:00, a repeat of an event already sent, and another message.
    aep.reset();
    appendFileSync(input, record('m1', 'DEFERRED', '10:00') + record('m1', 'DEFERRED', '11:00') + record('m2', 'DEFERRED', '10:30') + record('m1', 'DELIVERED', '14:00'));
    const second = await runConnector(config, { command: 'sync', log: silentLogger });
    expect(second.exitCode).toBe(0);
    expect(second.summaries[0]).toMatchObject({ read: 4, sent: 3, alreadySent: 1 });
    expect(received()).toEqual({
      'm1 delay 10:00': 2, // 08:00 and 09:00 before it
      'm2 delay 10:30': 0, // another message has its own history
      'm1 delivered 14:00': 5, // 08:00, 09:00, 10:00, 11:00, 13:00
    });
  });
});

describe('the size limit with the real retryCount', () => {
  it('refuses at validation an event that its retryCount alone takes over 10 KB, and sends one that it takes exactly to the limit', async () => {
    const input = join(dir, 'masstack-large.ndjson');
    const config = masstackConfig(input, 'state-large.db');
    const mapper = mapperFor(config.sources[0]!, config.mapping);
    /** A DEFERRED record of message `id` at 11:00 whose event, with retryCount 0, is `bytes` long. */
    const sized = (id: string, bytes: number) => {
      const size = (reason: string) => {
        const result = mapper.map(JSON.parse(record(id, 'DEFERRED', '11', reason)) as JsonObject);
        if (result.kind !== 'event') throw new Error(`not mapped: ${result.kind}`);
        (result.mapped.event._experience as any).customerJourneyManagement.messageDeliveryfeedback.retryCount = 0;
        return Buffer.byteLength(JSON.stringify(result.mapped.event));
      };
      const reason = 'x'.repeat(bytes - size('x') + 1);
      expect(size(reason)).toBe(bytes);
      return record(id, 'DEFERRED', '11', reason);
    };
    const tenEarlier = (id: string) => Array.from({ length: 10 }, (_, h) => record(id, 'DEFERRED', String(h).padStart(2, '0'))).join('');
    writeFileSync(
      input,
      tenEarlier('big1') + sized('big1', MAX_EVENT_BYTES) + // retryCount 10: one byte over
        tenEarlier('big2') + sized('big2', MAX_EVENT_BYTES - 1) + // retryCount 10: exactly at the limit
        sized('big3', MAX_EVENT_BYTES), // retryCount 0: exactly at the limit
    );
    aep.reset();
    const run = await runConnector(config, { command: 'sync', log: silentLogger });
    expect(run.exitCode).not.toBe(0); // a dead letter
    expect(run.summaries[0]).toMatchObject({ read: 23, sent: 22, deadLettered: { validate: 1, ingest: 0 } });
    const got = received();
    expect(got['big1 delay 11:00']).toBeUndefined();
    expect(got['big2 delay 11:00']).toBe(10);
    expect(got['big3 delay 11:00']).toBe(0);
    const db = openDb(config.state);
    const dead = new StateStore(db).deadLetters();
    db.close();
    expect(dead.map((d) => ({ stage: d.stage, errors: d.errors }))).toEqual([
      { stage: 'validate', errors: [`/: event is ${MAX_EVENT_BYTES + 1} bytes serialised, over Profile's ExperienceEvent limit of ${MAX_EVENT_BYTES} bytes`] },
    ]);
    expect(dead[0]!.reason).toMatch(/^the mapped XDM event is invalid: /);
  });
});
