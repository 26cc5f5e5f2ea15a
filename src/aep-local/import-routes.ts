/** Batch Ingestion routes under `/data/foundation/import`: create batch, upload files (small and chunked), batch actions. */
import type { IncomingMessage } from 'node:http';
import { MAX_SMALL_FILE_BYTES, type BatchError, type BatchService } from './batches.js';
import { catalogView } from './catalog.js';
import { checkContentType, problem } from './gateway.js';
import { empty, header, isObject, json, mediaType, parseJson, type Answer } from './http.js';
import type { DatasetConfig, LocalCredentials } from './types.js';

export interface ImportContext {
  batches: BatchService;
  datasets: ReadonlyMap<string, DatasetConfig>;
  credentials: LocalCredentials;
}

export interface ImportRequest {
  req: IncomingMessage;
  method: string;
  /** Path segments after `/data/foundation/import`, decoded. */
  segments: string[];
  query: URLSearchParams;
  body: Buffer;
  size: number;
}

function failure(error: BatchError): Answer {
  return problem(error.status, error.status === 404 ? 'Not Found' : 'Bad Request', error.detail);
}

/** The route name of an import request, for stats. */
export function importRouteName(segments: readonly string[]): string {
  if (segments.length === 1) return 'import.createBatch';
  if (segments.length === 2) return 'import.batchAction';
  return 'import.file';
}

/** Dispatches one request; undefined when no route matches. */
export function handleImport(r: ImportRequest, ctx: ImportContext): Answer | undefined {
  const [root, batchId, datasetsWord, datasetId, filesWord, ...fileParts] = r.segments;
  if (root !== 'batches') return undefined;
  if (batchId === undefined) return r.method === 'POST' ? createBatch(r, ctx) : undefined;
  if (datasetsWord === undefined) return r.method === 'POST' ? batchAction(batchId, r, ctx) : undefined;
  if (datasetsWord !== 'datasets' || datasetId === undefined || filesWord !== 'files' || fileParts.length === 0) return undefined;
  return fileRoute(batchId, datasetId, fileParts.join('/'), r, ctx);
}

function createBatch(r: ImportRequest, ctx: ImportContext): Answer {
  const wrongType = checkContentType(r.req, ['application/json']);
  if (wrongType) return wrongType;
  const parsed = parseJson(r.body);
  if (!parsed.ok || !isObject(parsed.value)) return problem(400, 'Bad Request', 'The request body must be a JSON object');
  const body = parsed.value;
  const datasetId = body['datasetId'];
  if (typeof datasetId !== 'string' || datasetId === '') return problem(400, 'Bad Request', 'datasetId is required');
  if (!ctx.datasets.has(datasetId)) return problem(400, 'Bad Request', `Dataset ${datasetId} not found`);
  const inputFormat = body['inputFormat'];
  const format = isObject(inputFormat) ? inputFormat['format'] : undefined;
  if (typeof format !== 'string') return problem(400, 'Bad Request', 'inputFormat.format is required (JSON, Parquet or CSV)');
  // The OpenAPI enum is JSON/Parquet/CSV; Adobe's tutorials send "json" and AEP takes it, so case is ignored.
  const lower = format.toLowerCase();
  if (!['json', 'parquet', 'csv'].includes(lower)) {
    return problem(400, 'Bad Request', `inputFormat.format must be one of JSON, Parquet, CSV (got ${format})`);
  }
  if (lower !== 'json') return problem(400, 'Bad Request', `inputFormat.format ${format} is valid for Adobe but aep-local reads JSON only`);
  const multiLine = isObject(inputFormat) ? inputFormat['isMultiLineJson'] : undefined;
  if (multiLine !== undefined && typeof multiLine !== 'boolean') return problem(400, 'Bad Request', 'inputFormat.isMultiLineJson must be a boolean');
  const diagnostics = body['enableErrorDiagnostics'];
  if (diagnostics !== undefined && typeof diagnostics !== 'boolean') return problem(400, 'Bad Request', 'enableErrorDiagnostics must be a boolean');
  // Adobe's docs name it partialIngestionPercent; aepp sends partialIngestionPercentage. Both are read.
  const percent = body['partialIngestionPercent'] ?? body['partialIngestionPercentage'];
  if (percent !== undefined && (typeof percent !== 'number' || !(percent >= 0 && percent <= 100))) {
    return problem(400, 'Bad Request', 'partialIngestionPercent must be a number from 0 to 100');
  }
  const externalId = body['externalId'];
  if (externalId !== undefined && typeof externalId !== 'string') return problem(400, 'Bad Request', 'externalId must be a string');
  const batch = ctx.batches.create({
    datasetId,
    isMultiLineJson: multiLine === true,
    diagnostics: diagnostics === true,
    ...(percent !== undefined ? { partialPercent: percent as number } : {}),
    ...(externalId !== undefined ? { externalId } : {}),
  });
  return json(201, catalogView(batch, ctx.credentials.imsOrgId, ctx.credentials.clientId));
}

