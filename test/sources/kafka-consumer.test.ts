import { describe, expect, test } from 'vitest';
import type { SourceItem } from '../../src/core/types.js';
import { createRegistryLookup, KafkaConsumerSource, type KafkaSourceOptions } from '../../src/sources/kafka/index.js';
import { tagOvoV2KafkaRecord } from '../../src/sources/ovo/index.js';
import { FakeCluster, FakeConsumer } from '../helpers/fake-kafka-consumer.js';
import { confluentFrame, OVO_SAMPLES, ovoSchema, wrappedType } from '../helpers/ovo-avro.js';
import { startSchemaRegistry, type LocalRegistry } from '../helpers/schema-registry.js';
import { decodedOnly, testContext } from '../helpers/source-context.js';

const TOPIC = 'comms.feedback';
const json = (commId: string): string => JSON.stringify({ commId, status: 'Delivered', metadata: { eventId: `${commId}-feedback-delivered`, traceToken: 't', createdAt: 1714550400000 } });

function fill(cluster: FakeCluster, partitions: number, perPartition: number, topic = TOPIC): void {
  for (let p = 0; p < partitions; p++) {
    cluster.produce(topic, p, Array.from({ length: perPartition }, (_, i) => ({ key: `c-${p}-${i}`, value: json(`c-${p}-${i}`) })));
  }
}

function source(consumer: FakeConsumer, options: Partial<KafkaSourceOptions> = {}): KafkaConsumerSource {
  return new KafkaConsumerSource(() => consumer, { name: 'ovo-feedback', topics: [TOPIC], fromBeginning: true, idleMs: 150, ...options });
}

async function readAll(src: KafkaConsumerSource, onBatch?: (batch: SourceItem[], index: number) => void | Promise<void>): Promise<SourceItem[]> {
  const out: SourceItem[] = [];
  let index = 0;
  for await (const batch of src.read(testContext())) {
    out.push(...batch);
    await onBatch?.(batch, index++);
  }
  return out;
}

const commIds = (items: SourceItem[]): string[] => decodedOnly(items).map((i) => (i.kind === 'record' ? String(i.record.commId) : `!${i.reason}`));

