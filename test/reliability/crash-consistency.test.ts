/**
 * Crash consistency: the built CLI is SIGKILLed at seeded random instants (start-up, mid-stream, and between the
 * sink's acknowledgement and the SQLite commit), rerun to completion, then every input line is reconciled.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAepLocal } from '../../src/aep-local/index.js';
import type { AepLocal } from '../../src/aep-local/types.js';
import { BATCH_SIZE } from '../../src/sources/shared/batcher.js';
import { buildWorkload, crashCli, reconcile, runAndKill, seeded, type KillPlan, type KillRecord, type Workload } from '../helpers/crash-harness.js';
import { tempDir } from '../helpers/temp.js';
import { recordFigure } from './figures.js';

const SOAK = process.env.SOAK === '1';
const N = SOAK ? 100_000 : 20_000;
const KILLS = SOAK ? 40 : 22;
const SEED = 20240501;
/** Units (source batches) the pipeline keeps in flight = the sink's concurrency.max. */
const MAX_PENDING = 4;
/** The most events a single kill can leave acknowledged-or-stored but uncommitted. */
const IN_FLIGHT_BOUND = MAX_PENDING * BATCH_SIZE;

const root = tempDir('xdmf-crash-');

/** A seeded, shuffled mix of kill instants whose total progress stays well below N, so every kill lands mid-work. */
function killPlans(count: number, random: () => number): KillPlan[] {
  const plans: KillPlan[] = [];
  for (let i = 0; i < count; i++) {
    const kind = i % 3;
    if (kind === 0) plans.push({ kind: 'time', afterMs: Math.floor(random() * 500) });
    else if (kind === 1) plans.push({ kind: 'progress', events: 1 + Math.floor(random() * (N / (2 * count))) });
    else plans.push({ kind: 'after-ack', unit: 1 + Math.floor(random() * 3) });
  }
  for (let i = plans.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [plans[i], plans[j]] = [plans[j]!, plans[i]!];
  }
  return plans;
}

describe('crash anywhere, rerun: nothing lost, and nothing repeated beyond what the kill left uncommitted', () => {
  let aep: AepLocal;
  let workload: Workload;
  beforeAll(async () => {
    workload = buildWorkload(N, SEED);
    aep = await startAepLocal({ seed: SEED, faults: { rejectIds: (id) => workload.rejected.has(id) } });
  });
  afterAll(async () => {
    await aep?.close();
  });

  it(`survives ${KILLS} seeded SIGKILLs of sync over ${N} records and reconciles every line`, async () => {
    aep.reset();
    aep.setFaults({ rejectIds: (id) => workload.rejected.has(id) });
    const cli = crashCli(join(root, 'kills'), aep, workload.text, { concurrency: { max: MAX_PENDING, initial: 2 } });
    const random = seeded(SEED);
    const kills: KillRecord[] = [];
    const started = Date.now();
    // Spare plans: a kill that lands after its run already finished does not count, so more are drawn until KILLS land.
    for (const plan of killPlans(KILLS + 8, random)) {
      if (kills.filter((k) => k.killed).length >= KILLS) break;
      kills.push(await runAndKill(cli, aep, plan));
    }

    const final = await cli.run(['sync', '--json']);
    expect([0, 3], final.stderr).toContain(final.code);
    const again = JSON.parse((await cli.run(['sync', '--json'])).stdout) as { exitCode: number; summaries: Array<{ read: number; sent: number }> };
    expect(again.summaries[0]).toMatchObject({ read: 0, sent: 0 }); // the input is fully settled

    const killed = kills.filter((k) => k.killed);
    expect(killed.length).toBeGreaterThanOrEqual(20);
    const ackKills = killed.filter((k) => k.plan.kind === 'after-ack');
    expect(ackKills.length).toBeGreaterThanOrEqual(5);
    for (const k of kills) {
      // The commit never runs ahead of the acknowledgement: a ledger entry AEP never accepted would be a lost event.
      expect(k.ledgerNotAccepted, JSON.stringify(k.plan)).toEqual([]);
      expect(k.uncommitted.length).toBeLessThanOrEqual(IN_FLIGHT_BOUND);
    }
    // A kill between acknowledgement and commit always leaves that unit's events accepted but uncommitted.
    for (const k of ackKills) expect(k.uncommitted.length, JSON.stringify(k.plan)).toBeGreaterThan(0);

    const r = reconcile(workload, aep, cli.state);
    expect(r.lost).toEqual([]);
    expect(r.unexpected).toEqual([]);
    expect(r.extraDeadLetters).toBe(0);
    expect(r.ledgerMatchesAccepted).toBe(true);
    expect(r.deadLetters).toEqual({ decode: workload.counts.decode, map: workload.counts.map, ingest: workload.counts.reject });
    expect(r.distinctAccepted).toBe(workload.counts.accept);

    // Duplicates are exactly the events a kill left accepted-but-uncommitted (each is resent once by the rerun).
    const uncommitted = kills.flatMap((k) => k.uncommitted);
    expect(r.duplicates).toBe(uncommitted.length);
    const leftOver = new Set(uncommitted);
    for (const id of r.repeatedIds.keys()) expect(leftOver.has(id)).toBe(true);

    recordFigure('crash', {
      records: N,
      kills: killed.length,
      killsBetweenAckAndCommit: ackKills.length,
      lost: r.lost.length,
      duplicates: r.duplicates,
      maxUncommittedPerKill: Math.max(...kills.map((k) => k.uncommitted.length)),
      inFlightBound: IN_FLIGHT_BOUND,
      deadLetters: r.deadLetters,
      seconds: Math.round((Date.now() - started) / 1000),
    });
  }, SOAK ? 600_000 : 120_000);

  it('without a kill between acknowledgement and commit nothing is sent twice; with one, exactly that unit is', async () => {
    aep.reset();
    const small = buildWorkload(3000, SEED + 1, { shares: { reject: 0 } });
    const cli = crashCli(join(root, 'ack'), aep, small.text, { concurrency: { max: 1, initial: 1 } });
    // Killed right after the 2nd unit's acknowledgement: unit 1 is committed, unit 2 is in AEP but not in the ledger.
    const kill = await runAndKill(cli, aep, { kind: 'after-ack', unit: 2 });
    expect(kill.killed).toBe(true);
    const unit2 = small.records.slice(BATCH_SIZE, 2 * BATCH_SIZE).filter((r) => r.fate === 'accept').map((r) => r.id);
    expect(new Set(kill.uncommitted)).toEqual(new Set(unit2));
    expect(aep.stats().duplicates).toBe(0);

    const rerun = await cli.run(['sync']);
    expect(rerun.code, rerun.stderr).toBe(3); // the bad lines of the workload were dead-lettered
    const r = reconcile(small, aep, cli.state);
    expect(r.lost).toEqual([]);
    expect(r.duplicates).toBe(unit2.length);
    expect(new Set(r.repeatedIds.keys())).toEqual(new Set(unit2));
    expect(Math.max(...r.repeatedIds.values())).toBe(2);

    // A clean run over fresh input sends every event exactly once.
    aep.reset();
    const clean = crashCli(join(root, 'clean'), aep, small.text);
    expect((await clean.run(['sync'])).code).toBe(3);
    const c = reconcile(small, aep, clean.state);
    expect(c.lost).toEqual([]);
    expect(c.duplicates).toBe(0);
  }, 60_000);
});
