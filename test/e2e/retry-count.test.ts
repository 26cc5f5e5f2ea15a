// retryCount through the whole pipeline: a mixed, out-of-order history of one message, read by two syncs into the
// local AEP over real HTTP with a real SQLite state, gets the retryCount that its provider times say.
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAepLocal, type AepLocal } from '../../src/aep-local/index.js';
import { buildConfig } from '../../src/config/load.js';
import { runConnector } from '../../src/core/run.js';
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
const record = (id: string, status: string, hour: string) =>
  JSON.stringify({ id, externalId: `ext-${id}`, channel: 'EMAIL', status, statusTime: `2024-05-10T${hour}:00Z`, destinationEmail: 'someone@example.com' }) + '\n';

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
    const config = buildConfig(
      {
        state: join(dir, 'state.db'),
        sources: [{ type: 'masstack', files: [input] }],
        adobe: aepLocalAdobe(aep, 'XDMF_RETRY_SECRET'),
        sink: aepLocalStreamingSink(aep),
      },
      { baseDir: dir },
    );

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
