import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { localDefaults, startAepLocal, type AepLocal } from '../../src/aep-local/index.js';
import { call, callConforming, event, platformHeaders, type Reply } from './support.js';

let local: AepLocal;
let t: string;
const dataset = localDefaults.datasets.feedback;

beforeAll(async () => {
  local = await startAepLocal({ batchProcessingDelayMs: 5 });
});
afterAll(() => local.close());
beforeEach(() => {
  local.reset();
  t = local.issueToken();
});

const headers = (extra: Record<string, string> = {}) => platformHeaders(local, t, extra);
const jsonHeaders = () => headers({ 'content-type': 'application/json' });
const octet = () => headers({ 'content-type': 'application/octet-stream' });
const lines = (records: unknown[]) => records.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';

async function createBatch(body: Record<string, unknown> = {}): Promise<Reply> {
  return callConforming(local, {
    method: 'POST',
    path: '/data/foundation/import/batches',
    headers: jsonHeaders(),
    body: { datasetId: dataset, inputFormat: { format: 'json' }, ...body },
  });
}

const filePath = (batchId: string, name: string, ds: string = dataset) => `/data/foundation/import/batches/${batchId}/datasets/${ds}/files/${name}`;

async function upload(batchId: string, name: string, content: string): Promise<Reply> {
  return callConforming(local, { method: 'PUT', path: filePath(batchId, name), headers: octet(), body: content });
}

async function complete(batchId: string, action = 'COMPLETE'): Promise<Reply> {
  return callConforming(local, { method: 'POST', path: `/data/foundation/import/batches/${batchId}?action=${action}`, headers: headers() });
}

async function catalog(batchId: string): Promise<Reply> {
  return callConforming(local, { path: `/data/foundation/catalog/batches/${batchId}`, headers: headers() });
}

/** Runs a whole batch with the given file content and returns its Catalog entry. */
async function ingest(content: string, createBody: Record<string, unknown> = {}): Promise<{ id: string; entry: any }> {
  const created = await createBatch(createBody);
  const id = created.json.id as string;
  expect((await upload(id, 'part-1.json', content)).status).toBe(201);
  expect((await complete(id)).status).toBe(200);
  await local.settled();
  return { id, entry: (await catalog(id)).json[id] };
}

