import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { localDefaults, startAepLocal, type AepLocal } from '../../src/aep-local/index.js';
import { batchPath, call, callConforming, dcsHeaders, envelope, event, token } from './support.js';

let local: AepLocal;
let accessToken: string;

beforeAll(async () => {
  local = await startAepLocal();
  accessToken = await token(local);
});
afterAll(() => local.close());
beforeEach(() => local.reset());

const post = (body: unknown, headers = dcsHeaders(accessToken), path = batchPath(local)) =>
  callConforming(local, { method: 'POST', path, headers, body });

describe('DCS batch endpoint', () => {
  test('a valid batch is answered 207 with one xactionId per message, and the events are stored in order', async () => {
    const reply = await post({ messages: [envelope(event('a-1')), envelope(event('a-2'), { datasetId: localDefaults.datasets.tracking })] });
    expect(reply.status).toBe(207);
    expect(reply.json.inletId).toBe(local.inletId);
    expect(typeof reply.json.batchId).toBe('string');
    expect(reply.json.receivedTimeMs).toBeGreaterThan(1_500_000_000_000);
    expect(reply.json.responses).toEqual([{ xactionId: `${reply.json.batchId}:0` }, { xactionId: `${reply.json.batchId}:1` }]);
    expect(local.acceptedIds()).toEqual(['a-1', 'a-2']);
    expect(local.accepted().map((e) => e.datasetId)).toEqual([localDefaults.datasets.feedback, localDefaults.datasets.tracking]);
    expect(local.accepted()[0]!.event).toEqual(event('a-1'));
  });

  test('the same _id sent twice is stored twice and counted as a duplicate, like the data lake', async () => {
    await post({ messages: [envelope(event('dup'))] });
    await post({ messages: [envelope(event('dup')), envelope(event('other'))] });
    expect(local.acceptedIds()).toEqual(['dup', 'dup', 'other']);
    expect(local.stats().duplicates).toBe(1);
  });

  test('an event that breaks the XDM schema gets a per-message 400 naming the violations; its neighbours are accepted', async () => {
    const bad = event('bad', { eventType: 5 });
    const reply = await post({ messages: [envelope(event('ok-1')), envelope(bad), envelope(event('ok-2'))] });
    expect(reply.status).toBe(207);
    const [first, second, third] = reply.json.responses;
    expect(first).toHaveProperty('xactionId');
    expect(third).toHaveProperty('xactionId');
    expect(second).toEqual({ statusCode: 400, message: expect.stringContaining('Message is invalid') });
    expect(second.message).toContain(`inletId: [${local.inletId}] imsOrgId: [${localDefaults.imsOrgId}]`);
    expect(second.message).toContain('/eventType: must be string');
    expect(local.acceptedIds()).toEqual(['ok-1', 'ok-2']);
    expect(local.stats().messages).toEqual({ received: 3, accepted: 2, rejected: 1 });
  });

  test.each([
    ['no header', { body: envelope(event('x')).body }, "The 'header' field is mandatory."],
    ['no body', { header: envelope(event('x')).header }, "The 'body' field is mandatory."],
    ['no flowId', envelope(event('x'), { flowId: undefined }), "The 'header.flowId' field is mandatory."],
    ['no datasetId', envelope(event('x'), { datasetId: undefined }), "The 'header.datasetId' field is mandatory."],
    ['another org', envelope(event('x'), { imsOrgId: 'OTHER@AdobeOrg' }), 'Message has an absent or wrong ims org in the header'],
    ['an unknown dataset', envelope(event('x'), { datasetId: 'nope' }), 'Message has an unknown datasetId [nope]'],
    ['another flow', envelope(event('x'), { flowId: 'f' }), 'Message has an unknown flowId [f] for this inlet'],
    [
      'xdmMeta.schemaRef unlike the header',
      envelope(event('x'), {}, { xdmMeta: { schemaRef: { id: 'https://ns.adobe.com/other/schemas/1', contentType: localDefaults.schemaContentType } } }),
      'Message has unknown xdm format',
    ],
    [
      'a schema that is not the dataset\'s',
      envelope(event('x'), { schemaRef: { id: 'https://ns.adobe.com/x/schemas/2', contentType: localDefaults.schemaContentType } }, {
        xdmMeta: { schemaRef: { id: 'https://ns.adobe.com/x/schemas/2', contentType: localDefaults.schemaContentType } },
      }),
      'Message has unknown xdm format',
    ],
    ['no xdmEntity', envelope(undefined), 'Message has unknown xdm format'],
  ])('a message with %s is refused alone with DCS\'s message', async (_case, message, expected) => {
    const reply = await post({ messages: [message, envelope(event('fine'))] });
    expect(reply.status).toBe(207);
    expect(reply.json.responses[0]).toEqual({ statusCode: 400, message: expect.stringContaining(expected) });
    expect(local.acceptedIds()).toEqual(['fine']);
  });

  test('failed entries can use the Kafka-sink fixture shape: `status` and an xactionId ending in -index', async () => {
    const other = await startAepLocal({ dcsFailureKey: 'status', dcsFailureXactionId: true });
    try {
      const t = await token(other);
      const reply = await callConforming(other, { method: 'POST', path: batchPath(other), headers: dcsHeaders(t), body: { messages: [envelope(event('ok')), envelope({ _id: 'bad' })] } });
      expect(reply.json.responses[1]).toEqual({ xactionId: expect.stringMatching(/^[0-9a-f-]{36}-1$/), status: 400, message: expect.any(String) });
      expect(reply.json.responses[1]).not.toHaveProperty('statusCode');
    } finally {
      await other.close();
    }
  });

  test('a gzip-encoded batch is decoded', async () => {
    const reply = await call(local, {
      method: 'POST',
      path: batchPath(local),
      headers: { ...dcsHeaders(accessToken), 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify({ messages: [envelope(event('gz'))] })),
    });
    expect(reply.status).toBe(207);
    expect(local.acceptedIds()).toEqual(['gz']);
  });
});