function batchAction(batchId: string, r: ImportRequest, ctx: ImportContext): Answer {
  const error = ctx.batches.act(batchId, r.query.get('action') ?? '');
  // The spec declares a JSON body for this 200; Adobe answers with none (a known slip, not copied).
  return error ? failure(error) : empty(200);
}

function fileRoute(batchId: string, datasetId: string, name: string, r: ImportRequest, ctx: ImportContext): Answer | undefined {
  switch (r.method) {
    case 'PUT': {
      const wrongType = checkOctetStream(r.req);
      if (wrongType) return wrongType;
      if (r.size > MAX_SMALL_FILE_BYTES) {
        return problem(413, 'Payload Too Large', `Files over ${MAX_SMALL_FILE_BYTES} bytes must be uploaded as a large file`);
      }
      const result = ctx.batches.putFile(batchId, datasetId, name, r.body);
      return typeof result === 'string' ? empty(result === 'created' ? 201 : 200) : failure(result);
    }
    case 'PATCH': {
      // The spec declares a multipart body; the chunk is really sent as raw octet-stream (a known slip, not copied).
      const wrongType = checkOctetStream(r.req);
      if (wrongType) return wrongType;
      const error = ctx.batches.patchLargeFile(batchId, datasetId, name, header(r.req, 'content-range'), r.body);
      if (error) return failure(error);
      const received = ctx.batches.largeFileReceived(batchId, datasetId, name);
      const size = typeof received === 'number' ? received : 0;
      return json(200, { name, sizeInBytes: size }, { range: `bytes=0-${Math.max(0, size - 1)}` });
    }
    case 'HEAD': {
      const received = ctx.batches.largeFileReceived(batchId, datasetId, name);
      return typeof received === 'number' ? empty(200, { range: `bytes=0-${Math.max(0, received - 1)}` }) : failure(received);
    }
    case 'POST': {
      const action = r.query.get('action');
      if (action === 'INITIALIZE') {
        const error = ctx.batches.initializeLargeFile(batchId, datasetId, name);
        return error ? failure(error) : json(201, { name, sizeInBytes: 0 });
      }
      if (action === 'COMPLETE') {
        const result = ctx.batches.completeLargeFile(batchId, datasetId, name);
        return 'detail' in result ? failure(result) : json(201, { name, sizeInBytes: result.sizeInBytes });
      }
      return problem(400, 'Bad Request', `action must be INITIALIZE or COMPLETE (got ${action ?? 'none'})`);
    }
    default:
      return undefined;
  }
}

/** Uploads must be `application/octet-stream`: missing → the gateway's 400, another type → 415. */
function checkOctetStream(req: IncomingMessage): Answer | undefined {
  const type = mediaType(header(req, 'content-type'));
  if (!type) return checkContentType(req, ['application/octet-stream']);
  if (type !== 'application/octet-stream') {
    return problem(415, 'Unsupported Media Type', `Files must be sent as application/octet-stream (got ${type})`);
  }
  return undefined;
}
