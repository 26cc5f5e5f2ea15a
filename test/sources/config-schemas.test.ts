import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { describe, expect, test } from 'vitest';
import { createSource, sourceConfigSchemas } from '../../src/sources/index.js';
import { drain, records, testContext, undecodable } from '../helpers/source-context.js';

function validator() {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true, strictRequired: false });
  (addFormatsModule.default ?? addFormatsModule)(ajv);
  return ajv;
}

/** Every property schema below `schema`, with its path. */
function properties(schema: Record<string, unknown>, path = ''): Array<[string, Record<string, unknown>]> {
  const out: Array<[string, Record<string, unknown>]> = [];
  const props = schema.properties as Record<string, Record<string, unknown>> | undefined;
  for (const [key, child] of Object.entries(props ?? {})) {
    out.push([`${path}${key}`, child]);
    out.push(...properties(child, `${path}${key}.`));
    for (const alt of (child.oneOf as Array<Record<string, unknown>> | undefined) ?? []) out.push(...properties(alt, `${path}${key}.`));
  }
  return out;
}

describe('source configuration schemas', () => {
  test('every schema compiles in strict mode and every field has a description', () => {
    for (const [type, schema] of Object.entries(sourceConfigSchemas)) {
      expect(() => validator().compile(schema), type).not.toThrow();
      for (const [path, prop] of properties(schema)) expect(typeof prop.description, `${type}: ${path}`).toBe('string');
    }
  });

  test('valid configurations pass with defaults filled in, and the defaults are the documented ones', () => {
    const ajv = validator();
    const kafka = { type: 'ovo-v2', kafka: { brokers: ['localhost:9092'], topics: ['comms.failed.v2'], groupId: 'g' } };
    expect(ajv.validate(sourceConfigSchemas['ovo-v2'], kafka), JSON.stringify(ajv.errors)).toBe(true);
    expect(kafka.kafka).toMatchObject({ clientId: 'xdm-feedback', fromBeginning: false, framing: 'auto', follow: false, idleMs: 5000 });

    const api = { type: 'masstack', api: { org: 'acme' } };
    expect(ajv.validate(sourceConfigSchemas.masstack, api), JSON.stringify(ajv.errors)).toBe(true);
    expect(api.api).toMatchObject({ baseUrl: 'https://communications.masstack.com', tokenEnv: 'MASSTACK_TOKEN', pageSize: 100, lookbackHours: 48 });

    for (const config of [
      { type: 'ovo-feedback', files: ['a.ndjson'] },
      { type: 'crisisworks', files: ['r.csv'], columns: { deliveryId: 'ID' }, delimiter: ';', encoding: 'windows-1252' },
      { type: 'masstack', files: ['m.json'] },
      { type: 'ndjson', name: 'acme-sms', files: ['x.ndjson'], mapping: 'mappings/acme.json' },
    ]) {
      expect(ajv.validate(sourceConfigSchemas[config.type as keyof typeof sourceConfigSchemas], config), `${config.type}: ${JSON.stringify(ajv.errors)}`).toBe(true);
    }
  });

  test('invalid configurations are rejected: both or neither transport, unknown keys, a bad name', () => {
    const ajv = validator();
    expect(ajv.validate(sourceConfigSchemas['ovo-feedback'], { type: 'ovo-feedback' })).toBe(false);
    expect(ajv.validate(sourceConfigSchemas['ovo-feedback'], { type: 'ovo-feedback', files: ['a'], kafka: { brokers: ['b'], topics: ['t'], groupId: 'g' } })).toBe(false);
    expect(ajv.validate(sourceConfigSchemas.crisisworks, { type: 'crisisworks', files: ['a'], colums: {} })).toBe(false);
    expect(ajv.validate(sourceConfigSchemas.ndjson, { type: 'ndjson', name: 'Has Spaces', files: ['a'], mapping: 'm' })).toBe(false);
    expect(ajv.validate(sourceConfigSchemas.masstack, { type: 'masstack', api: { org: 'a', pageSize: 0 } })).toBe(false);
  });
});

describe('the bundled OVO samples', () => {
  test('ovo-feedback.ndjson has every status, all channels, both renderings and times, and a few malformed lines', async () => {
    const items = await drain(createSource({ type: 'ovo-feedback', files: ['ovo-feedback.ndjson'] }, { baseDir: 'examples/data' }), testContext());
    const recs = records(items);
    expect(recs.length).toBeGreaterThanOrEqual(200);
    expect(new Set(recs.map((r) => r.status))).toEqual(new Set(['Scheduled', 'Pending', 'Delivered', 'Failed', 'Cancelled', 'FailedCancellation', 'Expired']));
    expect(new Set(recs.map((r) => r.channel))).toEqual(new Set(['Email', 'SMS', 'Print']));
    expect(new Set(recs.map((r) => r.email))).toEqual(new Set([null, 'Opened', 'Interacted']));
    expect(new Set(recs.map((r) => typeof (r.metadata as Record<string, unknown>).createdAt))).toEqual(new Set(['number', 'string']));
    expect(items.filter((i) => i.raw.includes('"com.ovoenergy.comms.model.Customer"')).length).toBeGreaterThan(20);
    expect(recs.every((r) => r.customer === null || typeof (r.customer as Record<string, unknown>).customerId === 'string')).toBe(true);
    const bad = undecodable(items);
    expect(bad.length).toBeGreaterThanOrEqual(3);
    expect(bad.length).toBeLessThanOrEqual(5);
  });

  test('ovo-v2.ndjson has every v2 record type and status, each record named by _recordType', async () => {
    const items = await drain(createSource({ type: 'ovo-v2', files: ['ovo-v2.ndjson'] }, { baseDir: 'examples/data' }), testContext());
    expect(undecodable(items)).toEqual([]);
    const recs = records(items);
    const byType = new Map<string, Set<unknown>>();
    for (const r of recs) {
      expect(r._recordType, JSON.stringify(r)).toBeTypeOf('string');
      const set = byType.get(r._recordType as string) ?? new Set();
      set.add(r.status ?? r.errorCode ?? r.channel);
      byType.set(r._recordType as string, set);
    }
    expect(byType.get('EmailProgressedV2')).toEqual(new Set(['Queued', 'Dropped', 'Bounced', 'Delivered', 'Opened']));
    expect(byType.get('SMSProgressedV2')).toEqual(new Set(['Accepted', 'Queued', 'Sent', 'Delivered', 'Undelivered', 'Failed']));
    expect(byType.get('IssuedForDeliveryV2')).toEqual(new Set(['Print', 'Email', 'SMS']));
    expect(byType.get('FailedV2')!.size).toBe(14);
    for (const type of ['LinkClickedV2', 'CancelledV2', 'FailedCancellationV2']) expect(byType.has(type), type).toBe(true);
    // Avro-JSON union wrappers are gone.
    expect(recs.some((r) => JSON.stringify(r).includes('"com.ovoenergy.'))).toBe(false);
    expect(recs.some((r) => JSON.stringify(r).includes('{"string":'))).toBe(false);
  });
});