describe('the Kafka source over a kafkajs Consumer', () => {
  test('it runs without auto-commit, reads every partition until caught up, and commits nothing by itself', async () => {
    const cluster = new FakeCluster();
    fill(cluster, 2, 700);
    const consumer = new FakeConsumer(cluster);
    const src = source(consumer);
    const items = await readAll(src);
    expect(consumer.runConfig).toMatchObject({ autoCommit: false, eachBatchAutoResolve: false });
    expect(consumer.fromBeginning).toBe(true);
    expect(items).toHaveLength(1400);
    expect(new Set(items.map((i) => i.position.stream))).toEqual(new Set([`${TOPIC}/0`, `${TOPIC}/1`]));
    expect(items.every((i) => i.kind === 'record')).toBe(true);
    expect(Math.max(...(await batchesOf(cluster)))).toBeLessThanOrEqual(500);
    expect(cluster.commits).toEqual([]);
    await src.close();
    expect(consumer.stopped).toBe(true);
  });

  test('commit(positions) commits offset+1 per partition, only for what the pipeline settled', async () => {
    const cluster = new FakeCluster();
    fill(cluster, 2, 50);
    const consumer = new FakeConsumer(cluster);
    const src = source(consumer);
    const items = await readAll(src);
    const settled = items.filter((i) => (i.position.stream.endsWith('/0') ? Number(i.position.offset) < 30 : Number(i.position.offset) < 12));
    await src.commit(settled.map((i) => i.position));
    expect(cluster.commits).toEqual([
      { topic: TOPIC, partition: 0, offset: '30' },
      { topic: TOPIC, partition: 1, offset: '12' },
    ]);
    await src.close();
  });

  test('a later run of the group starts after the committed offsets: settled records are not read again, unsettled ones are', async () => {
    const cluster = new FakeCluster();
    fill(cluster, 1, 100);
    const first = source(new FakeConsumer(cluster));
    const items = await readAll(first);
    await first.commit(items.slice(0, 60).map((i) => i.position));
    await first.close();
    const second = source(new FakeConsumer(cluster));
    const again = await readAll(second);
    expect(commIds(again)).toEqual(Array.from({ length: 40 }, (_, i) => `c-0-${60 + i}`));
    await second.close();
  });

  test('after a rebalance revokes a partition, its queued records are not yielded and its offsets are not committed', async () => {
    const cluster = new FakeCluster();
    fill(cluster, 2, 3000);
    const consumer = new FakeConsumer(cluster, { batchSize: 500 });
    const src = source(consumer, { maxQueuedItems: 1000 });
    let revokedAt = -1;
    const items = await readAll(src, async (_batch, index) => {
      if (index === 1) {
        // Let the fetcher fill the queue with records of both partitions, then take partition 1 away.
        await new Promise((resolve) => setTimeout(resolve, 30));
        consumer.rebalance([`${TOPIC}/0`]);
        revokedAt = 2;
      }
    });
    const batchesAfter = items.slice(revokedAt * 500);
    expect(batchesAfter.some((i) => i.position.stream === `${TOPIC}/1`)).toBe(false);
    // Partition 0 is read to the end exactly once, although the fetcher restarted from the committed offset.
    const p0 = items.filter((i) => i.position.stream === `${TOPIC}/0`).map((i) => Number(i.position.offset));
    expect(p0).toEqual(Array.from({ length: 3000 }, (_, i) => i));

    await src.commit(items.map((i) => i.position));
    expect(cluster.commits).toEqual([{ topic: TOPIC, partition: 0, offset: '3000' }]);
    await src.close();
  });

  test('back-pressure: the fetcher waits while the pipeline has not taken the queued records', async () => {
    const cluster = new FakeCluster();
    fill(cluster, 1, 5000);
    const consumer = new FakeConsumer(cluster, { batchSize: 1000 });
    const src = source(consumer, { maxQueuedItems: 600 });
    const iterator = src.read(testContext())[Symbol.asyncIterator]();
    const first = await iterator.next();
    expect(first.done).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const queued = (src as unknown as { queuedItems: number }).queuedItems;
    expect(queued).toBeLessThanOrEqual(1000);
    await iterator.return?.(undefined);
    await src.close();
  });

  test('undecodable values carry the partition, offset and reason; Avro values are decoded with the registry', async () => {
    const registry: LocalRegistry = await startSchemaRegistry();
    try {
      const id = registry.register('comms.progressed.sms.v2-value', ovoSchema('sms-progressed-v2'));
      const cluster = new FakeCluster();
      const avro = confluentFrame(id, wrappedType('sms-progressed-v2').toBuffer(OVO_SAMPLES['sms-progressed-v2'].avroJson));
      cluster.produce('comms.progressed.sms.v2', 0, [{ value: avro }, { value: '{"broken":' }, { value: Buffer.from([0, 0, 0, 0, 99, 1, 2]) }, { value: null }]);
      const src = new KafkaConsumerSource(() => new FakeConsumer(cluster), {
        name: 'ovo-v2',
        topics: ['comms.progressed.sms.v2'],
        fromBeginning: true,
        idleMs: 100,
        lookup: createRegistryLookup({ url: registry.url }),
        enrich: tagOvoV2KafkaRecord,
      });
      const items = await readAll(src);
      expect(items[0]).toMatchObject({ kind: 'record', record: { ...OVO_SAMPLES['sms-progressed-v2'].plain, _recordType: 'SMSProgressedV2' }, position: { stream: 'comms.progressed.sms.v2/0', offset: '0' } });
      expect(JSON.parse(items[0]!.raw)).toMatchObject({ gatewayMessageId: 'SM0123' });
      expect(items.slice(1).map((i) => (i.kind === 'undecodable' ? i.reason : 'record'))).toEqual([
        'comms.progressed.sms.v2/0@1: JSON value: Unexpected end of JSON input',
        expect.stringMatching(/^comms\.progressed\.sms\.v2\/0@2: confluent framing: schema id 99 is unknown/),
        'comms.progressed.sms.v2/0@3: empty message value (tombstone)',
      ]);
      expect(items[2]!.raw).toBe('base64:AAAAAGMBAg==');
      await src.close();
    } finally {
      await registry.close();
    }
  });

  test('an unreachable schema registry fails the read with a clear error instead of skipping records', async () => {
    const down = await startSchemaRegistry();
    const url = down.url;
    await down.close();
    const cluster = new FakeCluster();
    cluster.produce(TOPIC, 0, [{ value: json('c-1') }, { value: confluentFrame(3, Buffer.from([2, 4])) }]);
    const src = source(new FakeConsumer(cluster), { lookup: createRegistryLookup({ url, retries: 0 }) });
    await expect(readAll(src)).rejects.toThrow(/cannot decode comms\.feedback\/0@1: .*fetch failed/);
    await src.commit([{ stream: `${TOPIC}/0`, offset: '0' }]);
    expect(cluster.commits).toEqual([{ topic: TOPIC, partition: 0, offset: '1' }]);
    await src.close();
  });

  test('a consumer that never gets a partition assignment fails the read after the join timeout', async () => {
    const cluster = new FakeCluster();
    fill(cluster, 1, 3);
    const src = source(new FakeConsumer(cluster, { neverJoin: true }), { joinTimeoutMs: 200, idleMs: 100 });
    await expect(readAll(src)).rejects.toThrow(/got no partition assignment for comms\.feedback within 200 ms/);
    await src.close();
  });

  test('aborting the signal ends the read and pauses fetching', async () => {
    const cluster = new FakeCluster();
    fill(cluster, 1, 3000);
    const consumer = new FakeConsumer(cluster);
    const src = source(consumer, { follow: true });
    const controller = new AbortController();
    let seen = 0;
    for await (const batch of src.read(testContext({ signal: controller.signal }))) {
      seen += batch.length;
      controller.abort();
    }
    expect(seen).toBeGreaterThan(0);
    expect(seen).toBeLessThan(3000);
    expect(consumer.pausedTopics.has(TOPIC)).toBe(true);
    await src.close();
  });

  test('a consumer crash that kafkajs will not restart fails the read with its error', async () => {
    const cluster = new FakeCluster();
    fill(cluster, 1, 10);
    const consumer = new FakeConsumer(cluster);
    const src = source(consumer, { follow: true });
    const reading = readAll(src, () => consumer.crash(new Error('broker unreachable')));
    await expect(reading).rejects.toThrow('broker unreachable');
    await src.close();
  });

  test('in follow mode records produced later are read as they arrive', async () => {
    const cluster = new FakeCluster();
    fill(cluster, 1, 5);
    const consumer = new FakeConsumer(cluster);
    const src = source(consumer, { follow: true });
    const controller = new AbortController();
    const seen: string[] = [];
    for await (const batch of src.read(testContext({ signal: controller.signal }))) {
      seen.push(...commIds(batch));
      if (seen.length === 5) cluster.produce(TOPIC, 0, [{ value: json('late-1') }]);
      if (seen.includes('late-1')) controller.abort();
    }
    expect(seen.at(-1)).toBe('late-1');
    await src.close();
  });
});

/** Batch sizes of a full read of the cluster's topic by a fresh member (checks the ≤500 batch contract). */
async function batchesOf(cluster: FakeCluster): Promise<number[]> {
  const copy = new FakeCluster();
  for (const [key, log] of cluster.logs) copy.logs.set(key, log);
  const src = source(new FakeConsumer(copy));
  const sizes: number[] = [];
  await readAll(src, (batch) => {
    sizes.push(batch.length);
  });
  await src.close();
  return sizes;
}
