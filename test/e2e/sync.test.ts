import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, appendFileSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startAepLocal, type AepLocal } from '../../src/aep-local/index.js';
import { buildConfig, type Config } from '../../src/config/load.js';
import { runConnector } from '../../src/core/run.js';
import { openDb } from '../../src/store/db.js';
import { StateStore } from '../../src/store/state.js';
import { silentLogger } from '../../src/log.js';
import { tempDir } from '../helpers/temp.js';
import { aepLocalAdobe, aepLocalStreamingSink } from '../helpers/aep-local-config.js';

const sample = resolve('examples/data/ovo-feedback.ndjson');
const dir = tempDir('xdmf-e2e-');
let aep: AepLocal;
let n = 0;

beforeAll(async () => {
  aep = await startAepLocal();
});
afterAll(() => aep.close());

/** A config reading a private copy of the OVO sample into the local AEP, with its own state file. */
function setup(extra: { retryDeadlineMs?: number } = {}): { config: Config; input: string } {
  const id = n++;
  const input = join(dir, `ovo-${id}.ndjson`);
  copyFileSync(sample, input);
  const config = buildConfig(
    {
      state: join(dir, `state-${id}.db`),
      sources: [{ type: 'ovo-feedback', files: [input] }],
      adobe: aepLocalAdobe(aep, 'XDMF_E2E_SECRET'),
      sink: aepLocalStreamingSink(aep, { maxBatchEvents: 25, backoffBaseMs: 5, backoffMaxMs: 50, ...extra }),
    },
    { baseDir: dir },
  );
  return { config, input };
}

const sync = (config: Config) => runConnector(config, { command: 'sync', log: silentLogger });

function idsIn(config: Config): { ledger: string[]; dead: Array<{ stage: string; reason: string }> } {
  const db = openDb(config.state);
  const store = new StateStore(db);
  const ledger = (db.prepare('SELECT id FROM ledger').all() as Array<{ id: string }>).map((r) => r.id);
  const dead = store.deadLetters().map((d) => ({ stage: d.stage, reason: d.reason }));
  db.close();
  return { ledger, dead };
}

describe('sync of OVO feedback into the local AEP over real HTTP', () => {
  it('sends every outcome once, skips non-outcomes, dead-letters malformed lines and goes on', async () => {
    aep.reset();
    const { config } = setup();
    const result = await sync(config);
    const [summary] = result.summaries;
    expect(result.error).toBeUndefined();
    expect(result.exitCode).toBe(3);
    expect(summary!.deadLettered.decode).toBeGreaterThan(0);
    expect(summary!.sent).toBeGreaterThan(100);
    expect(summary!.read).toBe(summary!.sent + summary!.skipped + summary!.alreadySent + summary!.deadLettered.decode + summary!.deadLettered.map + summary!.deadLettered.validate + summary!.deadLettered.ingest);
    const accepted = aep.acceptedIds();
    expect(new Set(accepted).size).toBe(accepted.length);
    const { ledger, dead } = idsIn(config);
    expect(new Set(ledger)).toEqual(new Set(accepted));
    expect(dead.every((d) => d.stage === 'decode' && /line \d+/.test(d.reason))).toBe(true);
  });

  it('sends nothing twice on a rerun, and only the new lines after an append', async () => {
    aep.reset();
    const { config, input } = setup();
    await sync(config);
    const first = aep.acceptedIds().length;
    const rerun = await sync(config);
    expect(rerun.summaries[0]!.sent).toBe(0);
    expect(rerun.exitCode).toBe(0);
    expect(aep.acceptedIds().length).toBe(first);
    const line = readFileSync(sample, 'utf8').split('\n').find((l) => l.includes('"Delivered"'))!;
    appendFileSync(input, line.replace(/"eventId":"([^"]+)"/, '"eventId":"$1-appended"') + '\n');
    const third = await sync(config);
    expect(third.summaries[0]!.read).toBe(1);
    expect(third.summaries[0]!.sent).toBe(1);
    expect(aep.acceptedIds().length).toBe(first + 1);
  });

  it('commits the accepted part of a mixed 207 and dead-letters the rejected messages with Adobe’s message', async () => {
    aep.reset();
    aep.setFaults({ rejectShare: 0.2 });
    const { config } = setup();
    try {
      const result = await sync(config);
      const summary = result.summaries[0]!;
      expect(summary.deadLettered.ingest).toBeGreaterThan(0);
      const { ledger, dead } = idsIn(config);
      expect(new Set(ledger)).toEqual(new Set(aep.acceptedIds()));
      const ingest = dead.filter((d) => d.stage === 'ingest');
      expect(ingest.length).toBe(summary.deadLettered.ingest);
      expect(ingest[0]!.reason.length).toBeGreaterThan(10);
      expect(result.exitCode).toBe(3);
    } finally {
      aep.setFaults(undefined);
    }
  });

  it('retries 429 answers honouring Retry-After, then delivers everything', async () => {
    aep.reset();
    aep.setFaults({ script: ['429:1', '429:1', 'ok', '503'], retryAfterSeconds: 1 });
    const { config } = setup();
    try {
      const started = Date.now();
      const result = await sync(config);
      expect(result.summaries[0]!.deadLettered.ingest).toBe(0);
      expect(Number(result.summaries[0]!.sinkStats.retries)).toBeGreaterThanOrEqual(2);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(idsIn(config).ledger.length).toBe(result.summaries[0]!.sent);
    } finally {
      aep.setFaults(undefined);
    }
  });

  it('dead-letters with stage ingest, never drops, when Adobe stays down past the deadline', async () => {
    aep.reset();
    aep.setFaults({ share5xx: 1 });
    const { config } = setup({ retryDeadlineMs: 200 });
    try {
      const result = await sync(config);
      const summary = result.summaries[0]!;
      expect(summary.sent).toBe(0);
      expect(summary.deadLettered.ingest).toBeGreaterThan(100);
      expect(result.exitCode).toBe(3);
      expect(idsIn(config).dead.filter((d) => d.stage === 'ingest').every((d) => /gave up/.test(d.reason))).toBe(true);
    } finally {
      aep.setFaults(undefined);
    }
  });
});
