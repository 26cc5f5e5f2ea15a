/** Batch ingestion state: batches, their files (small and chunked), COMPLETE/ABORT/FAIL/REVERT and asynchronous processing. */
import { randomBytes, randomUUID } from 'node:crypto';
import type { EventValidator, XdmEvent } from '../core/types.js';
import { isObject, parseJson } from './http.js';
import type { StatsRecorder } from './stats.js';
import type { EventStore } from './store.js';
import type { DatasetConfig } from './types.js';
import { validationErrors } from './xdm-report.js';

/** Catalog statuses the imitation moves a batch through. */
export type BatchStatus = 'loading' | 'processing' | 'success' | 'failed' | 'aborted' | 'inactive';

interface Chunk {
  start: number;
  bytes: Buffer;
}

interface BatchFile {
  name: string;
  bytes: Buffer;
  /** Set while a large file is uploaded in chunks; absent for small (PUT) files. */
  large?: { chunks: Chunk[]; complete: boolean };
}

export interface CatalogError {
  code: string;
  description: string;
  recordCount?: number;
}

/** One failed record as Data Access returns it. */
export type FailedRecord = Record<string, unknown>;

export interface Batch {
  id: string;
  datasetId: string;
  externalId: string;
  status: BatchStatus;
  created: number;
  updated: number;
  started?: number;
  completed?: number;
  isMultiLineJson: boolean;
  diagnostics: boolean;
  /** Partial ingestion threshold in percent; undefined = any failed record fails the batch. */
  partialPercent?: number;
  tags: Record<string, string[]>;
  files: Map<string, BatchFile>;
  metrics?: Record<string, number>;
  errors: CatalogError[];
  failed: FailedRecord[];
  /** Name of the Data Access file holding the failed records. */
  failedFileName: string;
  version: string;
}

/** An error of a batch operation: HTTP status and a readable detail. */
export interface BatchError {
  status: number;
  detail: string;
}

export interface BatchServiceContext {
  datasets: ReadonlyMap<string, DatasetConfig>;
  validator: EventValidator;
  store: EventStore;
  stats: StatsRecorder;
  processingDelayMs: number;
  now: () => number;
}

/** Files up to this size go through PUT; larger ones must be chunked (Adobe's 256 MB gateway limit). */
export const MAX_SMALL_FILE_BYTES = 256 * 1024 * 1024;
/** Largest accepted chunk of a large file. */
export const MAX_CHUNK_BYTES = 512_000_000;

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A ULID-shaped batch id (`01EQ1C48TR4GD4FE7NH2522TCQ`), like Catalog's. */
function batchId(now: number): string {
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const random = [...randomBytes(16)].map((b) => CROCKFORD[b % 32]).join('');
  return time + random;
}

/** The bytes received so far for a chunked file, contiguous from 0, or a reason why they are not. */
function assemble(chunks: readonly Chunk[]): { ok: true; bytes: Buffer } | { ok: false; reason: string } {
  const sorted = [...chunks].sort((a, b) => a.start - b.start);
  let next = 0;
  for (const chunk of sorted) {
    if (chunk.start > next) return { ok: false, reason: `bytes ${next}-${chunk.start - 1} are missing` };
    if (chunk.start < next) return { ok: false, reason: `chunk at byte ${chunk.start} overlaps the previous one` };
    next = chunk.start + chunk.bytes.length;
  }
  return { ok: true, bytes: Buffer.concat(sorted.map((c) => c.bytes)) };
}

function parseRecords(batch: Batch, file: BatchFile): Array<{ record?: Record<string, unknown>; raw: string; reason?: string }> {
  const text = file.bytes.toString('utf8');
  if (batch.isMultiLineJson) {
    const parsed = parseJson(file.bytes);
    if (!parsed.ok) return [{ raw: text, reason: `file ${file.name} is not a JSON document: ${parsed.reason}` }];
    const items = Array.isArray(parsed.value) ? parsed.value : [parsed.value];
    return items.map((item) =>
      isObject(item) ? { record: item, raw: JSON.stringify(item) } : { raw: JSON.stringify(item), reason: 'record is not a JSON object' },
    );
  }
  return text
    .split(/\r?\n/)
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const parsed = parseJson(Buffer.from(line));
      if (!parsed.ok) return { raw: line, reason: `row is not valid JSON: ${parsed.reason}` };
      return isObject(parsed.value) ? { record: parsed.value, raw: line } : { raw: line, reason: 'row is not a JSON object' };
    });
}

