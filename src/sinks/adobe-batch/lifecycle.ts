/**
 * The life of one dataset's Adobe batch: create → upload part files (PUT, or chunked) → COMPLETE → poll Catalog →
 * read failed records (Data Access) → outcome. Every step is saved in `group.json`, so a rerun resumes the same batch.
 */
import type { Logger } from 'pino';
import type { Delivery } from '../../core/types.js';
import { FatalError, errorMessage } from '../../errors.js';
import { redact } from '../../redact.js';
import type { SinkClock } from '../adobe-streaming/sink.js';
import type { BatchApi, CatalogBatch } from './client.js';
import { GaveUpError } from './platform.js';
import type { ResolvedBatchConfig } from './config.js';
import { idOfLine, partPath, type DatasetOutcome, type DatasetPart, type GroupState, type StagedFile } from './staging.js';

/** Catalog statuses after which nothing changes any more. */
const SUCCESS = new Set(['success', 'active']);
const FAILED = new Set(['failed', 'failure', 'inactive', 'deleted']);
/** Nothing was ingested and nothing will be: the batch can be replaced by a new one. */
const DEAD = new Set(['abandoned', 'aborted']);

export interface LifecycleContext {
  api: BatchApi;
  config: ResolvedBatchConfig;
  clock: SinkClock;
  log: Logger;
  groupDir: string;
  group: GroupState;
  /** Persists `group` (after every step). */
  save(): void;
  signal: AbortSignal;
}

/** Drives one dataset's batch to its outcome. Throws (leaving the state for the next run) when it cannot know the outcome. */
export async function runDatasetBatch(ctx: LifecycleContext, part: DatasetPart): Promise<DatasetOutcome> {
  if (part.outcome) return part.outcome;
  const { api, signal } = ctx;
  if (part.batchId) {
    const seen = await api.catalogBatch(part.batchId, signal);
    const status = seen?.status.toLowerCase();
    if (seen === undefined || DEAD.has(status!)) {
      ctx.log.info({ batchId: part.batchId, status: status ?? 'unknown to Catalog' }, 'the earlier batch was never ingested; staging the files in a new batch');
      resetPart(part);
      ctx.save();
    } else if (status !== 'loading') {
      return finish(ctx, part, part.batchId);
    }
  }
  if (!part.batchId) {
    try {
      part.batchId = await api.createBatch(part.datasetId, ctx.config.partialIngestionPercent, `${ctx.group.id}-${part.datasetId}`, signal);
    } catch (error) {
      if (error instanceof GaveUpError) return settle(ctx, part, failedOutcome('', `could not create a batch: ${error.message}`));
      throw error;
    }
    ctx.save();
    ctx.log.info({ batchId: part.batchId, datasetId: part.datasetId, records: part.records, files: part.files.length }, 'batch created');
  }
  const batchId = part.batchId;
  try {
    for (const file of part.files) {
      if (file.uploaded) continue;
      await upload(ctx, batchId, part, file);
      file.uploaded = true;
      ctx.save();
    }
  } catch (error) {
    if (!(error instanceof GaveUpError)) throw error;
    await api.batchAction(batchId, 'ABORT', signal).catch(() => undefined);
    return settle(ctx, part, failedOutcome(batchId, `could not upload the files: ${error.message}`));
  }
  const done = await api.batchAction(batchId, 'COMPLETE', signal);
  if (done.status < 200 || done.status >= 300) {
    // COMPLETE is safe to repeat; a refusal after a lost answer means the batch is already past loading.
    const seen = await api.catalogBatch(batchId, signal);
    if (!seen || seen.status.toLowerCase() === 'loading') {
      throw new FatalError(`Adobe answered ${done.status} to complete batch ${batchId}: ${redact(done.text.slice(0, 300)) || 'no message'}`);
    }
  }
  part.completeSent = true;
  ctx.save();
  return finish(ctx, part, batchId);
}

function resetPart(part: DatasetPart): void {
  delete part.batchId;
  delete part.completeSent;
  for (const file of part.files) delete file.uploaded;
}

/**
 * Uploads one part file: one PUT up to `maxPutBytes`, else INITIALIZE, PATCH chunks (resuming after what Adobe
 * holds), COMPLETE. Bodies are streamed from the file, never read whole into memory.
 */
async function upload(ctx: LifecycleContext, batchId: string, part: DatasetPart, file: StagedFile): Promise<void> {
  const { api, signal, config } = ctx;
  const path = partPath(ctx.groupDir, part.datasetId, file.name);
  if (file.bytes <= config.maxPutBytes) {
    await api.putFile(batchId, part.datasetId, file.name, { kind: 'file', path, length: file.bytes }, signal);
    return;
  }
  let from = (await api.largeFileReceived(batchId, part.datasetId, file.name, signal)) ?? 0;
  if (from === 0) await api.initializeLargeFile(batchId, part.datasetId, file.name, signal);
  while (from < file.bytes) {
    const length = Math.min(config.chunkBytes, file.bytes - from);
    await api.patchChunk(batchId, part.datasetId, file.name, { kind: 'file', path, start: from, length }, signal);
    from += length;
  }
  await api.completeLargeFile(batchId, part.datasetId, file.name, signal);
}