describe('DCS request-level refusals', () => {
  test('no Authorization on an authenticated inlet is a 401 whose status is a string, as Adobe documents', async () => {
    const { authorization: _drop, ...headers } = dcsHeaders(accessToken);
    const reply = await post({ messages: [envelope(event('x'))] }, headers);
    expect(reply.status).toBe(401);
    expect(reply.json).toMatchObject({
      type: 'https://ns.adobe.com/adobecloud/problem/data-collection-service-authorization',
      status: '401',
      title: 'Authorization',
      report: { message: expect.stringContaining('Ims service token is empty') },
    });
    expect(local.acceptedIds()).toEqual([]);
  });

  test('a token IMS never issued is refused with 401', async () => {
    const reply = await post({ messages: [envelope(event('x'))] }, dcsHeaders('made-up-token'));
    expect(reply.status).toBe(401);
    expect(reply.json.report.message).toContain('Ims service token is invalid');
  });

  test('an unauthenticated inlet takes messages without a token', async () => {
    const open = await startAepLocal({ inlets: [{ id: 'a'.repeat(64), authenticated: false }] });
    try {
      const reply = await callConforming(open, {
        method: 'POST',
        path: `/collection/batch/${'a'.repeat(64)}`,
        headers: { 'content-type': 'application/json', 'x-sandbox-name': 'prod' },
        body: { messages: [envelope(event('anon'), { flowId: 'any-flow' })] },
      });
      expect(reply.status).toBe(207);
      expect(open.acceptedIds()).toEqual(['anon']);
    } finally {
      await open.close();
    }
  });

  test('a missing x-sandbox-name is refused (the OpenAPI file requires it) and another sandbox is forbidden', async () => {
    const { 'x-sandbox-name': _drop, ...headers } = dcsHeaders(accessToken);
    expect((await post({ messages: [envelope(event('x'))] }, headers)).status).toBe(400);
    expect((await post({ messages: [envelope(event('x'))] }, { ...headers, 'x-sandbox-name': 'dev' })).status).toBe(403);
    expect(local.acceptedIds()).toEqual([]);
  });

  test('a body that is not application/json is refused with 400', async () => {
    const reply = await call(local, { method: 'POST', path: batchPath(local), headers: { ...dcsHeaders(accessToken), 'content-type': 'text/plain' }, body: '{}' });
    expect(reply.status).toBe(400);
    expect(reply.json.report.message).toContain('Content-Type must be application/json');
  });

  test('a request over the size limit is answered 413 and nothing is stored', async () => {
    const small = await startAepLocal({ maxRequestBytes: 2_000 });
    try {
      const t = await token(small);
      const messages = Array.from({ length: 5 }, (_, i) => envelope(event(`big-${i}`)));
      const reply = await callConforming(small, { method: 'POST', path: batchPath(small), headers: dcsHeaders(t), body: { messages } });
      expect(reply.status).toBe(413);
      expect(small.acceptedIds()).toEqual([]);
      const fits = await callConforming(small, { method: 'POST', path: batchPath(small), headers: dcsHeaders(t), body: { messages: messages.slice(0, 1) } });
      expect(fits.status).toBe(207);
    } finally {
      await small.close();
    }
  });

  test('the default limit is 1 MB: a 0.97 MB batch is taken, a 1.1 MB one gets 413', async () => {
    const messages = Array.from({ length: 700 }, (_, i) => envelope(event(`m-${i}`)));
    const under = JSON.stringify({ messages: messages.slice(0, 600) });
    const over = JSON.stringify({ messages });
    expect(Buffer.byteLength(under)).toBeLessThan(1_048_576);
    expect(Buffer.byteLength(over)).toBeGreaterThan(1_048_576);
    expect((await post(under)).status).toBe(207);
    expect((await post(over)).status).toBe(413);
    expect(local.acceptedIds()).toHaveLength(600);
  });

  test('an unknown inlet is answered 404', async () => {
    const reply = await post({ messages: [envelope(event('x'))] }, dcsHeaders(accessToken), `/collection/batch/${'0'.repeat(64)}`);
    expect(reply.status).toBe(404);
  });

  test.each([
    ['not JSON', '{"messages": ['],
    ['without messages', { events: [] }],
    ['with no message', { messages: [] }],
  ])('a batch body %s is refused with 400 Invalid XDM Message Format', async (_case, body) => {
    const reply = await post(body);
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({ type: 'http://ns.adobe.com/adobecloud/problem/data-collection-service/inlet', status: 400 });
  });
});

