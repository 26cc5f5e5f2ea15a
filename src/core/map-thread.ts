/**
 * Where units are prepared (decode → map → validate → serialise, see prepare-unit.ts): on this thread, or on a worker
 * thread of their own. A sync spends most of the main thread's time there; on a worker it overlaps with sending,
 * acknowledgements and commits, and its garbage is collected in its own heap.
 */
import type { ConfiguredSource, MappingSettings } from '../config/load.js';
import type { Source, TimeWindow } from './types.js';
import { unitPreparation, type PrepareContext, type PreparedUnit, type UnitInput } from './prepare-unit.js';
import { compiledWorkerScript } from '../util/worker-script.js';
import { WorkerChannel, type ChannelAnswer } from '../util/worker-channel.js';
import type { StageTimer, TimedStage } from './stage-timer.js';
import { errorMessage } from '../errors.js';

export interface UnitPreparer {
  /** Prepares one unit; answers come in call order. `where[i]` prefixes the decode failure of text input i. */
  prepare(inputs: UnitInput[], where: Array<string | undefined>): Promise<PreparedUnit>;
  /** The mapper's counters over every unit prepared (see Mapper.stats). */
  mapperStats(): Promise<Record<string, number>>;
  /** Units prepared on the mapping thread so far. */
  unitsOnThread(): number;
  /**
   * How many units the run should hand over ahead of the one it sends: one keeps the state thread busy while this
   * thread prepares; the mapping thread needs a few queued to never wait.
   */
  readonly unitsAhead: number;
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
    unitsAhead: 1,
  };
}

/** Units queued for the mapping thread while the run sends: 3 kept it busy in the bench (more gained nothing). */
const UNITS_AHEAD_OF_THREAD = 3;

/** What the mapping thread builds for the whole run: the validators, and what every source shares. */
export interface MapThreadSpec {
  baseDir: string;
  mapping: MappingSettings;
  tenantSchema?: string;
  sinkName: string;
  window?: TimeWindow;
  /** Time the preparation stages (benchmarks); the totals go to MapThread's timer with each source's counters. */
  timeStages?: boolean;
}

/** What it builds per source: the decoder and the mapper. */
export interface MapThreadSource {
  source: ConfiguredSource;
  sourceKey: string;
}

type MapThreadOp =
  | { op: 'configure'; source: MapThreadSource }
  | { op: 'prepare'; inputs: UnitInput[]; where: Array<string | undefined> }
  | { op: 'stats' };
export type MapThreadRequest = MapThreadOp & { seq: number };
type MapThreadResult = { unit?: PreparedUnit; stats?: Record<string, number>; stages?: Partial<Record<TimedStage, number>> };
export type MapThreadAnswer = ChannelAnswer<MapThreadResult>;

export interface MapThreadOptions {
  /** Units of a source prepared on this thread before the source moves to the mapping thread: small sources never start it. */
  startAfterUnits: number;
  /** Called once if the thread cannot start (runs then go on, on this thread). */
  onStartFailure?: (error: Error) => void;
  /** Receives the thread's stage times (with `spec.timeStages`). */
  timer?: StageTimer;
}

/**
 * One worker thread per run that prepares units (see prepare-unit.ts). It is started when the first source reaches
 * `startAfterUnits` units (it loads the modules and compiles the schema: a few hundred milliseconds, waited for once)
 * and is told which source comes next, so a run with many sources starts it once.
 */
export class MapThread {
  private channel: WorkerChannel<MapThreadOp, MapThreadResult> | undefined;
  private started: Promise<boolean> | undefined;
  private closed = false;

  constructor(
    private readonly spec: MapThreadSpec,
    private readonly options: MapThreadOptions,
  ) {}

  /**
   * A preparer for one source: `inline` for its first units, then the thread. If the thread cannot start or be told
   * of the source, the source stays on this thread; a thread that fails after that fails the run.
   */
  preparerFor(source: MapThreadSource, inline: UnitPreparer): UnitPreparer {
    let unitsSeen = 0;
    let onThread: Promise<boolean> | undefined;
    let unitsOnThread = 0;
    const moveToThread = async (): Promise<boolean> => {
      if (!(await this.start())) return false;
      try {
        await this.call({ op: 'configure', source });
        return true;
      } catch (error) {
        return this.startFailed(error);
      }
    };
    return {
      prepare: async (inputs, where) => {
        if (++unitsSeen <= this.options.startAfterUnits) return inline.prepare(inputs, where);
        // Units asked for while the thread starts wait for it, so answers stay in order.
        onThread ??= moveToThread();
        if (!(await onThread)) return inline.prepare(inputs, where);
        unitsOnThread++;
        return (await this.call({ op: 'prepare', inputs, where })).unit!;
      },
      mapperStats: async () => {
        const here = await inline.mapperStats();
        if (!onThread || !(await onThread)) return here;
        const answer = await this.call({ op: 'stats' });
        for (const [stage, ms] of Object.entries(answer.stages ?? {})) this.options.timer?.add(stage as TimedStage, ms);
        return sumCounts(here, answer.stats ?? {});
      },
      unitsOnThread: () => unitsOnThread,
      unitsAhead: UNITS_AHEAD_OF_THREAD,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.channel?.close(new Error('the mapping worker thread was closed'));
  }

  /** Starts the thread once; resolves whether it is up. */
  private start(): Promise<boolean> {
    this.started ??= (async () => {
      const script = compiledWorkerScript(import.meta.url, 'map-worker.js', 'core');
      if (!script || this.closed) return false;
      // The thread allocates most of the run's short-lived objects. With a 32 MB young generation the bench's
      // streaming case used 18 % less CPU than with 4 MB and 12 % less than with 16 MB; 64 MB saved nothing more.
      const options = { workerData: this.spec, resourceLimits: { maxYoungGenerationSizeMb: 32 } };
      this.channel = new WorkerChannel(script, options, 'mapping worker');
      try {
        await this.channel.ready;
        return true;
      } catch (error) {
        return this.startFailed(error);
      }
    })();
    return this.started;
  }

  /** Reports why the thread could not start or take a source; the source stays on this thread. */
  private startFailed(error: unknown): false {
    this.options.onStartFailure?.(error instanceof Error ? error : new Error(errorMessage(error)));
    return false;
  }

  private call(request: MapThreadOp): Promise<MapThreadResult> {
    return this.channel!.call(request);
  }
}

function sumCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const sum = { ...a };
  for (const [k, v] of Object.entries(b)) sum[k] = (sum[k] ?? 0) + v;
  return sum;
}
