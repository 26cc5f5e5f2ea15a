import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAepLocal, type AepLocal } from '../../src/aep-local/index.js';
import { spawnCli } from '../helpers/crash-harness.js';
import { tempDir } from '../helpers/temp.js';
import { aepLocalAdobeSection } from '../helpers/aep-local-config.js';

const root = tempDir('xdmf-batch-crash-');
let aep: AepLocal;
let n = 0;

beforeAll(async () => {
  aep = await startAepLocal({ batchProcessingDelayMs: 1 });
});
afterAll(async () => {
  await aep.close();
});
afterEach(() => aep.reset());

/** OVO unified records in May 2024, every one an outcome (Pending → sent). */
function records(count: number, prefix: string): string {
  return (
    Array.from({ length: count }, (_, i) =>
      JSON.stringify({
        commId: `${prefix}-${i}`,
        commDescription: 'Payment reminder',
        customer: { customerId: String(300000 + i) },
        status: 'Pending',
        channel: i % 2 ? 'Email' : 'SMS',
        metadata: { eventId: `${prefix}-${i}-feedback`, traceToken: `t-${prefix}-${i}`, createdAt: Date.UTC(2024, 4, 3, i % 24, i % 60) },
      }),
    ).join('\n') + '\n'
  );
}

/** A folder with input and a config whose sink is adobe-batch against the imitation; `start` runs the built CLI. */
function setup(count: number) {
  const dir = join(root, `r${n++}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'in.ndjson'), records(count, `x${n}`));
  const config = {
    state: './state/state.db',
    sources: [{ type: 'ovo-feedback', id: 'ovo', files: ['./in.ndjson'] }],
    adobe: aepLocalAdobeSection(aep),
    sink: {
      type: 'adobe-batch',
      datasetId: aep.datasets[0]!.id,
      stagingDir: join(dir, 'staging'),
      lingerMs: 50,
      pollIntervalMs: 10,
      pollMaxIntervalMs: 50,
      backoffBaseMs: 20,
      backoffMaxMs: 200,
    },
  };
  writeFileSync(join(dir, 'xdm-feedback.json'), JSON.stringify(config));
  const start = (args: string[], env: Record<string, string> = {}) =>
    spawnCli(dir, join(dir, 'xdm-feedback.json'), ['--log-level', 'warn', ...args], { ADOBE_CLIENT_SECRET: aep.credentials.clientSecret, ...env });
  const ledger = () => {
    const db = new Database(join(dir, 'state', 'state.db'), { readonly: true });
    try {
      return db.prepare('SELECT id FROM ledger').pluck().all() as string[];
    } finally {
      db.close();
    }
  };
  return { dir, start, ledger };
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const backfill = ['backfill', '--from', '2024-05-01', '--to', '2024-06-01', '--via', 'batch', '--json'];

/** Kills the CLI (SIGKILL) at the first slow request, waits for that request to be handled, and reruns. */
async function killAtSlowRequestAndRerun(script: string[], count = 120) {
  const cli = setup(count);
  aep.setFaults({ routes: ['import', 'catalog'], script });
  const first = cli.start(backfill);
  await until(() => (aep.stats().faults['slow'] ?? 0) > 0, 'the slow request');
  first.child.kill('SIGKILL');
  expect((await first.done).signal).toBe('SIGKILL');
  // The request was on its way: the imitation still handles it (as Adobe would), then the rerun starts.
  await new Promise((r) => setTimeout(r, 400));
  aep.setFaults(undefined);
  const second = await cli.start(backfill).done;
  expect(second.code, second.stderr).toBe(0);
  return { cli, second: JSON.parse(second.stdout) as { summaries: Array<{ read: number; sent: number }> } };
}

describe('adobe-batch sink: the real CLI killed mid-batch (SIGKILL) and run again', () => {
  it('killed while uploading (batch created, not completed): the rerun finishes the same batch, no _id twice', async () => {
    // create ok, then the PUT is slow: the process dies between create and complete.
    const { cli } = await killAtSlowRequestAndRerun(['ok', 'slow:300']);
    const ids = aep.acceptedIds();
    expect(ids).toHaveLength(120);
    expect(new Set(ids).size).toBe(120);
    expect(aep.stats().duplicates).toBe(0);
    expect(aep.stats().batches.created).toBe(1);
    expect(new Set(cli.ledger())).toEqual(new Set(ids));
    expect(readdirSync(join(cli.dir, 'staging'))).toEqual([]);
  });

  it('killed while COMPLETE was on its way: the rerun waits for that batch and sends nothing again', async () => {
    // create, PUT ok; COMPLETE slow (it still reaches the imitation, which ingests the batch).
    const { cli } = await killAtSlowRequestAndRerun(['ok', 'ok', 'slow:300']);
    const ids = aep.acceptedIds();
    expect(ids).toHaveLength(120);
    expect(aep.stats().duplicates).toBe(0);
    expect(aep.stats().batches.created).toBe(1);
    expect(new Set(cli.ledger())).toEqual(new Set(ids));
  });

  it('killed after AEP finished the batch but before the ledger commit: the rerun commits from the kept outcome', async () => {
    const cli = setup(120);
    const first = await cli.start(backfill, { XDM_FEEDBACK_CRASH_AFTER_ACK: '1' }).done;
    expect(first.signal).toBe('SIGKILL');
    expect(aep.acceptedIds()).toHaveLength(120);
    expect(cli.ledger()).toEqual([]);
    const second = await cli.start(backfill).done;
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout).summaries[0]).toMatchObject({ read: 120, sent: 120 });
    expect(aep.acceptedIds()).toHaveLength(120);
    expect(aep.stats().duplicates).toBe(0);
    expect(aep.stats().batches.created).toBe(1);
    expect(cli.ledger()).toHaveLength(120);
    expect(readdirSync(join(cli.dir, 'staging'))).toEqual([]);
  });
});