/** Batches by id, with the lifecycle AEP's Batch Ingestion API and Catalog show. */
export class BatchService {
  private readonly batches = new Map<string, Batch>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly waiters: Array<() => void> = [];

  constructor(private readonly ctx: BatchServiceContext) {}

  get(id: string): Batch | undefined {
    return this.batches.get(id);
  }

  /** Creates a batch from a validated `POST /batches` body. */
  create(input: { datasetId: string; externalId?: string; isMultiLineJson: boolean; diagnostics: boolean; partialPercent?: number }): Batch {
    const now = this.ctx.now();
    const id = batchId(now);
    const tags: Record<string, string[]> = {};
    if (input.diagnostics) tags['acp_enableErrorDiagnostics'] = ['true'];
    if (input.partialPercent !== undefined) tags['acp_partialIngestionPercent'] = [String(input.partialPercent)];
    const batch: Batch = {
      id,
      datasetId: input.datasetId,
      externalId: input.externalId ?? id,
      status: 'loading',
      created: now,
      updated: now,
      isMultiLineJson: input.isMultiLineJson,
      diagnostics: input.diagnostics,
      ...(input.partialPercent !== undefined ? { partialPercent: input.partialPercent } : {}),
      tags,
      files: new Map(),
      errors: [],
      failed: [],
      failedFileName: `part-00000-${randomUUID()}-c000.json`,
      version: '1.0.0',
    };
    this.batches.set(id, batch);
    this.ctx.stats.batches.created++;
    return batch;
  }

  /** The batch a file operation targets, checked for existence, dataset and `loading` status. */
  private loading(batchId: string, datasetId: string): Batch | BatchError {
    const batch = this.batches.get(batchId);
    if (!batch) return { status: 404, detail: `Batch ${batchId} not found` };
    if (batch.datasetId !== datasetId) return { status: 404, detail: `Dataset ${datasetId} is not part of batch ${batchId}` };
    if (batch.status !== 'loading') return { status: 400, detail: `Batch ${batchId} is ${batch.status}; files can only be added while it is loading` };
    return batch;
  }

  /** PUT of a small file: `created` or `replaced` (the call is idempotent). */
  putFile(batchId: string, datasetId: string, name: string, bytes: Buffer): 'created' | 'replaced' | BatchError {
    const batch = this.loading(batchId, datasetId);
    if ('detail' in batch) return batch;
    const existed = batch.files.has(name);
    batch.files.set(name, { name, bytes });
    batch.updated = this.ctx.now();
    return existed ? 'replaced' : 'created';
  }

  initializeLargeFile(batchId: string, datasetId: string, name: string): BatchError | undefined {
    const batch = this.loading(batchId, datasetId);
    if ('detail' in batch) return batch;
    batch.files.set(name, { name, bytes: Buffer.alloc(0), large: { chunks: [], complete: false } });
    batch.updated = this.ctx.now();
    return undefined;
  }

  private largeFile(batchId: string, datasetId: string, name: string): BatchFile | BatchError {
    const batch = this.loading(batchId, datasetId);
    if ('detail' in batch) return batch;
    const file = batch.files.get(name);
    if (!file?.large) return { status: 404, detail: `Large file ${name} was not initialized in batch ${batchId}` };
    if (file.large.complete) return { status: 400, detail: `Large file ${name} is already complete` };
    return file;
  }

  /** PATCH of one chunk; `range` is the Content-Range header (`bytes {start}-{end}[/{total}]`). */
  patchLargeFile(batchId: string, datasetId: string, name: string, range: string | undefined, bytes: Buffer): BatchError | undefined {
    const file = this.largeFile(batchId, datasetId, name);
    if ('detail' in file) return file;
    const match = /^bytes\s+(\d+)-(\d+)(?:\/(\d+|\*))?$/i.exec((range ?? '').trim());
    if (!match) return { status: 400, detail: 'Content-Range must be "bytes {start}-{end}"' };
    const start = Number(match[1]);
    const end = Number(match[2]);
    if (end < start || end - start + 1 !== bytes.length) {
      return { status: 400, detail: `Content-Range ${range} announces ${end - start + 1} bytes but the body has ${bytes.length}` };
    }
    if (bytes.length > MAX_CHUNK_BYTES) return { status: 400, detail: `A chunk may hold at most ${MAX_CHUNK_BYTES} bytes` };
    file.large!.chunks.push({ start, bytes });
    return undefined;
  }

