import { describe, expect, test } from 'vitest';
import { localDefaults } from '../../src/aep-local/index.js';
import { checkRequest, checkResponse, errata, findOperation } from '../helpers/openapi-contract.js';
import { envelope, event } from './support.js';

const dcsBatch = `/collection/batch/${localDefaults.inletId}`;
const goodDcsHeaders = { 'content-type': 'application/json', 'x-sandbox-name': 'prod', authorization: 'Bearer t' };

describe('the OpenAPI contract checker', () => {
  test.each([
    ['POST', '/collection/abc', 'sendMessage'],
    ['POST', '/collection/batch/abc', 'postBatchOfStreamingMessages'],
    ['POST', '/data/foundation/import/batches', 'createBatch'],
    ['PUT', '/data/foundation/import/batches/B/datasets/D/files/dir/part-1.json', 'uploadSmallFile'],
    ['PATCH', '/data/foundation/import/batches/B/datasets/D/files/big.json', 'uploadLargeFilePart'],
    ['POST', '/data/foundation/import/batches/B/datasets/D/files/big.json?action=INITIALIZE', 'completeLargeFileUpload'],
    ['HEAD', '/data/foundation/import/batches/B/datasets/D/files/big.json', 'getLargeFileStatus'],
    ['POST', '/data/foundation/import/batches/B?action=COMPLETE', 'completeBatch'],
    ['GET', '/data/foundation/catalog/batches/B', 'retrieveBatch'],
    ['GET', '/data/foundation/export/batches/B/failed', 'retrieveFailedBatch'],
    ['GET', '/data/foundation/schemaregistry/tenant/schemas/x', 'retrieveSchema'],
  ])('finds the operation of %s %s', (method, url, operationId) => {
    expect(findOperation(method, `https://platform.adobe.io${url}`)?.operationId).toBe(operationId);
  });

  test('a file path with folders is one filePath parameter', () => {
    expect(findOperation('PUT', '/data/foundation/import/batches/B/datasets/D/files/a/b/c.json')?.pathParams).toEqual({ batchId: 'B', datasetId: 'D', filePath: 'a/b/c.json' });
  });

  test('a well-formed DCS batch request conforms', () => {
    expect(checkRequest({ method: 'POST', url: dcsBatch, headers: goodDcsHeaders, body: { messages: [envelope(event('x'))] } })).toEqual([]);
  });

  test('a DCS request without x-sandbox-name or with a message missing header.flowId is flagged', () => {
    const { 'x-sandbox-name': _drop, ...headers } = goodDcsHeaders;
    const problems = checkRequest({ method: 'POST', url: dcsBatch, headers, body: { messages: [envelope(event('x'), { flowId: undefined })] } });
    expect(problems).toEqual(expect.arrayContaining(['header x-sandbox-name: required', expect.stringContaining("body/messages/0/header: must have required property 'flowId'")]));
  });

  test('a Content-Type outside the declared enum is flagged, parameters after ";" are ignored', () => {
    expect(checkRequest({ method: 'POST', url: dcsBatch, headers: { ...goodDcsHeaders, 'content-type': 'application/json; charset=utf-8' }, body: { messages: [] } })).toEqual([]);
    expect(checkRequest({ method: 'POST', url: dcsBatch, headers: { ...goodDcsHeaders, 'content-type': 'text/plain' }, body: { messages: [] } })).toEqual([
      expect.stringContaining('header Content-Type: must be equal to one of the allowed values'),
      'body: Content-Type text/plain is not one of application/json',
    ]);
  });

  test('the create-batch format enum is case-sensitive as the spec writes it', () => {
    const headers = { authorization: 'Bearer t', 'x-api-key': 'k', 'x-gw-ims-org-id': 'o', 'x-sandbox-name': 'prod', 'content-type': 'application/json' };
    const url = '/data/foundation/import/batches';
    expect(checkRequest({ method: 'POST', url, headers, body: { datasetId: 'd', inputFormat: { format: 'JSON' } } })).toEqual([]);
    expect(checkRequest({ method: 'POST', url, headers, body: { datasetId: 'd', inputFormat: { format: 'json' } } })).toEqual([
      expect.stringContaining('body/inputFormat/format: must be equal to one of the allowed values'),
    ]);
  });

  test('a response with an undeclared status or a body of the wrong shape is flagged', () => {
    const req = { method: 'POST', url: dcsBatch };
    expect(checkResponse(req, { status: 202 })).toEqual([expect.stringContaining('status 202 is not declared')]);
    expect(checkResponse(req, { status: 207, body: { responses: 'all fine' } })).toEqual([expect.stringContaining('body/responses: must be array')]);
    expect(checkResponse(req, { status: 207, body: JSON.stringify({ inletId: 'i', responses: [{ xactionId: 'x' }] }) })).toEqual([]);
  });

  test('the receivedTimeMs slip is corrected: epoch milliseconds pass', () => {
    const req = { method: 'POST', url: '/collection/x' };
    expect(checkResponse(req, { status: 200, body: { inletId: 'x', xactionId: 'a', receivedTimeMs: 1_755_000_000_000 } })).toEqual([]);
    expect(checkResponse(req, { status: 200, body: { receivedTimeMs: 'soon' } })).toEqual([expect.stringContaining('body/receivedTimeMs: must be integer')]);
  });

  test('gateway statuses are accepted on platform operations but not on DCS, whose file lists its own', () => {
    expect(checkResponse({ method: 'GET', url: '/data/foundation/catalog/batches/B' }, { status: 401 })).toEqual([]);
    expect(checkResponse({ method: 'POST', url: '/data/foundation/import/batches' }, { status: 403 })).toEqual([]);
    expect(checkResponse({ method: 'POST', url: dcsBatch }, { status: 406 })).toEqual([expect.stringContaining('not declared')]);
  });

  test('every erratum says why and names its kind', () => {
    for (const e of errata) {
      expect(['slip', 'adobe-doc', 'unconfirmed']).toContain(e.kind);
      expect(e.what.length).toBeGreaterThan(20);
    }
    expect(errata.filter((e) => e.kind === 'slip').map((e) => e.operationId).sort()).toEqual(['completeBatch', 'createBatch', 'sendMessage', 'uploadLargeFilePart']);
  });
});
