import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createRegistryLookup, decodeKafkaValue, parseWriterSchema, type SchemaLookup } from '../../src/sources/kafka/index.js';
import { confluentFrame, legacyFrame, OVO_SAMPLES, OVO_SCHEMA_FILES, ovoSchema, wrappedType } from '../helpers/ovo-avro.js';
import { startSchemaRegistry, type LocalRegistry } from '../helpers/schema-registry.js';

let registry: LocalRegistry;
let lookup: SchemaLookup;
const ids = new Map<string, number>();

beforeAll(async () => {
  // Ids above 2^24 make the legacy framing's first byte non-zero; ids below it collide with the magic byte (tested too).
  registry = await startSchemaRegistry({ firstId: 7 });
  for (const name of OVO_SCHEMA_FILES) ids.set(name, registry.register(`${name}-value`, ovoSchema(name)));
  lookup = createRegistryLookup({ url: registry.url });
});
afterAll(async () => {
  await registry.close();
});

describe('decoding Kafka values of every OVO record type', () => {
  for (const name of OVO_SCHEMA_FILES) {
    test(`${name}: Confluent framing, legacy framing, Avro-JSON and plain JSON all decode to the same plain record`, async () => {
      const sample = OVO_SAMPLES[name];
      const type = wrappedType(name);
      const body = type.toBuffer(sample.avroJson);
      const id = ids.get(name)!;
      const fullName = `${(ovoSchema(name).namespace as string)}.${ovoSchema(name).name as string}`;

      const confluent = await decodeKafkaValue(confluentFrame(id, body), 'auto', lookup);
      expect(confluent).toEqual({ ok: true, record: sample.plain, framing: 'confluent', schemaId: id, schemaName: fullName });

      const legacy = await decodeKafkaValue(legacyFrame(id, body), 'auto', lookup);
      expect(legacy).toMatchObject({ ok: true, record: sample.plain, framing: 'legacy', schemaId: id });

      const avroJson = await decodeKafkaValue(Buffer.from(JSON.stringify(sample.avroJson)), 'auto', lookup);
      expect(avroJson).toEqual({ ok: true, record: sample.plain, framing: 'json' });

      const plain = await decodeKafkaValue(Buffer.from(JSON.stringify(sample.plain)), 'auto', undefined);
      expect(plain).toEqual({ ok: true, record: sample.plain, framing: 'json' });
    });
  }
});

describe('decoding edge cases', () => {
  test('a legacy-framed value whose id is above 2^24 is read as legacy', async () => {
    const big = await startSchemaRegistry({ firstId: 0x01000002 });
    try {
      const id = big.register('feedback-value', ovoSchema('feedback'));
      const body = wrappedType('feedback').toBuffer(OVO_SAMPLES.feedback.avroJson);
      const decoded = await decodeKafkaValue(legacyFrame(id, body), 'auto', createRegistryLookup({ url: big.url }));
      expect(decoded).toMatchObject({ ok: true, framing: 'legacy', schemaId: id, record: OVO_SAMPLES.feedback.plain });
    } finally {
      await big.close();
    }
  });

  test('timestamps stay epoch-ms numbers and longs beyond 2^53 become decimal strings instead of losing digits', async () => {
    const schema = { type: 'record', name: 'Big', namespace: 'test', fields: [{ name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } }, { name: 'n', type: ['null', 'long'] }] };
    const writer = parseWriterSchema(JSON.stringify(schema));
    const body = writer.type.toBuffer({ at: 1714550400000, n: { long: '1152921504606846977' } });
    const id = registry.register('big-value', schema);
    expect(await decodeKafkaValue(confluentFrame(id, body), 'confluent', lookup)).toMatchObject({ ok: true, record: { at: 1714550400000, n: '1152921504606846977' } });
  });

  test('unknown schema ids, missing registries, truncated bodies and junk are reasons, not exceptions', async () => {
    const body = wrappedType('feedback').toBuffer(OVO_SAMPLES.feedback.avroJson);
    const unknown = await decodeKafkaValue(confluentFrame(999, body), 'confluent', lookup);
    expect(unknown).toEqual({ ok: false, reason: 'confluent framing: schema id 999 is unknown to the registry' });

    const noRegistry = await decodeKafkaValue(confluentFrame(ids.get('feedback')!, body), 'auto', undefined);
    expect(noRegistry).toMatchObject({ ok: false, reason: expect.stringContaining('no registryUrl is configured') });

    const truncated = await decodeKafkaValue(confluentFrame(ids.get('feedback')!, body.subarray(0, body.length - 6)), 'confluent', lookup);
    expect(truncated).toMatchObject({ ok: false, reason: expect.stringMatching(/Avro body does not match schema id \d+ \(com\.ovoenergy\.comms\.model\.feedback\.Feedback\)/) });

    expect(await decodeKafkaValue(Buffer.from('{"commId":'), 'auto', lookup)).toEqual({ ok: false, reason: 'JSON value: Unexpected end of JSON input' });
    expect(await decodeKafkaValue(null, 'auto', lookup)).toEqual({ ok: false, reason: 'empty message value (tombstone)' });
    expect(await decodeKafkaValue(Buffer.from([0, 1]), 'auto', lookup)).toMatchObject({ ok: false });
  });

  test('an Avro body written with another schema does not pass as a record of the named one', async () => {
    const smsBody = wrappedType('sms-progressed-v2').toBuffer(OVO_SAMPLES['sms-progressed-v2'].avroJson);
    const decoded = await decodeKafkaValue(confluentFrame(ids.get('feedback')!, smsBody), 'confluent', lookup);
    expect(decoded.ok).toBe(false);
  });

  test('each schema id is fetched from the registry once, and registry 5xx answers are retried', async () => {
    const fresh = await startSchemaRegistry();
    try {
      const id = fresh.register('feedback-value', ovoSchema('feedback'));
      const cached = createRegistryLookup({ url: fresh.url, minRetryDelayMs: 5 });
      fresh.failNext(2);
      const body = confluentFrame(id, wrappedType('feedback').toBuffer(OVO_SAMPLES.feedback.avroJson));
      const results = await Promise.all(Array.from({ length: 20 }, () => decodeKafkaValue(body, 'confluent', cached)));
      expect(results.every((r) => r.ok)).toBe(true);
      expect(fresh.requests.filter((p) => p === `/schemas/ids/${id}`)).toHaveLength(3);
    } finally {
      await fresh.close();
    }
  });
});