describe('batch lifecycle', () => {
  test('create → upload → complete → processing → success, with metrics in Catalog and the events stored', async () => {
    const created = await createBatch({ inputFormat: { format: 'JSON' } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({
      id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      imsOrg: localDefaults.imsOrgId,
      status: 'loading',
      relatedObjects: [{ type: 'dataSet', id: dataset }],
      version: '1.0.0',
      inputFormat: { format: 'json' },
    });
    const id = created.json.id as string;
    expect((await upload(id, 'part-1.json', lines([event('b-1'), event('b-2')]))).status).toBe(201);
    expect((await upload(id, 'part-1.json', lines([event('b-1'), event('b-2'), event('b-3')]))).status).toBe(200);
    expect((await upload(id, 'dir/part-2.json', lines([event('b-4')]))).status).toBe(201);
    const done = await complete(id);
    expect(done.status).toBe(200);
    expect(done.text).toBe('');
    await local.settled();
    const entry = (await catalog(id)).json[id];
    expect(entry).toMatchObject({
      status: 'success',
      metrics: { inputFileCount: 2, inputRecordCount: 4, outputRecordCount: 4, failedRecordCount: 0 },
      started: expect.any(Number),
      completed: expect.any(Number),
    });
    expect(entry).not.toHaveProperty('errors');
    // Files are processed in name order: dir/part-2.json before part-1.json.
    expect(local.acceptedIds()).toEqual(['b-4', 'b-1', 'b-2', 'b-3']);
    expect(local.accepted().every((e) => e.via === 'batch' && e.ref === id && e.datasetId === dataset)).toBe(true);
    expect((await complete(id)).status).toBe(200);
    expect(local.stats().batches).toMatchObject({ created: 1, success: 1 });
  });

  test('partial ingestion: failures within the threshold leave a successful batch with failedRecordCount and INGEST errors', async () => {
    const records = [
      ...Array.from({ length: 18 }, (_, i) => event(`ok-${i}`)),
      event('no-timestamp', { timestamp: undefined }),
      '{"_id": "broken", ',
    ];
    const { id, entry } = await ingest(lines(records), { enableErrorDiagnostics: true, partialIngestionPercent: 10 });
    expect(entry.status).toBe('success');
    expect(entry.metrics).toMatchObject({ inputRecordCount: 20, outputRecordCount: 18, failedRecordCount: 2 });
    expect(entry.tags).toEqual({ acp_enableErrorDiagnostics: ['true'], acp_partialIngestionPercent: ['10'] });
    expect(entry.errors).toEqual([
      { code: 'INGEST-1212-400', description: expect.stringContaining('Encountered 2 errors in the data. Successfully ingested 18 rows.') },
      { code: 'INGEST-1555-400', description: expect.stringContaining('required field'), recordCount: 1 },
      { code: 'INGEST-1401-400', description: expect.any(String), recordCount: 1 },
    ]);
    expect(local.acceptedIds()).toHaveLength(18);

    const listing = await callConforming(local, { path: `/data/foundation/export/batches/${id}/failed`, headers: headers() });
    expect(listing.status).toBe(200);
    expect(listing.json._page).toEqual({ limit: 100, count: 1 });
    const [file] = listing.json.data;
    expect(file.name).toMatch(/^part-00000-.+-c000\.json$/);
    expect(file._links.self.href).toBe(`${local.url}/data/foundation/export/batches/${id}/failed?path=${encodeURIComponent(file.name)}`);

    const download = await callConforming(local, { path: new URL(file._links.self.href).pathname + new URL(file._links.self.href).search, headers: headers() });
    expect(download.status).toBe(200);
    expect(Number(file.length)).toBe(Buffer.byteLength(download.text));
    const failed = download.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(failed).toHaveLength(2);
    expect(failed[0]).toMatchObject({ _id: 'no-timestamp', _validationErrors: [{ keyword: 'required', pointerToViolation: '#/timestamp', schemaLocation: '#/properties/timestamp', message: 'required field is missing' }] });
    expect(failed[1]).toMatchObject({ _corrupt_record: '{"_id": "broken", ', _validationErrors: [expect.objectContaining({ keyword: 'parse' })] });
  });

  test('failures over the threshold fail the whole batch and nothing is ingested', async () => {
    const records = [event('ok-1'), event('ok-2'), event('bad', { eventType: 5 })];
    const { id, entry } = await ingest(lines(records), { enableErrorDiagnostics: true, partialIngestionPercent: 5 });
    expect(entry.status).toBe('failed');
    expect(entry.metrics).toMatchObject({ inputRecordCount: 3, outputRecordCount: 0, failedRecordCount: 1 });
    expect(entry.errors[0]).toMatchObject({ code: 'INGEST-1212-400', description: expect.stringContaining('No rows were ingested') });
    expect(local.acceptedIds()).toEqual([]);
    const download = await call(local, { path: `/data/foundation/export/batches/${id}/failed`, headers: headers() });
    expect(download.json.data).toHaveLength(1);
    expect(local.stats().batches.failed).toBe(1);
  });

  test('without partial ingestion one bad record fails the batch; without diagnostics the error is INGEST-1211-400', async () => {
    const { entry } = await ingest(lines([event('ok'), event('bad', { eventType: 5 })]));
    expect(entry.status).toBe('failed');
    expect(entry.errors).toEqual([{ code: 'INGEST-1211-400', description: expect.stringContaining('error diagnostics') }]);
  });

  test('a multi-line JSON batch reads one JSON array per file', async () => {
    const { entry } = await ingest(JSON.stringify([event('m-1'), event('m-2')], null, 2), { inputFormat: { format: 'json', isMultiLineJson: true } });
    expect(entry.status).toBe('success');
    expect(entry.inputFormat).toEqual({ format: 'json', isMultiLineJson: true });
    expect(local.acceptedIds()).toEqual(['m-1', 'm-2']);
  });

  test('a batch completed without any record fails with the empty-file error', async () => {
    const created = await createBatch();
    await complete(created.json.id);
    await local.settled();
    const entry = (await catalog(created.json.id)).json[created.json.id];
    expect(entry.status).toBe('failed');
    expect(entry.errors[0].code).toBe('106');
  });

  test('a batch with no failures lists no failed files', async () => {
    const { id } = await ingest(lines([event('fine')]));
    const listing = await callConforming(local, { path: `/data/foundation/export/batches/${id}/failed`, headers: headers() });
    expect(listing.json).toEqual({ data: [], _page: { limit: 100, count: 0 } });
    expect((await call(local, { path: `/data/foundation/export/batches/${id}/failed?path=part-1.json`, headers: headers() })).status).toBe(404);
  });

  test('ABORT stops a batch before processing; REVERT takes a successful batch\'s events back out', async () => {
    const created = await createBatch();
    await upload(created.json.id, 'a.json', lines([event('aborted')]));
    expect((await complete(created.json.id, 'ABORT')).status).toBe(200);
    await local.settled();
    expect((await catalog(created.json.id)).json[created.json.id].status).toBe('aborted');
    expect(local.acceptedIds()).toEqual([]);

    const { id } = await ingest(lines([event('kept'), event('kept')]));
    expect(local.stats().duplicates).toBe(1);
    expect((await complete(id, 'REVERT')).status).toBe(200);
    expect((await catalog(id)).json[id].status).toBe('inactive');
    expect(local.acceptedIds()).toEqual([]);
    expect(local.stats().duplicates).toBe(0);
  });

  test('processing is asynchronous: a batch still processing can be aborted', async () => {
    const slow = await startAepLocal({ batchProcessingDelayMs: 10_000 });
    try {
      const tk = slow.issueToken();
      const h = platformHeaders(slow, tk);
      const created = await call(slow, { method: 'POST', path: '/data/foundation/import/batches', headers: { ...h, 'content-type': 'application/json' }, body: { datasetId: dataset, inputFormat: { format: 'json' } } });
      const id = created.json.id as string;
      await call(slow, { method: 'PUT', path: filePath(id, 'f.json'), headers: { ...h, 'content-type': 'application/octet-stream' }, body: lines([event('late')]) });
      await call(slow, { method: 'POST', path: `/data/foundation/import/batches/${id}?action=COMPLETE`, headers: h });
      expect((await call(slow, { path: `/data/foundation/catalog/batches/${id}`, headers: h })).json[id].status).toBe('processing');
      expect((await call(slow, { method: 'POST', path: `/data/foundation/import/batches/${id}?action=ABORT`, headers: h })).status).toBe(200);
      await slow.settled();
      expect((await call(slow, { path: `/data/foundation/catalog/batches/${id}`, headers: h })).json[id].status).toBe('aborted');
      expect(slow.acceptedIds()).toEqual([]);
    } finally {
      await slow.close();
    }
  });

  test.each([
    ['an unknown action', 'EXPLODE', 400],
    ['REVERT of a loading batch', 'REVERT', 400],
  ])('%s is refused', async (_case, action, status) => {
    const created = await createBatch();
    expect((await complete(created.json.id, action)).status).toBe(status);
  });
});

describe('large files', () => {
  const largePath = (id: string) => filePath(id, 'big.json');

  test('INITIALIZE, PATCH chunks with Content-Range in any order, HEAD shows the received range, COMPLETE assembles the file', async () => {
    const created = await createBatch();
    const id = created.json.id as string;
    const content = lines(Array.from({ length: 5 }, (_, i) => event(`big-${i}`)));
    const bytes = Buffer.from(content);
    const cut = Math.floor(bytes.length / 2);
    const init = await callConforming(local, { method: 'POST', path: `${largePath(id)}?action=INITIALIZE`, headers: jsonHeaders() });
    expect(init.status).toBe(201);
    const second = await callConforming(local, {
      method: 'PATCH',
      path: largePath(id),
      headers: { ...octet(), 'content-range': `bytes ${cut}-${bytes.length - 1}/${bytes.length}` },
      body: bytes.subarray(cut),
    });
    expect(second.status).toBe(200);
    const head = await call(local, { method: 'HEAD', path: largePath(id), headers: headers() });
    expect(head.status).toBe(200);
    expect(head.headers['range']).toBe('bytes=0-0');
    const early = await callConforming(local, { method: 'POST', path: `${largePath(id)}?action=COMPLETE`, headers: jsonHeaders() });
    expect(early.status).toBe(400);
    expect(early.json.detail).toContain(`bytes 0-${cut - 1} are missing`);
    const first = await callConforming(local, { method: 'PATCH', path: largePath(id), headers: { ...octet(), 'content-range': `bytes 0-${cut - 1}` }, body: bytes.subarray(0, cut) });
    expect(first.status).toBe(200);
    expect(first.headers['range']).toBe(`bytes=0-${bytes.length - 1}`);
    const done = await callConforming(local, { method: 'POST', path: `${largePath(id)}?action=COMPLETE`, headers: jsonHeaders() });
    expect(done.status).toBe(201);
    expect(done.json).toEqual({ name: 'big.json', sizeInBytes: bytes.length });
    await complete(id);
    await local.settled();
    expect(local.acceptedIds()).toEqual(['big-0', 'big-1', 'big-2', 'big-3', 'big-4']);
  });

  test('a chunk whose Content-Range disagrees with its size, and completing a batch with an open large file, are refused', async () => {
    const created = await createBatch();
    const id = created.json.id as string;
    await call(local, { method: 'POST', path: `${largePath(id)}?action=INITIALIZE`, headers: jsonHeaders() });
    const wrong = await call(local, { method: 'PATCH', path: largePath(id), headers: { ...octet(), 'content-range': 'bytes 0-99' }, body: 'short' });
    expect(wrong.status).toBe(400);
    const missingRange = await call(local, { method: 'PATCH', path: largePath(id), headers: octet(), body: 'short' });
    expect(missingRange.status).toBe(400);
    expect((await complete(id)).status).toBe(400);
  });

  test('PATCH to a file never initialized is 404', async () => {
    const created = await createBatch();
    const reply = await call(local, { method: 'PATCH', path: largePath(created.json.id), headers: { ...octet(), 'content-range': 'bytes 0-1' }, body: 'ab' });
    expect(reply.status).toBe(404);
  });
});

describe('batch ingestion refusals', () => {
  test.each([
    ['an unknown dataset', { datasetId: 'nope' }, 'Dataset nope not found'],
    ['no datasetId', { datasetId: undefined }, 'datasetId is required'],
    ['no inputFormat', { inputFormat: undefined }, 'inputFormat.format is required'],
    ['an unknown format', { inputFormat: { format: 'xml' } }, 'must be one of JSON, Parquet, CSV'],
    ['Parquet', { inputFormat: { format: 'Parquet' } }, 'aep-local reads JSON only'],
    ['a partial threshold over 100', { partialIngestionPercent: 150 }, 'partialIngestionPercent'],
  ])('creating a batch with %s is 400', async (_case, body, detail) => {
    const reply = await createBatch(body);
    expect(reply.status).toBe(400);
    expect(reply.json.detail).toContain(detail);
  });

  test('creating a batch without Content-Type gets the gateway\'s content-type error', async () => {
    const reply = await call(local, { method: 'POST', path: '/data/foundation/import/batches', headers: headers(), body: { datasetId: dataset, inputFormat: { format: 'json' } } });
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({ type: '/placeholder/type/uri', status: 400, title: 'BadRequestError', detail: 'A valid content-type must be specified' });
  });

  test('a file upload as JSON is 415, to an unknown batch 404, to another dataset 404, after COMPLETE 400', async () => {
    const created = await createBatch();
    const id = created.json.id as string;
    expect((await call(local, { method: 'PUT', path: filePath(id, 'a.json'), headers: jsonHeaders(), body: '{}' })).status).toBe(415);
    expect((await call(local, { method: 'PUT', path: filePath('01NOPE', 'a.json'), headers: octet(), body: '{}' })).status).toBe(404);
    expect((await call(local, { method: 'PUT', path: filePath(id, 'a.json', localDefaults.datasets.tracking), headers: octet(), body: '{}' })).status).toBe(404);
    await complete(id);
    expect((await call(local, { method: 'PUT', path: filePath(id, 'b.json'), headers: octet(), body: '{}' })).status).toBe(400);
  });

  test('Catalog and Data Access answer 404 for an unknown batch', async () => {
    expect((await catalog('01UNKNOWN')).status).toBe(404);
    expect((await callConforming(local, { path: '/data/foundation/export/batches/01UNKNOWN/failed', headers: headers() })).status).toBe(404);
  });
});

describe('the platform.adobe.io gateway', () => {
  const path = '/data/foundation/catalog/batches/X';
  test.each([
    ['no token', { authorization: undefined }, 403, { error_code: '403010', message: 'Oauth token is missing.' }],
    ['a bad token', { authorization: 'Bearer forged' }, 401, { error_code: '401013', message: 'Oauth token is not valid' }],
    ['no API key', { 'x-api-key': undefined }, 403, { error_code: '403000', message: 'Api Key is required' }],
    ['a wrong API key', { 'x-api-key': 'other' }, 403, { error_code: '403003', message: 'Api Key is invalid' }],
    ['no org header', { 'x-gw-ims-org-id': undefined }, 400, { error_code: '400003', message: 'Missing header' }],
    ['another org', { 'x-gw-ims-org-id': 'OTHER@AdobeOrg' }, 403, { error_code: '403025', message: 'Profile is not valid' }],
    ['no sandbox', { 'x-sandbox-name': undefined }, 400, { error_code: '400003', message: 'Missing header' }],
  ])('%s is refused with %s and the gateway body', async (_case, change, status, body) => {
    const h: Record<string, string> = { ...headers() };
    for (const [k, v] of Object.entries(change)) {
      if (v === undefined) delete h[k];
      else h[k] = v;
    }
    const reply = await callConforming(local, { path, headers: h });
    expect(reply.status).toBe(status);
    expect(reply.json).toEqual(body);
  });

  test('another sandbox is forbidden', async () => {
    const reply = await call(local, { path, headers: headers({ 'x-sandbox-name': 'dev' }) });
    expect(reply.status).toBe(403);
  });
});
