/**
 * `dlq replay`: runs the raw records of open dead letters again through the CURRENT mapping, validation and sink
 * (after a fix), via the same pipeline as a sync. `_id`s are deterministic, so events already in the ledger are
 * skipped; every replayed dead letter is marked (`replayed_at`, `replay_run_id`) and a record that fails again gets
 * a new dead-letter row of this run. Positions are the dead-letter ids, so marking follows the commits.
 */
import type { Config } from '../config/load.js';
import type { JsonObject, Source, SourceItem } from '../core/types.js';
import { runPipeline, type RunSummary } from '../core/pipeline.js';
import { countersOf, exitCodeOf, type RunOptions, type RunResult } from '../core/run.js';
import { buildValidators, mapperFor, runMappingSettings } from '../core/stages.js';
import { createSource } from '../sources/index.js';
import { createSink } from '../sinks/index.js';
import { openDb, type Db } from '../store/db.js';
import { StateStore, type DeadLetterRow } from '../store/state.js';
import { errorMessage, exitCodeFor } from '../errors.js';
import { listDeadLetters, type DeadLetterFilter } from './dlq.js';
import { jsonParseProblem } from '../sources/shared/json-lines-source.js';

/** The checkpoint stream a replay advances (its offsets are dead-letter ids); removed when the replay ends. */
export const REPLAY_STREAM = '@dlq-replay';
const PAGE = 200;

/** Decodes a dead letter's raw text without the source's help: a JSON object, or the reason it is not one. */
export function decodeRawJson(raw: string): JsonObject | string {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    return `cannot decode the raw input again: ${jsonParseProblem(error)}`;
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : 'cannot decode the raw input again: not a JSON object';
}

/** A Source that yields the given dead letters' raw inputs, decoded as `decode` says, positioned at their ids. */
export function deadLetterSource(name: string, letters: () => Iterable<DeadLetterRow[]>, decode: (raw: string) => JsonObject | string): Source {
  return {
    name,
    async *read(ctx) {
      for (const page of letters()) {
        if (ctx.signal.aborted) return;
        yield page.map((d): SourceItem => {
          const position = { stream: REPLAY_STREAM, offset: String(d.id) };
          const decoded = decode(d.raw);
          return typeof decoded === 'string'
            ? { kind: 'undecodable', raw: d.raw, reason: decoded, position }
            : { kind: 'record', record: decoded, raw: d.raw, position };
        });
      }
    },
  };
}

/** The configured source id a source key belongs to (`ovo@backfill:…` → `ovo`). */
export const configuredIdOf = (sourceKey: string) => sourceKey.split('@')[0]!;

/** Marks the given dead letters replayed by this run. */
function markReplayed(db: Db, ids: number[], runId: number): number {
  const at = new Date().toISOString();
  const update = db.prepare('UPDATE dead_letters SET replayed_at = ?, replay_run_id = ? WHERE id = ? AND replayed_at IS NULL');
  return db.transaction(() => ids.reduce((n, id) => n + update.run(at, runId, id).changes, 0))();
}

export interface ReplayOutcome {
  /** Dead letters marked replayed (sent, already in the ledger, skipped, or failed again into a new row). */
  replayed: number;
  /** Source keys whose configured source no longer exists (their dead letters stay open). */
  unknownSources: string[];
}

/**
 * Replays the open dead letters matching `filter` (a RunOptions-shaped body for `runLocked`): one run row,
 * one pipeline per source key, current mapping/validators/sink.
 */
