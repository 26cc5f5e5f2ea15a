/**
 * Crash consistency of a backfill through batch ingestion (adobe-batch sink): the built CLI is SIGKILLed at seeded
 * instants (start-up, while a batch is created, uploaded, completed or polled, after AEP finished a batch but before
 * the ledger commit), rerun to completion, then every input line is reconciled: 0 lost and, unlike streaming, 0
 * duplicates — a staged batch is resumed or its kept outcome committed, never uploaded again.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAepLocal } from '../../src/aep-local/index.js';
import type { AepLocal } from '../../src/aep-local/types.js';
import { buildWorkload, crashCli, jsonOf, reconcile, runAndKill, seeded, type KillPlan, type KillRecord, type Workload } from '../helpers/crash-harness.js';
import { tempDir } from '../helpers/temp.js';
import { recordFigure } from './figures.js';

const SOAK = process.env.SOAK === '1';
const N = SOAK ? 100_000 : 20_000;
const KILLS = SOAK ? 40 : 22;
const SEED = 20240502;
/** Records per Adobe batch: small enough that the input spans many batches, so every kill lands mid-backfill. */
const BATCH_RECORDS = SOAK ? 1000 : 250;
const BATCH_ROUTES = ['import.', 'catalog.'];

const root = tempDir('xdmf-batch-kills-');
const BACKFILL = ['backfill', '--from', '2024-05-01', '--to', '2024-06-01', '--via', 'batch'];

interface RunJson {
  exitCode: number;
  summaries: Array<{ read: number; sent: number; alreadySent: number; deadLettered: Record<string, number> }>;
}

/** Seeded kill instants: time from spawn, the next finished batch, the n-th batch API request, after an acknowledgement. */
function killPlans(count: number, random: () => number): KillPlan[] {
  const plans: KillPlan[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 4;
    if (kind === 0) plans.push({ kind: 'time', afterMs: Math.floor(random() * 600) });
    else if (kind === 1) plans.push({ kind: 'progress', events: 1 });
    else if (kind === 2) plans.push({ kind: 'requests', routes: BATCH_ROUTES, count: 1 + Math.floor(random() * 8) });
    else plans.push({ kind: 'after-ack', unit: 1 + Math.floor(random() * 2) });
  }
  for (let i = plans.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [plans[i], plans[j]] = [plans[j]!, plans[i]!];
  }
  return plans;
}

describe('a backfill through batch ingestion, crashed anywhere and rerun: nothing lost, nothing sent twice', () => {
  let aep: AepLocal;
  let workload: Workload;
  beforeAll(async () => {
    // AEP's per-message rejections are a streaming answer; batch failures are covered in test/sinks.
    workload = buildWorkload(N, SEED, { shares: { reject: 0 } });
    aep = await startAepLocal({ seed: SEED, batchProcessingDelayMs: 1 });
  });
  afterAll(async () => {
    await aep?.close();
  });

  it(`survives ${KILLS} seeded SIGKILLs of backfill --via batch over ${N} records and reconciles every line`, async () => {
    const staging = join(root, 'kills', 'staging');
    const cli = crashCli(join(root, 'kills'), aep, workload.text, {}, {
      sink: {
        type: 'adobe-batch',
        datasetId: aep.datasets[0]!.id,
        stagingDir: './staging',
        maxBatchRecords: BATCH_RECORDS,
        maxConcurrentBatches: 2,
        lingerMs: 30,
        pollIntervalMs: 5,
        pollMaxIntervalMs: 20,
        backoffBaseMs: 10,
        backoffMaxMs: 100,
      },
    });
    const random = seeded(SEED);
    const kills: KillRecord[] = [];
    const started = Date.now();
    // Spare plans: a kill that lands after its run already finished does not count, so more are drawn until KILLS land.
    for (const plan of killPlans(KILLS + 8, random)) {
      if (kills.filter((k) => k.killed).length >= KILLS) break;
      kills.push(await runAndKill(cli, aep, plan, { args: BACKFILL, quietMs: 100 }));
    }

    const final = await cli.run([...BACKFILL, '--json']);
    expect([0, 3], final.stderr).toContain(final.code); // 3 when this run still met undecodable or unmappable lines
    await aep.settled();
    const again = jsonOf<RunJson>(await cli.run([...BACKFILL, '--json']));
    expect(again.summaries[0]).toMatchObject({ read: 0, sent: 0 }); // the window is fully settled

    const killed = kills.filter((k) => k.killed);
    expect(killed.length).toBeGreaterThanOrEqual(20);
    const byKind = (kind: KillPlan['kind']) => killed.filter((k) => k.plan.kind === kind).length;
    expect(byKind('after-ack')).toBeGreaterThanOrEqual(4);
    expect(byKind('requests')).toBeGreaterThanOrEqual(4);
    // A kill after AEP finished a batch and before the ledger commit leaves that batch's events uncommitted (the
    // batch may have been ingested by an earlier, killed run and only acknowledged by this one) …
    for (const k of killed.filter((k) => k.plan.kind === 'after-ack')) expect(k.acceptedNotCommitted, JSON.stringify(k.plan)).toBeGreaterThan(0);
    for (const k of kills) expect(k.ledgerNotAccepted, JSON.stringify(k.plan)).toEqual([]);

    // … and the rerun commits them from the batch outcome it kept: nothing is uploaded twice.
    const r = reconcile(workload, aep, cli.state);
    expect(r.lost).toEqual([]);
    expect(r.unexpected).toEqual([]);
    expect(r.duplicates).toBe(0);
    expect(aep.stats().duplicates).toBe(0);
    expect(r.extraDeadLetters).toBe(0);
    expect(r.ledgerMatchesAccepted).toBe(true);
    expect(r.distinctAccepted).toBe(workload.counts.accept);
    expect(r.deadLetters).toEqual({ decode: workload.counts.decode, map: workload.counts.map });
    expect(aep.accepted().every((a) => a.via === 'batch')).toBe(true);
    // No staged record (personal data) is left behind. What a killed run had already committed keeps only its
    // outcome and _id list (no record content) until keepUnclaimedDays: the rerun never meets those events again.
    const left = readdirSync(staging, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
    expect(left.filter((name) => !['group.json', 'ids.json', 'owner.json'].includes(name))).toEqual([]);

    const stats = aep.stats();
    recordFigure('batch-crash', {
      records: N,
      kills: killed.length,
      killsBetweenAckAndCommit: byKind('after-ack'),
      killsDuringBatchRequests: byKind('requests'),
      lost: r.lost.length,
      duplicates: r.duplicates,
      uncommittedAtKills: kills.reduce((a, k) => a + k.uncommitted.length, 0),
      batchesCreated: stats.batches.created,
      batchesSucceeded: stats.batches.success,
      deadLetters: r.deadLetters,
      outcomeOnlyGroupsLeft: readdirSync(staging).length,
      seconds: Math.round((Date.now() - started) / 1000),
    });
  }, SOAK ? 900_000 : 150_000);
});
