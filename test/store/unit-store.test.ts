import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { openDb } from '../../src/store/db.js';
import { StateStore } from '../../src/store/state.js';
import { inlineUnitStore, threadedUnitStore, type EnrichRequest } from '../../src/store/unit-store.js';
import { buildConfig } from '../../src/config/load.js';
import { runConnector } from '../../src/core/run.js';
import { silentLogger } from '../../src/log.js';
import { tempDir } from '../helpers/temp.js';
import { aepLocalAdobe, aepLocalStreamingSink } from '../helpers/aep-local-config.js';
import { startAepLocal } from '../../src/aep-local/index.js';

const dir = tempDir('xdmf-unit-store-');
let n = 0;
const freshPath = () => join(dir, `state-${n++}.db`);

const outcome = (t: string, countsAsRetry = true) => ({ status: countsAsRetry ? 'delay' : 'delivered', providerTime: t, countsAsRetry });
const message = { messageId: 'm-1', channel: 'email' };
const requests: EnrichRequest[] = [
  { id: 'id-1', eventTime: '2026-01-01T09:00:00Z', sourceEventId: 'e1', message, outcome: outcome('2026-01-01T09:00:00Z') },
  { id: 'id-2', eventTime: '2026-01-01T10:00:00Z', sourceEventId: 'e2', message, outcome: outcome('2026-01-01T10:00:00Z') },
  { id: 'id-3', eventTime: '2026-01-01T11:00:00Z', sourceEventId: 'e3', message, outcome: outcome('2026-01-01T11:00:00Z', false) },
];

describe('the state worker thread', () => {
  it('answers enrichment exactly as the inline store does, in request order', async () => {
    const inlinePath = freshPath();
    const threadedPath = freshPath();
    const inline = inlineUnitStore(new StateStore(openDb(inlinePath)));
    const main = new StateStore(openDb(threadedPath));
    const threaded = await threadedUnitStore(threadedPath, main);
    const expected = await inline.enrich('src', JSON.stringify(requests));
    expect(expected).toEqual([
      { sent: false, retryCount: 0 },
      { sent: false, retryCount: 1 },
      { sent: false, retryCount: 2 },
    ]);
    expect(await threaded.enrich('src', JSON.stringify(requests))).toEqual(expected);
    await threaded.close();
  });

  it('writes a unit the main connection reads once the commit resolves, and then reports its ids as sent', async () => {
    const path = freshPath();
    const main = new StateStore(openDb(path));
    const threaded = await threadedUnitStore(path, main);
    const runId = main.startRun('sync', 'src', 'file');
    await threaded.commit({
      runId,
      source: 'src',
      checkpoints: [{ stream: 'a.ndjson', position: '4096' }],
      accepted: [{ id: 'id-1', source: 'src', sink: 'file', eventTime: '2026-01-01T09:00:00Z', eventType: 'message.feedback', status: 'delay' }],
      deadLetters: [{ source: 'src', stage: 'map', raw: '{}', reason: 'unknown status' }],
    });
    expect(main.checkpoint('src', 'a.ndjson')).toBe('4096');
    expect(main.isSent('id-1', '2026-01-01T09:00:00Z')).toBe(true);
    expect(main.deadLetters()).toHaveLength(1);
    // id-1 is in the ledger, so its delay never reached the history: the later outcomes count only e2's.
    expect(await threaded.enrich('src', JSON.stringify(requests))).toEqual([{ sent: true }, { sent: false, retryCount: 0 }, { sent: false, retryCount: 1 }]);
    await threaded.close();
  });

  it('rejects a failed write with the SQLite error code, so it is reported like an error on the main thread', async () => {
    const path = freshPath();
    const main = new StateStore(openDb(path));
    const threaded = await threadedUnitStore(path, main);
    const bad = { source: 'src', stage: 'nowhere' as 'map', raw: '{}', reason: 'x' }; // violates the stage CHECK
    const error = await threaded.commit({ runId: 1, source: 'src', checkpoints: [{ stream: 's', position: '1' }], accepted: [], deadLetters: [bad] }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toMatch(/^SQLITE_CONSTRAINT/);
    expect(main.checkpoint('src', 's')).toBeUndefined(); // the unit's transaction left nothing behind
    await threaded.close();
    await expect(threaded.enrich('src', JSON.stringify(requests))).rejects.toThrow(/closed/);
  });

  it('falls back to the inline store for an in-memory database', async () => {
    const store = new StateStore(openDb(':memory:'));
    const unitStore = await threadedUnitStore(':memory:', store);
    expect(await unitStore.enrich('src', JSON.stringify(requests.slice(0, 1)))).toEqual([{ sent: false, retryCount: 0 }]);
    await unitStore.close();
  });
});

describe('a sync with enrichment on the state thread', () => {
  it('sends an event repeated in the next unit once, however enrichment and commits interleave', async () => {
    // One send in flight, so each unit's commit is written while the unit after it — already looked up in the ledger
    // and told "not sent" — is still being finished: only the in-flight set, released no earlier than that unit is
    // done, catches its repeats of the committed unit's events. Every other record from the 1,000th on repeats one
    // 300–700 records back (mostly in the unit before).
    const aep = await startAepLocal();
    try {
      const sample = readFileSync('examples/data/ovo-feedback.ndjson', 'utf8').split('\n').filter(Boolean);
      const template = JSON.parse(sample.find((l) => l.includes('"Delivered"'))!) as { metadata: { eventId: string } };
      const line = (i: number) => JSON.stringify({ ...template, metadata: { ...template.metadata, eventId: `evt-${i}` } });
      const lines: string[] = [];
      for (let i = 0; i < 4000; i++) {
        lines.push(line(i));
        if (i >= 1000 && i % 2 === 0) lines.push(line(i - 300 - (i % 400)));
      }
      const input = join(dir, 'repeats.ndjson');
      writeFileSync(input, lines.join('\n') + '\n');
      const config = buildConfig(
        {
          state: freshPath(),
          sources: [{ type: 'ovo-feedback', files: [input] }],
          adobe: aepLocalAdobe(aep, 'XDMF_UNIT_STORE_SECRET'),
          sink: aepLocalStreamingSink(aep, { concurrency: { min: 1, max: 1, initial: 1 } }),
        },
        { baseDir: dir },
      );
      const result = await runConnector(config, { command: 'sync', log: silentLogger });
      expect(result.error).toBeUndefined();
      const ids = aep.acceptedIds();
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(4000);
      expect(result.summaries[0]!.alreadySent).toBe(lines.length - 4000);
    } finally {
      await aep.close();
    }
  });
});
