/** Batch Ingestion, Catalog and Data Access calls, each retried on 429/5xx/network errors by the platform client. */
import { AuthError, FatalError } from '../../errors.js';
import { describeUrl, type FileBody, type HttpResponse } from '../../adobe/http.js';
import { adobeMessage } from '../adobe-streaming/client.js';
import type { PlatformClient } from './platform.js';

/** One batch as Catalog shows it (the fields the sink reads). */
export interface CatalogBatch {
  status: string;
  metrics?: { inputRecordCount?: number; outputRecordCount?: number; failedRecordCount?: number; inputFileCount?: number };
  errors?: Array<{ code?: string; description?: string; recordCount?: number }>;
}

const IMPORT = '/data/foundation/import';
const CATALOG = '/data/foundation/catalog';
const EXPORT = '/data/foundation/export';

/** The Adobe calls of one batch's life. Every method retries transient failures until the retry deadline. */
export class BatchApi {
  constructor(
    private readonly platform: PlatformClient,
    private readonly platformUrl: string,
    private readonly requestTimeoutMs: number,
  ) {}

  /** `POST /batches`: a JSON Lines batch for one dataset, error diagnostics on. Returns the batch id. */
  async createBatch(datasetId: string, partialIngestionPercent: number, externalId: string, signal?: AbortSignal): Promise<string> {
    const body = JSON.stringify({
      datasetId,
      inputFormat: { format: 'json', isMultiLineJson: false },
      enableErrorDiagnostics: true,
      partialIngestionPercent,
      externalId,
    });
    const res = await this.platform.request({ step: 'create batch', method: 'POST', url: `${this.base(IMPORT)}/batches`, headers: { 'content-type': 'application/json' }, body }, signal);
    const id = (res.body as { id?: unknown } | undefined)?.id;
    if (res.status !== 201 && res.status !== 200) throw this.refused('create batch', `${IMPORT}/batches`, res);
    if (typeof id !== 'string' || id === '') throw new FatalError(`Adobe answered ${res.status} to create batch without a batch id`);
    return id;
  }

  /** `PUT …/files/{name}` of a whole file (up to 256 MB), streamed from disk (every retry reads it again). Idempotent. */
  async putFile(batchId: string, datasetId: string, name: string, file: FileBody, signal?: AbortSignal): Promise<void> {
    const res = await this.platform.request(
      { step: `upload ${name}`, method: 'PUT', url: this.fileUrl(batchId, datasetId, name), headers: octet, body: file, timeoutMs: this.uploadTimeout(file.length) },
      signal,
    );
    if (res.status !== 200 && res.status !== 201) throw this.refused(`upload ${name}`, this.fileUrl(batchId, datasetId, name), res);
  }

  /** `POST …/files/{name}?action=INITIALIZE` of a large file. */
  async initializeLargeFile(batchId: string, datasetId: string, name: string, signal?: AbortSignal): Promise<void> {
    const url = `${this.fileUrl(batchId, datasetId, name)}?action=INITIALIZE`;
    const res = await this.platform.request({ step: `initialize ${name}`, method: 'POST', url }, signal);
    if (res.status !== 200 && res.status !== 201) throw this.refused(`initialize ${name}`, url, res);
  }

  /** Bytes of a large file Adobe holds contiguously from 0 (`HEAD` → `Range: bytes=0-{end}`); undefined when unknown. */
  async largeFileReceived(batchId: string, datasetId: string, name: string, signal?: AbortSignal): Promise<number | undefined> {
    const res = await this.platform.request({ step: `check ${name}`, method: 'HEAD', url: this.fileUrl(batchId, datasetId, name) }, signal);
    if (res.status < 200 || res.status >= 300) return undefined;
    const match = /bytes=?\s*0-(\d+)/i.exec(res.headers['range'] ?? '');
    return match ? Number(match[1]) + 1 : undefined;
  }

  /** `PATCH …/files/{name}` with `Content-Range: bytes {start}-{end}`: the region `chunk` of the local file, streamed. */
  async patchChunk(batchId: string, datasetId: string, name: string, chunk: FileBody & { start: number }, signal?: AbortSignal): Promise<void> {
    const url = this.fileUrl(batchId, datasetId, name);
    const { start, length } = chunk;
    const res = await this.platform.request(
      {
        step: `upload ${name} bytes ${start}-${start + length - 1}`,
        method: 'PATCH',
        url,
        headers: { ...octet, 'content-range': `bytes ${start}-${start + length - 1}` },
        body: chunk,
        timeoutMs: this.uploadTimeout(length),
      },
      signal,
    );
    if (res.status < 200 || res.status >= 300) throw this.refused(`upload ${name}`, url, res);
  }

