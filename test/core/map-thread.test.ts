import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { buildConfig, type Config } from '../../src/config/load.js';
import { inlinePreparer, MapThread, preparationOf, type MapThreadSpec } from '../../src/core/map-thread.js';
import { preparedEvent, unitPreparation, type PreparedUnit, type UnitInput } from '../../src/core/prepare-unit.js';
import { RETRY_PLACEHOLDER_LENGTH } from '../../src/core/json-bytes.js';
import { runConnector } from '../../src/core/run.js';
import { buildValidators, mapperFor } from '../../src/core/stages.js';
import { createSource } from '../../src/sources/index.js';
import { silentLogger } from '../../src/log.js';
import { openDb } from '../../src/store/db.js';
import { generateInputs } from '../../bench/generate.js';
import { tempDir } from '../helpers/temp.js';
import { LOW_MEMORY_NODE_OPTIONS } from '../../src/util/heap-growth.js';

const dir = tempDir('xdmf-map-thread-');
const sample = readFileSync('examples/data/ovo-feedback.ndjson', 'utf8').split('\n').filter(Boolean);

function ovoConfig(state = join(dir, 'state.db')): Config {
  return buildConfig({ state, sources: [{ type: 'ovo-feedback', files: ['examples/data/ovo-feedback.ndjson'] }], sink: { type: 'file', path: join(dir, 'out.ndjson') } }, { baseDir: process.cwd() });
}

function preparationFor(config: Config) {
  const configured = config.sources[0]!;
  return {
    configured,
    ctx: preparationOf(createSource(configured, { baseDir: config.baseDir }), {
      mapper: mapperFor(configured, config.mapping),
      validators: buildValidators(config),
      sourceKey: configured.id,
      sinkName: 'file',
    }),
  };
}

/** The JSON texts of a prepared unit's events, with retryCount n written in. */
function eventTexts(unit: PreparedUnit, n: number): string[] {
  const bytes = new Uint8Array(unit.events.bytes);
  return unit.events.id.map((_, k) => preparedEvent(unit.events, bytes, k, n).toString());
}

/** A prepared unit with retryCount n written into every event: comparable across threads (the placeholders differ). */
function settled(unit: PreparedUnit, n: number) {
  const { bytes, ends, retryAt, ...columns } = unit.events;
  return { ...unit, events: { ...columns, json: eventTexts(unit, n).map((text) => JSON.parse(text) as unknown) } };
}

describe('unit preparation', () => {
  it('serialises outcome events with one placeholder where retryCount goes, and tracking events without', () => {
    const prepare = unitPreparation(preparationFor(ovoConfig()).ctx);
    const unit = prepare(sample, sample.map((_, i) => `line ${i + 1}`));
    expect(unit.events.id.length).toBeGreaterThan(10);
    let outcomes = 0;
    const bytes = Buffer.from(unit.events.bytes);
    eventTexts(unit, 42).forEach((json, i) => {
      const at = unit.events.retryAt[i]!;
      const event = JSON.parse(json) as { _experience: { customerJourneyManagement: { messageDeliveryfeedback?: { retryCount: number } } } };
      const feedback = event._experience.customerJourneyManagement.messageDeliveryfeedback;
      if (at < 0) return expect(feedback).toBeUndefined();
      outcomes++;
      const placeholder = bytes.subarray(at, at + RETRY_PLACEHOLDER_LENGTH);
      expect(placeholder.toString('latin1')).toMatch(/^"rc[0-9a-f]{32}"$/);
      // Once in its event: the event's own placeholder is the first match after the event's start.
      const start = i === 0 ? 0 : unit.events.ends[i - 1]!;
      expect(bytes.indexOf(placeholder, start)).toBe(at);
      expect(bytes.subarray(0, unit.events.ends[i]!).indexOf(placeholder, at + 1)).toBe(-1);
      expect(feedback!.retryCount).toBe(42);
    });
    expect(outcomes).toBeGreaterThan(0);
    // The sample's malformed lines are decode dead letters, named by the line they were on.
    const malformed = sample.flatMap((line, i) => {
      try {
        JSON.parse(line);
        return [];
      } catch {
        return [i];
      }
    });
    expect(malformed.length).toBeGreaterThan(0);
    const decodeFailures = unit.deadLetters.filter((d) => d.stage === 'decode');
    expect(decodeFailures.map((d) => d.item)).toEqual(expect.arrayContaining(malformed));
    for (const d of decodeFailures) expect(d.reason).toMatch(new RegExp(`^line ${d.item + 1}: `));
    // Each event's enrichment request is its own.
    const requests = JSON.parse(unit.requests) as Array<{ id?: string }>;
    unit.events.id.forEach((id, i) => expect(requests[unit.events.request[i]!]!.id).toBe(id));
  });
});