/** Polls Catalog until the batch is final, then reads its outcome. */
async function finish(ctx: LifecycleContext, part: DatasetPart, batchId: string): Promise<DatasetOutcome> {
  const { api, signal, config, clock } = ctx;
  const started = clock.now();
  let delay = config.pollIntervalMs;
  for (;;) {
    const seen = await api.catalogBatch(batchId, signal);
    if (!seen) throw new FatalError(`Catalog does not know batch ${batchId} although it was completed; the next run checks it again`);
    const status = seen.status.toLowerCase();
    if (SUCCESS.has(status) || FAILED.has(status) || DEAD.has(status)) return settle(ctx, part, await outcomeOf(ctx, batchId, seen));
    if (clock.now() - started + delay > config.pollTimeoutMs) {
      throw new FatalError(
        `batch ${batchId} is still ${status} in Catalog after ${Math.round((clock.now() - started) / 60_000)} min; ` +
          'run the same command again later: it resumes waiting for this batch without sending its events again',
      );
    }
    ctx.log.debug({ batchId, status, delayMs: delay }, 'waiting for the batch');
    await clock.sleep(delay, signal);
    delay = Math.min(config.pollMaxIntervalMs, delay * 2);
  }
}

function settle(ctx: LifecycleContext, part: DatasetPart, outcome: DatasetOutcome): DatasetOutcome {
  part.outcome = outcome;
  ctx.save();
  const level = outcome.status === 'success' && Object.keys(outcome.failures).length === 0 && outcome.unidentified === 0 ? 'info' : 'warn';
  ctx.log[level]({ batchId: outcome.batchId, datasetId: part.datasetId, status: outcome.status, failed: Object.keys(outcome.failures).length + outcome.unidentified }, `batch ${outcome.status}: ${outcome.summary}`);
  return outcome;
}

function failedOutcome(batchId: string, summary: string): DatasetOutcome {
  return { batchId, status: 'failed', summary: redact(summary), batchErrors: [], failures: {}, unidentified: 0 };
}

/** Reads metrics, errors and the failed records of a final batch. */
async function outcomeOf(ctx: LifecycleContext, batchId: string, seen: CatalogBatch): Promise<DatasetOutcome> {
  const status = seen.status.toLowerCase();
  const succeeded = SUCCESS.has(status);
  const batchErrors = (seen.errors ?? []).map((e) => redact(`${e.code ?? 'error'}: ${e.description ?? 'no description'}${e.recordCount !== undefined ? ` (${e.recordCount} records)` : ''}`));
  const failedCount = seen.metrics?.failedRecordCount ?? 0;
  const input = seen.metrics?.inputRecordCount;
  const failures: Record<string, string[]> = {};
  let identified = 0;
  if (failedCount > 0 || !succeeded) {
    try {
      for (const name of await ctx.api.failedFiles(batchId, ctx.signal)) {
        const text = await ctx.api.failedFile(batchId, name, ctx.signal);
        for (const line of text.split('\n')) {
          if (!line.trim()) continue;
          const record = parseRecord(line);
          const id = typeof record?.['_id'] === 'string' ? record['_id'] : typeof record?.['_corrupt_record'] === 'string' ? idOfLine(record['_corrupt_record']) : undefined;
          if (id === undefined) continue;
          if (!failures[id]) identified++;
          failures[id] = validationLines(record?.['_validationErrors']);
        }
      }
    } catch (error) {
      if (!(error instanceof GaveUpError)) throw error;
      ctx.log.warn({ batchId, error: errorMessage(error) }, 'cannot read the failed records of the batch');
    }
  }
  const unidentified = succeeded ? Math.max(0, failedCount - identified) : 0;
  const summary = succeeded
    ? failedCount > 0
      ? `${failedCount} of ${input ?? '?'} records failed validation in AEP; the others were ingested`
      : `${input ?? '?'} records ingested`
    : `${status}${batchErrors.length ? `: ${batchErrors.slice(0, 2).join('; ')}` : ''}`;
  return { batchId, status: succeeded ? 'success' : 'failed', summary: redact(summary), batchErrors, failures, unidentified };
}

function parseRecord(line: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(line) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** `_validationErrors` as `path: message` lines, redacted. */
export function validationLines(errors: unknown): string[] {
  if (!Array.isArray(errors) || errors.length === 0) return ['AEP listed the record as failed without validation errors'];
  return errors.map((e) => {
    if (typeof e !== 'object' || e === null) return redact(String(e));
    const v = e as Record<string, unknown>;
    const pointer = typeof v['pointerToViolation'] === 'string' ? v['pointerToViolation'].replace(/^#/, '') || '/' : '/';
    const message = typeof v['message'] === 'string' ? v['message'] : JSON.stringify(v);
    return redact(`${pointer}: ${message}`);
  });
}

/** The verdict on one event of a dataset's batch. */
export function verdictFor(outcome: DatasetOutcome, id: string): Delivery {
  const where = outcome.batchId ? `AEP batch ${outcome.batchId}` : 'the batch';
  const own = outcome.failures[id];
  if (own) {
    return {
      kind: 'rejected',
      reason: `ingest: ${where} rejected the record: ${own.slice(0, 3).join('; ')}`,
      errors: outcome.status === 'failed' ? [...own, ...outcome.batchErrors] : own,
    };
  }
  if (outcome.status === 'failed') {
    return {
      kind: 'rejected',
      reason: `ingest: ${where} failed, so this record was not ingested: ${outcome.summary}`,
      ...(outcome.batchErrors.length ? { errors: outcome.batchErrors } : {}),
    };
  }
  if (outcome.unidentified > 0) {
    return {
      kind: 'rejected',
      reason:
        `ingest: ${where} ingested only part of its records and ${outcome.unidentified} failed records could not be tied to their events, ` +
        'so this one may or may not be in AEP; replaying it may store it twice in the data lake (Profile de-duplicates by _id)',
      ...(outcome.batchErrors.length ? { errors: outcome.batchErrors } : {}),
    };
  }
  return { kind: 'accepted' };
}
