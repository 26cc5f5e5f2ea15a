import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { XdmEvent } from '../../src/core/types.js';
import { createValidator, loadDefaultSchema } from '../../src/validate/index.js';
import { tenantCapabilities, tenantSchemaToShort } from '../../src/validate/tenant.js';
import { cjm, FIXTURES, fixtureEvent, readJson } from './fixtures.js';

const registryAnswer = readJson<Record<string, unknown>>(join(FIXTURES, 'tenant-schema.xed-full.json'));
const tenantSchema = tenantSchemaToShort(registryAnswer);
const tenantValidator = createValidator({ schema: tenantSchema });
const defaultValidator = createValidator();
const P = '/_experience/customerJourneyManagement';
const OLD_STATUSES = ['error', 'exclude', 'sent', 'bounce', 'delay', 'duplicate', 'denylist'];

/** A feedback event as the tenant's dataset expects it: with ACME's own fields. */
function acmeEvent(status = 'sent'): XdmEvent {
  const event = fixtureEvent('email-hard-bounce');
  const feedback = cjm(event).messageDeliveryfeedback;
  feedback.feedbackStatus = status;
  delete feedback.messageFailure;
  event['_acme'] = {
    feedbackSource: 'ovo-feedback',
    providerMessageId: 'msg-0001',
    costMicros: 1250,
    campaign: { code: 'SPRING-26', region: 'au' },
  };
  return event;
}

const tmp = mkdtempSync(join(tmpdir(), 'xdm-tenant-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('tenantSchemaToShort', () => {
  it('turns the registry answer into a schema AJV compiles, keeping fields, enums and annotations', () => {
    const props = tenantSchema.properties ?? {};
    expect(Object.keys(props)).toEqual(expect.arrayContaining(['_id', 'timestamp', '_experience', '_acme']));
    expect(tenantSchema['meta:tenantNamespace']).toBe('_acme');
    expect(tenantSchema.$id).toBe(registryAnswer['$id']);
    const text = JSON.stringify(tenantSchema);
    for (const dropped of ['meta:registryMetadata', 'meta:sandboxId', 'imsOrg', 'allOf', '"$ref"', 'meta:extends']) {
      expect(text).not.toContain(dropped);
    }
    expect(text).toContain('"meta:xdmField":"@id"');
    expect(props['_acme']?.additionalProperties).toBe(false);
  });

  it('produces a schema under which a tenant event with _acme fields and status sent is valid', () => {
    expect(tenantValidator.validate(acmeEvent('sent'))).toBeNull();
  });

  it('rejects delivered, which the tenant enum lacks, while the default schema accepts it', () => {
    const event = acmeEvent('delivered');
    expect(tenantValidator.validate(event)).toEqual([
      `${P}/messageDeliveryfeedback/feedbackStatus: must be equal to one of the allowed values: ${OLD_STATUSES.join(', ')} (got "delivered")`,
    ]);
    const withoutTenantFields = fixtureEvent('email-hard-bounce');
    cjm(withoutTenantFields).messageDeliveryfeedback.feedbackStatus = 'delivered';
    delete cjm(withoutTenantFields).messageDeliveryfeedback.messageFailure;
    expect(defaultValidator.validate(withoutTenantFields)).toBeNull();
  });

  it('validates the tenant fields themselves: enums, 32-bit ints and undefined keys', () => {
    const event = acmeEvent();
    const acme = event['_acme'] as Record<string, unknown>;
    acme['costMicros'] = 3_000_000_000;
    (acme['campaign'] as Record<string, unknown>)['region'] = 'us';
    acme['colour'] = 'blue';
    expect(tenantValidator.validate(event)?.sort()).toEqual(
      [
        '/_acme/colour: is not a field of the schema (misspelt or undefined key)',
        '/_acme/costMicros: must be <= 2147483647',
        '/_acme/campaign/region: must be equal to one of the allowed values: au, nz, uk (got "us")',
      ].sort(),
    );
  });

  it('makes the default schema reject the tenant namespace it does not know', () => {
    expect(defaultValidator.validate(acmeEvent())).toEqual(['/_acme: is not a field of the schema (misspelt or undefined key)']);
  });

  it('leaves undefined keys alone when asked for an open schema', () => {
    const open = createValidator({ schema: tenantSchemaToShort(registryAnswer, { closed: false }) });
    const event = acmeEvent();
    (event['_acme'] as Record<string, unknown>)['colour'] = 'blue';
    expect(open.validate(event)).toBeNull();
  });

  it('explains what is wrong with an answer it cannot use', () => {
    expect(() => tenantSchemaToShort([] as unknown as object)).toThrow('tenant schema: expected a JSON object');
    const { properties: _dropped, ...unresolved } = registryAnswer;
    expect(() => tenantSchemaToShort(unresolved)).toThrow(/xed-full\+json; version=1/);
  });
});

describe('tenantCapabilities', () => {
  it('finds the tenant feedbackStatus enum without delivered and the tenant namespace', () => {
    const caps = tenantCapabilities(tenantSchema);
    expect(caps).toEqual({ feedbackStatuses: OLD_STATUSES, tenantNamespace: '_acme' });
    expect(caps.feedbackStatuses).not.toContain('delivered');
  });

  it('reads the registry answer directly too', () => {
    expect(tenantCapabilities(registryAnswer)).toEqual({ feedbackStatuses: OLD_STATUSES, tenantNamespace: '_acme' });
  });

  it('reports the full enum and no tenant for the default schema', () => {
    const caps = tenantCapabilities(loadDefaultSchema());
    expect(caps.feedbackStatuses).toContain('delivered');
    expect(caps.tenantNamespace).toBeUndefined();
  });

  it('finds the tenant namespace from the _<tenant> key when the annotation is missing', () => {
    const { ['meta:tenantNamespace']: _dropped, ...rest } = tenantSchema;
    expect(tenantCapabilities(rest).tenantNamespace).toBe('_acme');
  });

  it('says undefined when feedbackStatus has no hard enum (any status is accepted)', () => {
    const copy = structuredClone(tenantSchema) as Record<string, any>;
    const status = copy['properties']._experience.properties.customerJourneyManagement.properties.messageDeliveryfeedback.properties.feedbackStatus;
    delete status.enum;
    expect(tenantCapabilities(copy).feedbackStatuses).toBeUndefined();
  });
});

describe('the tenant fixture', () => {
  it('is what build-tenant-fixture.mjs makes from the committed generated schema', () => {
    const out = join(tmp, 'tenant.json');
    execFileSync(process.execPath, [join(FIXTURES, 'build-tenant-fixture.mjs'), out]);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(FIXTURES, 'tenant-schema.xed-full.json'), 'utf8'));
  });
});

describe('createValidator with a tenant schema', () => {
  it('accepts the raw registry answer and converts it itself', () => {
    const raw = createValidator({ schema: registryAnswer });
    expect(raw.validate(acmeEvent('sent'))).toBeNull();
    expect(raw.validate(acmeEvent('delivered'))?.[0]).toMatch(/feedbackStatus: must be equal to one of the allowed values: error, exclude, sent, bounce, delay, duplicate, denylist \(got "delivered"\)$/);
  });

  it('names the schema when it cannot compile it', () => {
    expect(() => createValidator({ schema: { $id: 'urn:broken', type: 'object', properties: { a: { $ref: 'urn:nowhere' } } } })).toThrow(
      /^cannot compile the XDM schema urn:broken: /,
    );
  });
});
