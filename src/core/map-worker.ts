/**
 * The mapping thread: builds the run's validators once and, for each source it is told of, the source's decoder and
 * mapper; prepares the units it is sent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { preparationOf, type MapThreadAnswer, type MapThreadRequest, type MapThreadSource, type MapThreadSpec } from './map-thread.js';
import { unitPreparation, type PreparedUnit, type UnitInput } from './prepare-unit.js';
import { buildValidators, mapperFor } from './stages.js';
import type { Mapper } from './types.js';
import { createSource } from '../sources/index.js';
import { StageTotals } from './stage-timer.js';
import { errorMessage } from '../errors.js';

const spec = workerData as MapThreadSpec;
const port = parentPort!;
const validators = buildValidators(spec.tenantSchema ? { tenantSchema: spec.tenantSchema } : {});
const window = spec.window; // its Dates survive the structured clone
let timer = spec.timeStages ? new StageTotals() : undefined;
let current: { mapper: Mapper; prepare: (inputs: UnitInput[], where: Array<string | undefined>) => PreparedUnit } | undefined;

function configure({ source: configured, sourceKey }: MapThreadSource): void {
  const mapper = mapperFor(configured, spec.mapping);
  const source = createSource(configured, { baseDir: spec.baseDir });
  const prepare = unitPreparation(
    preparationOf(source, {
      mapper,
      validators,
      sourceKey,
      sinkName: spec.sinkName,
      ...(window ? { window } : {}),
      ...(timer ? { timer } : {}),
    }),
  );
  current = { mapper, prepare };
}

/**
 * Test hook (test/core/map-thread.test.ts): `XDM_FEEDBACK_MAP_THREAD_EXIT_AFTER=<n>` ends the thread after its n-th
 * unit, as a crash would. Unset (always, outside tests) it does nothing.
 */
const exitAfterUnits = Number(process.env.XDM_FEEDBACK_MAP_THREAD_EXIT_AFTER);
let unitsPrepared = 0;

function answer(request: MapThreadRequest): MapThreadAnswer {
  const { seq } = request;
  if (request.op === 'configure') {
    configure(request.source);
    return { seq, ok: true };
  }
  if (!current) throw new Error('the mapping thread was not told which source it prepares');
  if (request.op === 'prepare') {
    if (Number.isInteger(exitAfterUnits) && exitAfterUnits > 0 && ++unitsPrepared > exitAfterUnits) process.exit(70);
    return { seq, ok: true, unit: current.prepare(request.inputs, request.where) };
  }
  // A source's counters and stage times, reported once at its end.
  const stages = timer?.ms;
  if (timer) timer = new StageTotals();
  return { seq, ok: true, stats: current.mapper.stats?.() ?? {}, ...(stages ? { stages } : {}) };
}

port.on('message', (request: MapThreadRequest) => {
  try {
    const reply = answer(request);
    // A unit's event bytes move to the main thread without a copy.
    port.postMessage(reply, 'unit' in reply && reply.unit ? [reply.unit.events.bytes] : []);
  } catch (error) {
    port.postMessage({ seq: request.seq, ok: false, message: errorMessage(error) } satisfies MapThreadAnswer);
  }
});
port.postMessage({ seq: 0, ready: true } satisfies MapThreadAnswer);