describe('the mapping thread', () => {
  it('prepares units exactly as this thread does, in order, once the run is past its first units', async () => {
    const config = ovoConfig();
    const { configured, ctx } = preparationFor(config);
    const spec: MapThreadSpec = { baseDir: config.baseDir, mapping: config.mapping, sinkName: 'file' };
    const thread = new MapThread(spec, { startAfterUnits: 1 });
    const threaded = thread.preparerFor({ source: configured, sourceKey: configured.id }, inlinePreparer(preparationFor(config).ctx));
    const reference = unitPreparation(ctx);
    const where = sample.map((_, i) => `line ${i + 1}`);
    // Inputs of every kind: texts to decode, records the source decoded, and undecodable items (null).
    const records: UnitInput[] = sample.map((line) => {
      try {
        return JSON.parse(line) as UnitInput;
      } catch {
        return null;
      }
    });
    try {
      const first = await threaded.prepare(sample, where);
      expect(threaded.unitsOnThread()).toBe(0);
      expect(settled(first, 3)).toEqual(settled(reference(sample, where), 3));
      // The next units start the thread, wait for it, and are prepared there.
      const [a, b] = await Promise.all([threaded.prepare(records, where), threaded.prepare(sample.slice(5), where.slice(5))]);
      expect(threaded.unitsOnThread()).toBe(2);
      expect(settled(a, 0)).toEqual(settled(reference(records, where), 0));
      expect(settled(b, 7)).toEqual(settled(reference(sample.slice(5), where.slice(5)), 7));
      // Counters of both threads add up: the reference mapper saw every unit once, as the two preparers together did.
      expect(await threaded.mapperStats()).toEqual(ctx.mapper.stats?.() ?? {});
      // A second source of the same run moves to the same thread at once, with its own mapper and counters.
      const v2 = buildConfig({ state: join(dir, 'v2.db'), sources: [{ type: 'ovo-v2', files: ['examples/data/ovo-v2.ndjson'] }], sink: { type: 'file', path: join(dir, 'v2.ndjson') } }, { baseDir: process.cwd() });
      const second = preparationFor(v2);
      const v2Lines = readFileSync('examples/data/ovo-v2.ndjson', 'utf8').split('\n').filter(Boolean);
      const secondThreaded = thread.preparerFor({ source: second.configured, sourceKey: second.configured.id }, inlinePreparer(preparationFor(v2).ctx));
      await secondThreaded.prepare(v2Lines, []); // its first unit: on this thread
      const c = await secondThreaded.prepare(v2Lines, []);
      expect(secondThreaded.unitsOnThread()).toBe(1);
      const v2Reference = unitPreparation(second.ctx);
      v2Reference(v2Lines, []);
      expect(settled(c, 1)).toEqual(settled(v2Reference(v2Lines, []), 1));
      expect(c.events.id.length).toBeGreaterThan(0);
      expect(await secondThreaded.mapperStats()).toEqual(second.ctx.mapper.stats?.() ?? {});
    } finally {
      await thread.close();
    }
    await expect(threaded.prepare(sample, where)).rejects.toThrow(/closed/);
  });

  it("applies the run's time window on the thread as on this thread", async () => {
    const config = ovoConfig();
    const { configured } = preparationFor(config);
    const unwindowed = unitPreparation(preparationFor(config).ctx)(sample, []);
    const times = eventTexts(unwindowed, 0).map((json) => Date.parse((JSON.parse(json) as { timestamp: string }).timestamp)).sort((a, b) => a - b);
    const window = { from: new Date(times[Math.floor(times.length / 3)]!), to: new Date(times[Math.floor((2 * times.length) / 3)]!) };
    const thread = new MapThread({ baseDir: config.baseDir, mapping: config.mapping, sinkName: 'file', window }, { startAfterUnits: 0 });
    const reference = unitPreparation({ ...preparationFor(config).ctx, window });
    const threaded = thread.preparerFor({ source: configured, sourceKey: configured.id }, inlinePreparer({ ...preparationFor(config).ctx, window }));
    try {
      const unit = await threaded.prepare(sample, []);
      expect(threaded.unitsOnThread()).toBe(1);
      const expected = reference(sample, []);
      expect(settled(unit, 0)).toEqual(settled(expected, 0));
      expect(expected.skipped.filter((r) => r === 'outside the time window').length).toBeGreaterThan(0);
      expect(expected.events.id.length).toBeGreaterThan(0);
    } finally {
      await thread.close();
    }
  });

  it('keeps a source on this thread when the thread cannot take it', async () => {
    const config = ovoConfig();
    const { configured } = preparationFor(config);
    const failures: Error[] = [];
    const spec: MapThreadSpec = { baseDir: config.baseDir, mapping: config.mapping, sinkName: 'file' };
    const thread = new MapThread(spec, { startAfterUnits: 0, onStartFailure: (e) => failures.push(e) });
    const threaded = thread.preparerFor({ source: { ...configured, mapping: join(dir, 'no-such-mapping.json') }, sourceKey: 'ovo' }, inlinePreparer(preparationFor(config).ctx));
    try {
      await threaded.prepare(sample, []);
      const unit = await threaded.prepare(sample, []);
      expect(unit.events.id.length).toBeGreaterThan(0);
      expect(threaded.unitsOnThread()).toBe(0);
      expect(failures).toHaveLength(1);
      expect(failures[0]!.message).toMatch(/no-such-mapping\.json/);
    } finally {
      await thread.close();
    }
  });
});