describe('DCS single-message endpoint', () => {
  const single = () => `/collection/${local.inletId}`;

  test('a valid message is answered 200 with xactionId and syncValidation skipped', async () => {
    const reply = await post(envelope(event('s-1')), dcsHeaders(accessToken), single());
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ inletId: local.inletId, xactionId: expect.stringMatching(/^\d+:\d{4}:\d+$/), receivedTimeMs: expect.any(Number), syncValidation: { skipped: true } });
    expect(local.acceptedIds()).toEqual(['s-1']);
  });

  test('with syncValidation=true a valid message passes', async () => {
    const reply = await post(envelope(event('s-2')), dcsHeaders(accessToken), `${single()}?syncValidation=true`);
    expect(reply.status).toBe(200);
    expect(reply.json.syncValidation).toEqual({ status: 'pass' });
  });

  test('with syncValidation=true an invalid message gets 400 with the _streamingValidation report', async () => {
    const reply = await post(envelope(event('s-3', { eventType: 5, timestamp: 'yesterday' })), dcsHeaders(accessToken), `${single()}?syncValidation=true`);
    expect(reply.status).toBe(400);
    expect(reply.json.title).toBe('Invalid XDM Message Format');
    expect(reply.json.report.message).toContain('Message is invalid');
    const [report] = reply.json.report.cause._streamingValidation;
    expect(report).toMatchObject({ schemaLocation: '#', pointerToViolation: '#', message: '2 schema violations found' });
    expect(report.causingExceptions).toEqual(
      expect.arrayContaining([
        { schemaLocation: '#/properties/eventType', pointerToViolation: '#/eventType', causingExceptions: [], keyword: 'type', message: expect.stringContaining('must be string') },
        expect.objectContaining({ pointerToViolation: '#/timestamp', keyword: 'format' }),
      ]),
    );
    expect(local.acceptedIds()).toEqual([]);
  });

  test('without syncValidation an invalid message is answered 200 but not stored (it lands in a failed batch)', async () => {
    const reply = await post(envelope(event('s-4', { eventType: 5 })), dcsHeaders(accessToken), single());
    expect(reply.status).toBe(200);
    expect(local.acceptedIds()).toEqual([]);
    expect(local.stats().messages.rejected).toBe(1);
  });

  test('a broken envelope is refused with 400 at once', async () => {
    const reply = await post(envelope(event('s-5'), { imsOrgId: 'OTHER@AdobeOrg' }), dcsHeaders(accessToken), single());
    expect(reply.status).toBe(400);
    expect(reply.json.report.message).toContain('Message has an absent or wrong ims org in the header');
  });
});
