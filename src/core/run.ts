/** One run of the connector over the configured sources: builds every stage from the config, records the run. */
import type { Logger } from 'pino';
import type { Config, ConfiguredSource } from '../config/load.js';
import type { EventValidator, Mapper, Sink, TimeWindow } from './types.js';
import { ConfigError, ExitCode, errorMessage, exitCodeFor } from '../errors.js';
import { mappingSettingsFor, readTenantSchema } from '../schema-pull/tenant-schema.js';
import { describeSqliteError, openDb } from '../store/db.js';
import { StateStore } from '../store/state.js';
import { threadedUnitStore, type UnitStore } from '../store/unit-store.js';
import { createSource } from '../sources/index.js';
import { createSink, type SinkConfig } from '../sinks/index.js';
import { loadMapping } from '../mapping/index.js';
import { createValidator } from '../validate/index.js';
import { emptySummary, runPipeline, totalDeadLettered, type RunSummary } from './pipeline.js';

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

/**
 * The validators every event must pass: the bundled XDM schema, or — when a tenant schema was pulled — the tenant's
 * schema alone. It holds the CJM field groups too, and the bundled schema is closed, so it would refuse the tenant's
 * own `_<tenant>` fields and accept enum values (e.g. `delivered`) the tenant's dataset refuses.
 */
export function buildValidators(config: Pick<Config, 'tenantSchema'>): EventValidator[] {
  if (!config.tenantSchema) return [createValidator()];
  return [createValidator({ schema: readTenantSchema(config.tenantSchema).schema })];
}

/** The mapping settings of a run: `deliveredAs` becomes `sent` (logged) when the tenant schema lacks `delivered`. */
export function runMappingSettings(config: Pick<Config, 'tenantSchema' | 'mapping'>, log?: Logger): Config['mapping'] {
  return mappingSettingsFor(config.mapping, config.tenantSchema ? readTenantSchema(config.tenantSchema) : undefined, log);
}

/** The mapper of one configured source, with the run's mapping settings (see runMappingSettings). */
export function mapperFor(configured: ConfiguredSource, settings: Config['mapping']): Mapper {
  return loadMapping(configured.mapping, { source: sourceNameOf(configured), ...settings });
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
  try {
    const sources = selectSources(config, options.sourceIds);
    const validators = buildValidators(config);
    const mappingSettings = runMappingSettings(config, options.log);
    sink = createSink(sinkConfig, { log: options.log, ...(config.adobe ? { auth: config.adobe } : {}) });
    unitStore = await threadedUnitStore(config.state, store);
    for (const configured of sources) {
      if (options.signal?.aborted) break;
      const mapper = mapperFor(configured, mappingSettings);
      const source = createSource(configured, { baseDir: config.baseDir });
      const sourceKey = configured.id + (options.checkpointSuffix ?? '');
      options.log.info({ source: sourceKey, sink: sink.name, runId }, 'reading source');
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
    await sink?.close();
    await unitStore?.close();
    db.close();
  }
}

/**
 * A raw SQLite error ("database is locked" from a write that waited out the busy timeout, "database disk image is
 * malformed") as the StateError that names the state file and what to do; any other error unchanged.
 */
export function stateErrorOf(statePath: string, error: unknown): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? describeSqliteError(statePath, error) : error;
}

/** The platform name used in `_id`s: the source type, or an ndjson feed's own name. */
export function sourceNameOf(configured: ConfiguredSource): string {
  const named = (configured as { name?: unknown }).name;
  return configured.type === 'ndjson' && typeof named === 'string' ? named : configured.type;
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