describe('a sync on the mapping thread', () => {
  it('sends, skips and dead-letters exactly what a sync on the main thread does', async () => {
    const inputs = generateInputs(join(dir, 'inputs'), 24_000, 5);
    const run = async (name: string, lowMemory: boolean) => {
      const lines: string[] = [];
      const log = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
      const config = buildConfig(
        {
          state: join(dir, `${name}.db`),
          sources: inputs.map((input) => ({ type: input.source, files: [input.path] })),
          sink: { type: 'file', path: join(dir, `${name}.ndjson`) },
        },
        { baseDir: dir },
      );
      const saved = process.env.NODE_OPTIONS;
      if (lowMemory) process.env.NODE_OPTIONS = LOW_MEMORY_NODE_OPTIONS.join(' ');
      try {
        const result = await runConnector(config, { command: 'sync', log });
        expect(result.error).toBeUndefined();
        const onThread = lines.map((l) => JSON.parse(l) as { unitsOnMappingThread?: number }).reduce((n, l) => n + (l.unitsOnMappingThread ?? 0), 0);
        const db = openDb(config.state);
        const ledger = db.prepare('SELECT id, event_time, event_type, status, channel, failure_type, failure_category, failure_code, exclusion_code, retry_count FROM ledger ORDER BY id').all();
        const deadLetters = db.prepare('SELECT source, stage, raw, reason, event_id FROM dead_letters ORDER BY source, stream, position, stage').all();
        db.close();
        const summaries = result.summaries.map(({ durationMs: _d, sinkStats: _s, runId: _r, ...rest }) => rest);
        return { onThread, ledger, deadLetters, summaries, out: readFileSync(join(dir, `${name}.ndjson`), 'utf8') };
      } finally {
        if (saved === undefined) delete process.env.NODE_OPTIONS;
        else process.env.NODE_OPTIONS = saved;
      }
    };
    const main = await run('main', true);
    const threaded = await run('threaded', false);
    expect(main.onThread).toBe(0);
    expect(threaded.onThread).toBeGreaterThan(0);
    expect(threaded.summaries).toEqual(main.summaries);
    expect(threaded.ledger).toEqual(main.ledger);
    expect(threaded.deadLetters).toEqual(main.deadLetters);
    expect(threaded.out).toBe(main.out);
    expect(main.summaries.reduce((n, s) => n + s.sent, 0)).toBeGreaterThan(15_000);
  }, 120_000);
});

describe('a sync whose mapping thread dies', () => {
  it('fails with a readable error after committing what was acknowledged; the rerun sends the rest, none twice', async () => {
    const inputs = generateInputs(join(dir, 'crash-inputs'), 12_000, 9).filter((i) => i.source === 'ovo-feedback');
    const configFor = (name: string) =>
      buildConfig(
        { state: join(dir, `${name}.db`), sources: inputs.map((i) => ({ type: i.source, files: [i.path] })), sink: { type: 'file', path: join(dir, `${name}.ndjson`) } },
        { baseDir: dir },
      );
    const idsOf = (file: string) => readFileSync(join(dir, file), 'utf8').split('\n').filter(Boolean).map((l) => {
        const line = JSON.parse(l) as { _id?: string; xdmEntity?: { _id: string } };
        return line.xdmEntity?._id ?? line._id!;
      });
    const reference = await runConnector(configFor('uncrashed'), { command: 'sync', log: silentLogger });
    expect(reference.error).toBeUndefined();

    process.env.XDM_FEEDBACK_MAP_THREAD_EXIT_AFTER = '2';
    let crashed;
    try {
      crashed = await runConnector(configFor('crashed'), { command: 'sync', log: silentLogger });
    } finally {
      delete process.env.XDM_FEEDBACK_MAP_THREAD_EXIT_AFTER;
    }
    expect(crashed.error).toMatch(/mapping worker thread stopped \(exit code 70\)/);
    expect(crashed.exitCode).not.toBe(0);
    const before = idsOf('crashed.ndjson');
    expect(before.length).toBeGreaterThan(0);
    expect(before.length).toBeLessThan(reference.summaries[0]!.sent);

    const rerun = await runConnector(configFor('crashed'), { command: 'sync', log: silentLogger });
    expect(rerun.error).toBeUndefined();
    const after = idsOf('crashed.ndjson');
    expect(new Set(after).size).toBe(after.length);
    expect(new Set(after)).toEqual(new Set(idsOf('uncrashed.ndjson')));
  }, 60_000);
});

