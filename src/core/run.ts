/** One run of the connector over the configured sources: builds every stage from the config, records the run. */
import type { Logger } from 'pino';
import type { Config, ConfiguredSource } from '../config/load.js';
import type { Sink, TimeWindow } from './types.js';
import { ConfigError, ExitCode, errorMessage, exitCodeFor } from '../errors.js';
import { describeSqliteError, openDb } from '../store/db.js';
import { StateStore } from '../store/state.js';
import { threadedUnitStore, type UnitStore } from '../store/unit-store.js';
import { createSource } from '../sources/index.js';
import { createSink, type SinkConfig } from '../sinks/index.js';
import { buildValidators, mapperFor, runMappingSettings } from './stages.js';
import { emptySummary, runPipeline, totalDeadLettered, type RunSummary } from './pipeline.js';
import { MapThread, type MapThreadSpec, type UnitPreparer } from './map-thread.js';
import { currentStageTimer } from './stage-timer.js';
import { lowMemoryRequested } from '../util/heap-growth.js';

/** Units mapped on the main thread before the mapping thread is started: small runs never pay its start-up. */
const MAP_THREAD_AFTER_UNITS = 4;

export interface RunOptions {
  command: string;
  log: Logger;
  /** Only these source ids (default: all configured). */
  sourceIds?: string[];
  window?: TimeWindow;
  /** Replace the configured sink (e.g. the file sink for --dry-run). */
  sinkOverride?: SinkConfig;
  /** Suffix of the checkpoint key, so a backfill keeps its own position apart from the sync's. */
  checkpointSuffix?: string;
  signal?: AbortSignal;
  limit?: number;
  onProgress?: (summary: RunSummary) => void;
}

export interface RunResult {
  runId: number;
  exitCode: ExitCode;
  summaries: RunSummary[];
  error?: string;
}

export function selectSources(config: Config, ids?: string[]): ConfiguredSource[] {
  if (!ids || ids.length === 0) return config.sources;
  return ids.map((id) => {
    const found = config.sources.find((s) => s.id === id);
    if (!found) throw new ConfigError(`--source ${id}: no such source; configured: ${config.sources.map((s) => s.id).join(', ')}`);
    return found;
  });
}

export function exitCodeOf(summaries: RunSummary[]): ExitCode {
  return summaries.some((s) => totalDeadLettered(s) > 0) ? ExitCode.deadLetters : ExitCode.ok;
}

export async function runConnector(config: Config, options: RunOptions): Promise<RunResult> {
  const db = openDb(config.state);
  const store = new StateStore(db);
  const sinkConfig = options.sinkOverride ?? config.sink;
  const runId = store.startRun(options.command, options.sourceIds?.join(',') || undefined, sinkConfig.type);
  const summaries: RunSummary[] = [];
  let sink: Sink | undefined;
  let unitStore: UnitStore | undefined;
  let mapThread: MapThread | undefined;
  try {
    const sources = selectSources(config, options.sourceIds);
    const validators = buildValidators(config);
    const mappingSettings = runMappingSettings(config, options.log);
    sink = createSink(sinkConfig, { log: options.log, ...(config.adobe ? { auth: config.adobe } : {}) });
    unitStore = await threadedUnitStore(config.state, store);
    // No mapping thread with the low-memory setting (it saves the thread's heap), nor for sinks whose verdicts take
    // minutes (batch ingestion): their pace is Adobe's, and preparing faster only keeps more events waiting.
    const mapInThread = !lowMemoryRequested() && sink.waitingInputsDir === undefined;
    mapThread = mapInThread ? mapThreadFor(config, mappingSettings, sink.name, options) : undefined;
    for (const configured of sources) {
      if (options.signal?.aborted) break;
      const mapper = mapperFor(configured, mappingSettings);
      const source = createSource(configured, { baseDir: config.baseDir });
      const sourceKey = configured.id + (options.checkpointSuffix ?? '');
      options.log.info({ source: sourceKey, sink: sink.name, runId }, 'reading source');
      const thread = mapThread;
      try {
        summaries.push(
          await runPipeline({
            runId,
            source,
            sourceKey,
            mapper,
            validators,
            sink,
            store,
            unitStore,
            ...(thread ? { movePreparation: (here: UnitPreparer) => thread.preparerFor({ source: configured, sourceKey }, here) } : {}),
            log: options.log,
            ...(options.signal ? { signal: options.signal } : {}),
            ...(options.window ? { window: options.window } : {}),
            ...(options.limit !== undefined ? { limit: options.limit } : {}),
            ...(options.onProgress ? { onProgress: options.onProgress } : {}),
          }),
        );
      } catch (error) {
        const partial = (error as { summary?: RunSummary }).summary;
        if (partial) summaries.push(partial);
        throw error;
      } finally {
        await source.close?.();
      }
    }
    const exitCode = exitCodeOf(summaries);
    store.finishRun(runId, exitCode, countersOf(summaries));
    return { runId, exitCode, summaries };
  } catch (caught) {
    const error = stateErrorOf(config.state, caught);
    const exitCode = exitCodeFor(error);
    store.finishRun(runId, exitCode, countersOf(summaries), errorMessage(error));
    return { runId, exitCode, summaries, error: errorMessage(error) };
  } finally {
    await mapThread?.close();
    await sink?.close();
    await unitStore?.close();
    db.close();
  }
}

/** The run's mapping thread, used by sources once they are past their first units. */
function mapThreadFor(config: Config, mapping: Config['mapping'], sinkName: string, options: RunOptions): MapThread {
  const timer = currentStageTimer();
  const window = options.window;
  const spec: MapThreadSpec = {
    baseDir: config.baseDir,
    mapping,
    ...(config.tenantSchema ? { tenantSchema: config.tenantSchema } : {}),
    sinkName,
    ...(window ? { window } : {}),
    timeStages: timer !== undefined,
  };
  return new MapThread(spec, {
    startAfterUnits: MAP_THREAD_AFTER_UNITS,
    onStartFailure: (error) => options.log.warn({ err: error.message }, 'the mapping thread did not start; mapping on the main thread'),
    ...(timer ? { timer } : {}),
  });
}

/**
 * A raw SQLite error ("database is locked" from a write that waited out the busy timeout, "database disk image is
 * malformed") as the StateError that names the state file and what to do; any other error unchanged.
 */
export function stateErrorOf(statePath: string, error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? describeSqliteError(statePath, error) : error;
}

export function countersOf(summaries: RunSummary[]): Record<string, number | Record<string, number>> {
  const total = emptySummary(0, '', '');
  for (const s of summaries) {
    total.read += s.read;
    total.sent += s.sent;
    total.skipped += s.skipped;
    total.alreadySent += s.alreadySent;
    for (const [k, v] of Object.entries(s.deadLettered)) total.deadLettered[k as keyof typeof total.deadLettered] += v;
    for (const [k, v] of Object.entries(s.byStatus)) total.byStatus[k] = (total.byStatus[k] ?? 0) + v;
    for (const [k, v] of Object.entries(s.byChannel)) total.byChannel[k] = (total.byChannel[k] ?? 0) + v;
    total.durationMs += s.durationMs;
  }
  return {
    read: total.read,
    sent: total.sent,
    skipped: total.skipped,
    alreadySent: total.alreadySent,
    deadLettered: totalDeadLettered(total),
    deadLetteredByStage: total.deadLettered,
    byStatus: total.byStatus,
    byChannel: total.byChannel,
    durationMs: total.durationMs,
  };
}