export async function replayDeadLetters(config: Config, options: RunOptions, filter: DeadLetterFilter = {}): Promise<RunResult & ReplayOutcome> {
  const db = openDb(config.state);
  const store = new StateStore(db);
  const sinkConfig = options.sinkOverride ?? config.sink;
  const openFilter: DeadLetterFilter = { ...filter, includeReplayed: false };
  delete openFilter.limit;
  const keys = (
    db
      .prepare(`SELECT DISTINCT source FROM dead_letters WHERE replayed_at IS NULL ${filter.source ? 'AND source = ?' : ''} ORDER BY source`)
      .all(...(filter.source ? [filter.source] : [])) as Array<{ source: string }>
  ).map((r) => r.source);
  // Only what was dead-lettered before this replay began (its own failures, and a concurrent sync's, come after).
  const lastId = (db.prepare('SELECT coalesce(max(id), 0) AS id FROM dead_letters').get() as { id: number }).id;
  const runId = store.startRun(options.command, keys.join(',') || undefined, sinkConfig.type);
  const summaries: RunSummary[] = [];
  const outcome: ReplayOutcome = { replayed: 0, unknownSources: [] };
  let sink;
  try {
    const validators = buildValidators(config);
    const mappingSettings = runMappingSettings(config, options.log);
    sink = createSink(sinkConfig, { log: options.log, ...(config.adobe ? { auth: config.adobe } : {}) });
    for (const sourceKey of keys) {
      if (options.signal?.aborted) break;
      const configured = config.sources.find((s) => s.id === configuredIdOf(sourceKey));
      if (!configured) {
        outcome.unknownSources.push(sourceKey);
        options.log.warn({ source: sourceKey }, 'dead letters of a source that is no longer configured stay open');
        continue;
      }
      const mapper = mapperFor(configured, mappingSettings);
      const real = createSource(configured, { baseDir: config.baseDir });
      const decode = real.decodeRaw ? real.decodeRaw.bind(real) : decodeRawJson;
      await real.close?.();
      let limitLeft = filter.limit !== undefined && filter.limit >= 0 ? filter.limit : Infinity;
      // Ids handed to the pipeline and not yet known to be committed, in order.
      let yielded: number[] = [];
      db.prepare('DELETE FROM checkpoints WHERE source = ? AND stream = ?').run(sourceKey, REPLAY_STREAM);
      const pages = function* (): Iterable<DeadLetterRow[]> {
        let after = 0;
        while (limitLeft > 0) {
          const page = listDeadLetters(db, { ...openFilter, source: sourceKey, limit: Math.min(PAGE, limitLeft) }, after).filter((d) => d.id <= lastId);
          if (page.length === 0) return;
          limitLeft -= page.length;
          after = page.at(-1)!.id;
          yielded.push(...page.map((d) => d.id));
          yield page;
        }
      };
      const markCommitted = () => {
        const at = store.checkpoint(sourceKey, REPLAY_STREAM);
        if (at === undefined) return;
        const done = yielded.filter((id) => id <= Number(at));
        yielded = yielded.filter((id) => id > Number(at));
        outcome.replayed += markReplayed(db, done, runId);
      };
      try {
        summaries.push(
          await runPipeline({
            runId,
            source: deadLetterSource(real.name, pages, decode),
            sourceKey,
            mapper,
            validators,
            sink,
            store,
            log: options.log,
            ...(options.signal ? { signal: options.signal } : {}),
            onProgress: (summary) => {
              markCommitted();
              options.onProgress?.(summary);
            },
          }),
        );
      } catch (error) {
        const partial = (error as { summary?: RunSummary }).summary;
        if (partial) summaries.push(partial);
        throw error;
      } finally {
        markCommitted();
        db.prepare('DELETE FROM checkpoints WHERE source = ? AND stream = ?').run(sourceKey, REPLAY_STREAM);
      }
    }
    const exitCode = exitCodeOf(summaries);
    store.finishRun(runId, exitCode, { ...countersOf(summaries), replayed: outcome.replayed });
    return { runId, exitCode, summaries, ...outcome };
  } catch (error) {
    const exitCode = exitCodeFor(error);
    store.finishRun(runId, exitCode, { ...countersOf(summaries), replayed: outcome.replayed }, errorMessage(error));
    return { runId, exitCode, summaries, error: errorMessage(error), ...outcome };
  } finally {
    await sink?.close();
    db.close();
  }
}