  /** `POST …/files/{name}?action=COMPLETE` of a large file. */
  async completeLargeFile(batchId: string, datasetId: string, name: string, signal?: AbortSignal): Promise<void> {
    const url = `${this.fileUrl(batchId, datasetId, name)}?action=COMPLETE`;
    const res = await this.platform.request({ step: `complete ${name}`, method: 'POST', url }, signal);
    if (res.status !== 200 && res.status !== 201) throw this.refused(`complete ${name}`, url, res);
  }

  /** `POST /batches/{id}?action=COMPLETE|ABORT`. Returns the answer for the caller to judge (COMPLETE may be repeated). */
  async batchAction(batchId: string, action: 'COMPLETE' | 'ABORT', signal?: AbortSignal): Promise<HttpResponse> {
    return this.platform.request({ step: `${action.toLowerCase()} batch ${batchId}`, method: 'POST', url: `${this.base(IMPORT)}/batches/${encodeURIComponent(batchId)}?action=${action}` }, signal);
  }

  /** Catalog's view of a batch, or undefined when Catalog does not know it (404). */
  async catalogBatch(batchId: string, signal?: AbortSignal): Promise<CatalogBatch | undefined> {
    const url = `${this.base(CATALOG)}/batches/${encodeURIComponent(batchId)}`;
    const res = await this.platform.request({ step: `read batch ${batchId} from Catalog`, method: 'GET', url, headers: { accept: 'application/json' } }, signal);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw this.refused('read Catalog', url, res);
    const body = res.body as Record<string, unknown> | undefined;
    const entry = (body?.[batchId] ?? (body && typeof body['status'] === 'string' ? body : undefined)) as CatalogBatch | undefined;
    if (!entry || typeof entry.status !== 'string') throw new FatalError(`Catalog answered for batch ${batchId} without its status`);
    return entry;
  }

  /** Names of the failed-record files of a batch (Data Access), all pages. */
  async failedFiles(batchId: string, signal?: AbortSignal): Promise<string[]> {
    const names: string[] = [];
    const limit = 100;
    for (let start = 0; ; start += limit) {
      const url = `${this.base(EXPORT)}/batches/${encodeURIComponent(batchId)}/failed?start=${start}&limit=${limit}`;
      const res = await this.platform.request({ step: `list failed records of batch ${batchId}`, method: 'GET', url, headers: { accept: 'application/json' } }, signal);
      if (res.status === 404) return names;
      if (res.status !== 200) throw this.refused('list failed records', url, res);
      const data = (res.body as { data?: unknown } | undefined)?.data;
      const page = Array.isArray(data) ? data.map((d) => (d as { name?: unknown }).name).filter((n): n is string => typeof n === 'string') : [];
      const fresh = page.filter((n) => !names.includes(n));
      names.push(...fresh);
      // Stop on a short page, or when paging is ignored and the same names come back.
      if (page.length < limit || fresh.length === 0) return names;
    }
  }

  /** One failed-record file (JSON Lines, each record with `_validationErrors`). */
  async failedFile(batchId: string, name: string, signal?: AbortSignal): Promise<string> {
    const url = `${this.base(EXPORT)}/batches/${encodeURIComponent(batchId)}/failed?path=${encodeURIComponent(name)}`;
    const res = await this.platform.request({ step: `download failed records ${name}`, method: 'GET', url }, signal);
    if (res.status !== 200) throw this.refused('download failed records', url, res);
    return res.text;
  }

  private base(prefix: string): string {
    return `${this.platformUrl}${prefix}`;
  }

  private fileUrl(batchId: string, datasetId: string, name: string): string {
    return `${this.base(IMPORT)}/batches/${encodeURIComponent(batchId)}/datasets/${encodeURIComponent(datasetId)}/files/${name.split('/').map(encodeURIComponent).join('/')}`;
  }

  private uploadTimeout(bytes: number): number {
    return this.requestTimeoutMs + Math.ceil(bytes / 1_000_000) * 1000;
  }

  /** A non-retryable refusal: 401/403 are auth problems, the rest configuration or contract problems. */
  private refused(step: string, url: string, res: HttpResponse): Error {
    const text = `Adobe answered ${res.status} to ${step} (${describeUrl(url)}): ${adobeMessage(res.body, res.text)}`;
    if (res.status === 403) return new AuthError(`${text}. Check that the OAuth project's product profile allows data ingestion in this sandbox`);
    return new FatalError(text);
  }
}

const octet = { 'content-type': 'application/octet-stream' };
