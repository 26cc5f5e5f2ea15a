import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localDefaults, startAepLocal, type AepLocal } from '../../src/aep-local/index.js';
import { createValidator, tenantSchemaToShort } from '../../src/validate/index.js';
import { batchPath, call, callConforming, dcsHeaders, envelope, event, platformHeaders } from './support.js';

const FULL = 'application/vnd.adobe.xed-full+json; version=1';
let local: AepLocal;
let t: string;

beforeAll(async () => {
  local = await startAepLocal();
  t = local.issueToken();
});
afterAll(() => local.close());

const lookup = (id: string, accept: string | undefined, target = local, token = t) =>
  callConforming(target, {
    path: `/data/foundation/schemaregistry/tenant/schemas/${id}`,
    headers: platformHeaders(target, token, accept === undefined ? {} : { accept }),
  });

describe('Schema Registry lookup', () => {
  test('the tenant schema is served resolved by its meta:altId and by its URL-encoded $id', async () => {
    const byAlt = await lookup(localDefaults.schemaAltId, FULL);
    const byId = await lookup(encodeURIComponent(localDefaults.schemaId), FULL);
    expect(byAlt.status).toBe(200);
    expect(byId.json).toEqual(byAlt.json);
    expect(byAlt.json).toMatchObject({
      $id: localDefaults.schemaId,
      'meta:altId': localDefaults.schemaAltId,
      'meta:resourceType': 'schemas',
      'meta:class': 'https://ns.adobe.com/xdm/context/experienceevent',
      'meta:containerId': 'tenant',
      'meta:tenantNamespace': `_${localDefaults.tenantId}`,
      imsOrg: localDefaults.imsOrgId,
    });
    expect(byAlt.json.properties._id).toMatchObject({ type: 'string', format: 'uri-reference', 'meta:xdmField': '@id', 'meta:xdmType': 'string' });
    expect(byAlt.json.properties.timestamp['meta:xdmType']).toBe('date-time');
    expect(byAlt.json.properties._experience['meta:xedConverted']).toBe(true);
    expect(JSON.stringify(byAlt.json)).not.toContain('"additionalProperties":false');
  });

  test('what the registry serves converts back into a validator that accepts the fixtures and rejects a bad status', async () => {
    const served = (await lookup(localDefaults.schemaAltId, FULL)).json;
    const validator = createValidator({ schema: tenantSchemaToShort(served) });
    expect(validator.validate(event('v-1') as never)).toBeNull();
    const bad = event('v-2');
    (bad['_experience'] as any).customerJourneyManagement.messageDeliveryfeedback.feedbackStatus = 'hard_bounce';
    expect(validator.validate(bad as never)).toEqual([expect.stringContaining('feedbackStatus: must be equal to one of the allowed values')]);
  });

  test('an Accept without a version is refused with XDM-1007-400', async () => {
    for (const accept of [undefined, 'application/vnd.adobe.xed-full+json', 'application/json']) {
      const reply = await lookup(localDefaults.schemaAltId, accept);
      expect(reply.status).toBe(400);
      expect(reply.json).toMatchObject({
        type: 'http://ns.adobe.com/aep/errors/XDM-1007-400',
        title: 'Accept header invalid',
        status: 400,
        report: { registryRequestId: expect.any(String), timestamp: expect.stringMatching(/^\d\d-\d\d-\d{4} \d\d:\d\d:\d\d$/), 'detailed-message': expect.stringContaining('Version should be specified') },
      });
    }
  });

  test('an unknown schema, another container or another version is XDM-1012-404', async () => {
    const unknown = await lookup('_localtenant.schemas.nope', FULL);
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({
      type: 'http://ns.adobe.com/aep/errors/XDM-1012-404',
      title: 'Resource Not Found',
      status: 404,
      detail: 'Requested resource _localtenant.schemas.nope with version 1 is not found',
    });
    expect((await lookup(localDefaults.schemaAltId, 'application/vnd.adobe.xed-full+json; version=2')).status).toBe(404);
    const global = await callConforming(local, {
      path: `/data/foundation/schemaregistry/global/schemas/${localDefaults.schemaAltId}`,
      headers: platformHeaders(local, t, { accept: FULL }),
    });
    expect(global.status).toBe(404);
  });

  test('the unresolved form keeps only references, notext drops titles and descriptions, full-desc keeps descriptions', async () => {
    const raw = (await lookup(localDefaults.schemaAltId, 'application/vnd.adobe.xed+json; version=1')).json;
    expect(raw).not.toHaveProperty('properties');
    expect(raw.allOf[0]).toEqual({ $ref: 'https://ns.adobe.com/xdm/context/experienceevent', type: 'object', 'meta:xdmType': 'object' });
    const notext = (await lookup(localDefaults.schemaAltId, 'application/vnd.adobe.xed-full-notext+json; version=1')).json;
    expect(notext.properties._id).not.toHaveProperty('title');
    expect(notext.properties._id).not.toHaveProperty('description');
    expect(notext).not.toHaveProperty('title');
    const desc = (await lookup(localDefaults.schemaAltId, 'application/vnd.adobe.xed-full-desc+json; version=1')).json;
    expect(desc.properties._id).not.toHaveProperty('title');
    expect(desc.properties._id.description).toEqual(expect.any(String));
  });

  test('the gateway guards the registry like every platform route', async () => {
    const reply = await call(local, { path: `/data/foundation/schemaregistry/tenant/schemas/${localDefaults.schemaAltId}`, headers: { accept: FULL } });
    expect(reply.status).toBe(403);
    expect(reply.json.error_code).toBe('403010');
  });
});

describe('a configured tenant schema', () => {
  const fixture = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'xdm', 'tenant-schema.xed-full.json'), 'utf8')) as Record<string, unknown>;

  test('is served as given, datasets point to it and streamed events are validated against it', async () => {
    const acme = await startAepLocal({ tenantSchema: fixture });
    try {
      const tk = acme.issueToken();
      const served = await lookup(encodeURIComponent(String(fixture['$id'])), FULL, acme, tk);
      expect(served.json).toEqual(fixture);
      expect(acme.datasets.every((d) => d.schemaRef.id === fixture['$id'])).toBe(true);
      const ref = { id: String(fixture['$id']), contentType: localDefaults.schemaContentType };
      const delivered = event('acme-delivered');
      (delivered['_experience'] as any).customerJourneyManagement.messageDeliveryfeedback.feedbackStatus = 'delivered';
      const reply = await call(acme, {
        method: 'POST',
        path: batchPath(acme),
        headers: dcsHeaders(tk),
        body: { messages: [envelope(event('acme-bounce'), { schemaRef: ref }, { xdmMeta: { schemaRef: ref } }), envelope(delivered, { schemaRef: ref }, { xdmMeta: { schemaRef: ref } })] },
      });
      expect(reply.json.responses[0]).toHaveProperty('xactionId');
      // The fixture's older enum lacks "delivered", as some tenants' schemas do.
      expect(reply.json.responses[1]).toMatchObject({ statusCode: 400, message: expect.stringContaining('feedbackStatus') });
      expect(acme.acceptedIds()).toEqual(['acme-bounce']);
    } finally {
      await acme.close();
    }
  });
});
