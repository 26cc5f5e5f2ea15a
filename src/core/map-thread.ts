/**
 * Where units are prepared (decode → map → validate → serialise, see prepare-unit.ts): on this thread, or on a worker
 * thread of their own. A sync spends most of the main thread's time there; on a worker it overlaps with sending,
 * acknowledgements and commits, and its garbage is collected in its own heap.
 */
import { Worker } from 'node:worker_threads';
import type { ConfiguredSource, MappingSettings } from '../config/load.js';
import type { Source } from './types.js';
import { unitPreparation, type PrepareContext, type PreparedUnit, type UnitInput } from './prepare-unit.js';
import { compiledWorkerScript } from '../util/worker-script.js';
import type { StageTimer, TimedStage } from './stage-timer.js';

export interface UnitPreparer {
  /** Prepares one unit; answers come in call order. `where[i]` prefixes the decode failure of text input i. */
  prepare(inputs: UnitInput[], where: Array<string | undefined>): Promise<PreparedUnit>;
  /** The mapper's counters over every unit prepared (see Mapper.stats). */
  mapperStats(): Promise<Record<string, number>>;
  /** Units prepared on the mapping thread so far. */
  unitsOnThread(): number;
  close(): Promise<void>;
}

/** The preparation context of a run's source: decoded with its decodeRaw, mapped with its mapper. */
export function preparationOf(source: Source, rest: Omit<PrepareContext, 'decode'>): PrepareContext {
  return { ...rest, ...(source.decodeRaw ? { decode: source.decodeRaw.bind(source) } : {}) };
}

/** Prepares units on the calling thread. */
export function inlinePreparer(ctx: PrepareContext): UnitPreparer {
  const prepare = unitPreparation(ctx);
  return {
    prepare: async (inputs, where) => prepare(inputs, where),
    mapperStats: async () => ctx.mapper.stats?.() ?? {},
    unitsOnThread: () => 0,
    close: async () => undefined,
  };
}

/** What the mapping thread builds its stages from: the same configuration the run was built from. */
export interface MapThreadSpec {
  source: ConfiguredSource;
  baseDir: string;
  mapping: MappingSettings;
  tenantSchema?: string;
  sourceKey: string;
  sinkName: string;
  /** The run's time window, in epoch milliseconds. */
  window?: { from?: number; to?: number };
  /** Time the preparation stages (benchmarks); the totals are reported to ThreadedPreparerOptions.timer at the end. */
  timeStages?: boolean;
}

type MapThreadOp = { op: 'prepare'; inputs: UnitInput[]; where: Array<string | undefined> } | { op: 'stats' };
export type MapThreadRequest = MapThreadOp & { seq: number };
type MapThreadResult = { seq: number; ok: true; unit?: PreparedUnit; stats?: Record<string, number>; stages?: Partial<Record<TimedStage, number>> };
export type MapThreadAnswer = MapThreadResult | { seq: number; ok: false; message: string } | { seq: 0; ready: true };

export interface ThreadedPreparerOptions {
  /** Units prepared on this thread before the worker is started: small runs never pay its start-up. */
  startAfterUnits: number;
  /** Called once if the worker cannot start (the run then goes on, on this thread). */
  onStartFailure?: (error: Error) => void;
  /** Receives the mapping thread's stage times when its counters are asked for (with `spec.timeStages`). */
  timer?: StageTimer;
}

/**
 * Prepares units on a worker thread, started after `startAfterUnits` units were prepared on this thread by `inline`.
 * The next unit waits for it to be up (it loads the mapping and compiles the schema); from then on every unit goes
 * to it, answered in order. If it cannot start, units stay on this thread; a worker that fails later fails the run.
 */
export function threadedPreparer(spec: MapThreadSpec, inline: UnitPreparer, options: ThreadedPreparerOptions): UnitPreparer {
  const script = compiledWorkerScript(import.meta.url, 'map-worker.js', 'core');
  if (!script) return inline;
  let announceReady: (ready: boolean) => void = () => undefined;
  const threadReady = new Promise<boolean>((resolve) => (announceReady = resolve));
  let unitsSeen = 0;
  let worker: Worker | undefined;
  let usedWorker = false;
  let unitsOnThread = 0;
  let failure: Error | undefined;
  let seq = 0;
  const waiting = new Map<number, { resolve: (answer: MapThreadResult) => void; reject: (error: Error) => void }>();

  const failAll = (error: Error) => {
    failure ??= error;
    for (const w of waiting.values()) w.reject(error);
    waiting.clear();
  };

  const start = () => {
    // The thread allocates most of the run's short-lived objects. With a 32 MB young generation the bench's streaming
    // case used 18 % less CPU than with 4 MB and 12 % less than with 16 MB; 64 MB saved nothing more (bench/README.md).
    const started = new Worker(script, { workerData: spec, resourceLimits: { maxYoungGenerationSizeMb: 32 } });
    worker = started;
    started.unref();
    started.on('message', (answer: MapThreadAnswer) => {
      if ('ready' in answer) {
        announceReady(true);
        return;
      }
      const w = waiting.get(answer.seq);
      if (!w) return;
      waiting.delete(answer.seq);
      if (waiting.size === 0) started.unref();
      if (answer.ok) w.resolve(answer);
      else w.reject(new Error(answer.message));
    });
    started.on('error', (error: unknown) => {
      const err = error instanceof Error ? error : new Error(String(error));
      if (!usedWorker) {
        worker = undefined; // not started: carry on here
        failure = err;
        announceReady(false);
        options.onStartFailure?.(err);
      } else failAll(err);
    });
    started.on('exit', (code) => {
      if (usedWorker) failAll(new Error(`the mapping worker thread stopped (exit code ${code})`));
      else {
        worker = undefined;
        failure ??= new Error(`the mapping worker thread stopped before it was ready (exit code ${code})`);
      }
      announceReady(false);
    });
  };

  const call = (request: MapThreadOp) => {
    if (failure) return Promise.reject(failure);
    const message: MapThreadRequest = { ...request, seq: ++seq };
    return new Promise<MapThreadResult>((resolve, reject) => {
      waiting.set(message.seq, { resolve, reject });
      worker!.ref(); // a request in flight keeps the process alive until it is answered
      worker!.postMessage(message);
    });
  };

  return {
    async prepare(inputs, where) {
      if (!usedWorker) {
        if (++unitsSeen <= options.startAfterUnits || failure) return inline.prepare(inputs, where);
        if (!worker) start();
        // The first unit waits for the thread to start (a few hundred milliseconds, once per large run).
        if (!(await threadReady)) return inline.prepare(inputs, where);
        usedWorker = true;
      }
      unitsOnThread++;
      return (await call({ op: 'prepare', inputs, where })).unit!;
    },
    async mapperStats() {
      const here = await inline.mapperStats();
      if (!usedWorker) return here;
      const answer = await call({ op: 'stats' });
      for (const [stage, ms] of Object.entries(answer.stages ?? {})) options.timer?.add(stage as TimedStage, ms);
      return sumCounts(here, answer.stats ?? {});
    },
    unitsOnThread: () => unitsOnThread,
    async close() {
      failure ??= new Error('the mapping worker thread was closed');
      announceReady(false);
      await worker?.terminate();
      await inline.close();
    },
  };
}

function sumCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const sum = { ...a };
  for (const [k, v] of Object.entries(b)) sum[k] = (sum[k] ?? 0) + v;
  return sum;
}