  /** Bytes received contiguously from 0 for a large file (HEAD answers it as `Range`). */
  largeFileReceived(batchId: string, datasetId: string, name: string): number | BatchError {
    const file = this.largeFile(batchId, datasetId, name);
    if ('detail' in file) return file;
    let next = 0;
    for (const chunk of [...file.large!.chunks].sort((a, b) => a.start - b.start)) {
      if (chunk.start > next) break;
      next = Math.max(next, chunk.start + chunk.bytes.length);
    }
    return next;
  }

  completeLargeFile(batchId: string, datasetId: string, name: string): { sizeInBytes: number } | BatchError {
    const file = this.largeFile(batchId, datasetId, name);
    if ('detail' in file) return file;
    const assembled = assemble(file.large!.chunks);
    if (!assembled.ok) return { status: 400, detail: `Large file ${name} cannot be completed: ${assembled.reason}` };
    file.bytes = assembled.bytes;
    file.large = { chunks: [], complete: true };
    return { sizeInBytes: file.bytes.length };
  }

  /** `POST /batches/{id}?action=…`. COMPLETE is safe to repeat. */
  act(batchId: string, action: string): BatchError | undefined {
    const batch = this.batches.get(batchId);
    if (!batch) return { status: 404, detail: `Batch ${batchId} not found` };
    const now = this.ctx.now();
    switch (action) {
      case 'COMPLETE': {
        if (batch.status === 'processing' || batch.status === 'success') return undefined;
        if (batch.status !== 'loading') return { status: 400, detail: `Batch ${batchId} is ${batch.status} and cannot be completed` };
        const open = [...batch.files.values()].find((f) => f.large && !f.large.complete);
        if (open) return { status: 400, detail: `Large file ${open.name} was initialized but not completed` };
        batch.status = 'processing';
        batch.started = now;
        batch.updated = now;
        this.schedule(batch);
        return undefined;
      }
      case 'ABORT':
        if (batch.status !== 'loading' && batch.status !== 'processing') {
          return { status: 400, detail: `Batch ${batchId} is ${batch.status} and cannot be aborted` };
        }
        this.unschedule(batch.id);
        this.finish(batch, 'aborted');
        this.ctx.stats.batches.aborted++;
        return undefined;
      case 'FAIL':
        if (batch.status !== 'loading') return { status: 400, detail: `Batch ${batchId} is ${batch.status} and cannot be failed` };
        this.finish(batch, 'failed');
        this.ctx.stats.batches.failed++;
        return undefined;
      case 'REVERT':
        if (batch.status !== 'success') return { status: 400, detail: `Batch ${batchId} is ${batch.status}; only a successful batch can be reverted` };
        this.ctx.store.removeRef(batch.id);
        this.finish(batch, 'inactive');
        return undefined;
      default:
        return { status: 400, detail: `action must be one of COMPLETE, ABORT, FAIL, REVERT (got ${action || 'none'})` };
    }
  }

  private finish(batch: Batch, status: BatchStatus): void {
    const now = this.ctx.now();
    batch.status = status;
    batch.completed = now;
    batch.updated = now;
    batch.version = `1.0.${Number(batch.version.split('.')[2] ?? 0) + 1}`;
  }

  private schedule(batch: Batch): void {
    const timer = setTimeout(() => {
      this.timers.delete(batch.id);
      this.process(batch);
      this.wakeIfIdle();
    }, this.ctx.processingDelayMs);
    this.timers.set(batch.id, timer);
  }

  private unschedule(id: string): void {
    const timer = this.timers.get(id);
    if (timer) clearTimeout(timer);
    this.timers.delete(id);
    this.wakeIfIdle();
  }

