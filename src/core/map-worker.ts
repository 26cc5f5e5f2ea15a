/** The mapping thread: builds the run's source decoder, mapper and validators, and prepares the units it is sent. */
import { parentPort, workerData } from 'node:worker_threads';
import { preparationOf, type MapThreadAnswer, type MapThreadRequest, type MapThreadSpec } from './map-thread.js';
import { unitPreparation } from './prepare-unit.js';
import { buildValidators, mapperFor } from './stages.js';
import { createSource } from '../sources/index.js';
import { StageTotals } from './stage-timer.js';

const spec = workerData as MapThreadSpec;
const port = parentPort!;
const mapper = mapperFor(spec.source, spec.mapping);
const window = spec.window && {
  ...(spec.window.from !== undefined ? { from: new Date(spec.window.from) } : {}),
  ...(spec.window.to !== undefined ? { to: new Date(spec.window.to) } : {}),
};
const timer = spec.timeStages ? new StageTotals() : undefined;
const prepare = unitPreparation(
  preparationOf(createSource(spec.source, { baseDir: spec.baseDir }), {
    mapper,
    validators: buildValidators(spec.tenantSchema ? { tenantSchema: spec.tenantSchema } : {}),
    ...(window ? { window } : {}),
    sourceKey: spec.sourceKey,
    sinkName: spec.sinkName,
    ...(timer ? { timer } : {}),
  }),
);

port.on('message', (request: MapThreadRequest) => {
  try {
    const answer: MapThreadAnswer =
      request.op === 'prepare'
        ? { seq: request.seq, ok: true, unit: prepare(request.inputs, request.where) }
        : { seq: request.seq, ok: true, stats: mapper.stats?.() ?? {}, ...(timer ? { stages: timer.ms } : {}) };
    port.postMessage(answer);
  } catch (error) {
    port.postMessage({ seq: request.seq, ok: false, message: error instanceof Error ? error.message : String(error) } satisfies MapThreadAnswer);
  }
});
port.postMessage({ seq: 0, ready: true } satisfies MapThreadAnswer);
