import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Kafka, logLevel } from 'kafkajs';
import { createSource } from '../../src/sources/index.js';
import { confluentFrame, legacyFrame, OVO_SAMPLES, ovoSchema, wrappedType } from '../helpers/ovo-avro.js';
import { startSchemaRegistry, type LocalRegistry } from '../helpers/schema-registry.js';
import { drain, records, testContext } from '../helpers/source-context.js';

const brokers = process.env.KAFKA_BROKERS?.split(',').map((b) => b.trim()).filter(Boolean) ?? [];
const title = brokers.length > 0 ? `against the Kafka broker(s) in KAFKA_BROKERS (${brokers.join(',')})` : 'against a real Kafka broker: skipped because KAFKA_BROKERS is not set';

describe.skipIf(brokers.length === 0)(title, () => {
  const topic = `xdmf-it-${Date.now()}`;
  const groupId = `xdmf-it-group-${Date.now()}`;
  const kafka = new Kafka({ clientId: 'xdmf-it', brokers, logLevel: logLevel.NOTHING });
  let registry: LocalRegistry;

  beforeAll(async () => {
    registry = await startSchemaRegistry();
    const id = registry.register(`${topic}-value`, ovoSchema('feedback'));
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const type = wrappedType('feedback');
    const value = (i: number): Buffer => {
      const sample = structuredClone(OVO_SAMPLES.feedback.avroJson) as Record<string, unknown>;
      sample.commId = `c-${i}`;
      if (i % 3 === 2) return Buffer.from(JSON.stringify(sample));
      const body = type.toBuffer(sample);
      return i % 3 === 0 ? confluentFrame(id, body) : legacyFrame(id, body);
    };
    await producer.send({ topic, messages: Array.from({ length: 30 }, (_, i) => ({ key: `c-${i}`, value: value(i) })) });
    await producer.disconnect();
  }, 60_000);

  afterAll(async () => {
    await registry?.close();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  });

  test('records in all three framings are read, and after commit the group does not read them again', async () => {
    const config = { type: 'ovo-feedback' as const, kafka: { brokers, topics: [topic], groupId, fromBeginning: true, registryUrl: registry.url, idleMs: 3000 } };
    const first = createSource(config, { baseDir: '.' });
    const items = await drain(first, testContext());
    expect(records(items).map((r) => r.commId).sort()).toEqual(Array.from({ length: 30 }, (_, i) => `c-${i}`).sort());
    expect(records(items)[0]).toMatchObject({ customer: { customerId: '12345' }, channel: 'Email' });
    await first.commit!(items.map((i) => i.position));
    await first.close!();

    const second = createSource(config, { baseDir: '.' });
    expect(await drain(second, testContext())).toEqual([]);
    await second.close!();
  }, 90_000);
});