  private wakeIfIdle(): void {
    if (this.timers.size > 0) return;
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** Resolves once no batch waits for processing. */
  settled(): Promise<void> {
    return this.timers.size === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Validates every record; accepts the valid ones unless the failures exceed the partial-ingestion threshold. */
  private process(batch: Batch): void {
    const valid: Array<Record<string, unknown>> = [];
    const failed: FailedRecord[] = [];
    let requiredMissing = 0;
    let corrupt = 0;
    let inputBytes = 0;
    const files = [...batch.files.values()].sort((a, b) => a.name.localeCompare(b.name));
    for (const file of files) {
      inputBytes += file.bytes.length;
      for (const row of parseRecords(batch, file)) {
        if (!row.record) {
          corrupt++;
          failed.push({
            _corrupt_record: row.raw,
            _validationErrors: [{ keyword: 'parse', message: row.reason ?? 'corrupt row', pointerToViolation: '#', schemaLocation: '#' }],
          });
          continue;
        }
        const errors = this.ctx.validator.validate(row.record as XdmEvent);
        if (!errors) {
          valid.push(row.record);
          continue;
        }
        const violations = validationErrors(errors);
        if (violations.some((v) => v.keyword === 'required' || v.message.startsWith('must not be null'))) requiredMissing++;
        failed.push({ ...row.record, _validationErrors: violations });
      }
    }
    const input = valid.length + failed.length;
    const withinThreshold = failed.length === 0 || (batch.partialPercent !== undefined && (failed.length / input) * 100 <= batch.partialPercent);
    const success = input > 0 && withinThreshold;
    batch.failed = failed;
    batch.metrics = {
      inputByteSize: inputBytes,
      inputFileCount: files.length,
      inputRecordCount: input,
      outputRecordCount: success ? valid.length : 0,
      failedRecordCount: failed.length,
    };
    batch.errors = this.errorsOf(batch, input, valid.length, failed.length, success, requiredMissing, corrupt);
    if (success) {
      const receivedAtMs = this.ctx.now();
      for (const event of valid) this.ctx.store.add({ datasetId: batch.datasetId, event, via: 'batch', ref: batch.id, receivedAtMs });
    }
    this.finish(batch, success ? 'success' : 'failed');
    if (success) this.ctx.stats.batches.success++;
    else this.ctx.stats.batches.failed++;
  }

  private errorsOf(
    batch: Batch,
    input: number,
    ok: number,
    failed: number,
    success: boolean,
    requiredMissing: number,
    corrupt: number,
  ): CatalogError[] {
    if (input === 0) return [{ code: '106', description: 'Dataset file is empty. Please verify the file.' }];
    if (failed === 0) return [];
    if (!batch.diagnostics) {
      return [
        {
          code: 'INGEST-1211-400',
          description:
            'Encountered errors while parsing, converting or otherwise validating the data. Please resend the data with error diagnostics enabled to collect additional information on failure types.',
        },
      ];
    }
    const summary = success
      ? `Encountered ${failed} errors in the data. Successfully ingested ${ok} rows. Please review the associated diagnostic files for more details.`
      : `Encountered ${failed} errors in the data, more than the partial ingestion threshold of ${batch.partialPercent ?? 0}% allows. No rows were ingested. Please review the associated diagnostic files for more details.`;
    const errors: CatalogError[] = [{ code: 'INGEST-1212-400', description: summary }];
    if (requiredMissing > 0) {
      errors.push({
        code: 'INGEST-1555-400',
        description: 'A required field is either missing or has a value of null. Please check the failed records for details.',
        recordCount: requiredMissing,
      });
    }
    if (corrupt > 0) {
      errors.push({ code: 'INGEST-1401-400', description: 'The row has corrupted data and cannot be read or converted.', recordCount: corrupt });
    }
    return errors;
  }

  /** Failed records as JSON Lines (Data Access `?path=`). */
  failedFile(batch: Batch): string {
    return batch.failed.map((record) => JSON.stringify(record)).join('\n') + (batch.failed.length > 0 ? '\n' : '');
  }

  clear(): void {
    for (const id of [...this.timers.keys()]) this.unschedule(id);
    this.batches.clear();
  }
}
