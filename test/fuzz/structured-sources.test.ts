/**
 * Fuzzed structured input through the real pipeline: Crisisworks CSV exports (missing and extra columns, broken
 * quotes, odd delimiters, bogus dates, damaged headers), MasStack JSON array exports (truncated, wrong element types),
 * and Kafka values (broken Confluent/legacy Avro framing, flipped bytes, unknown schema ids, JSON text, tombstones).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import avsc from 'avsc';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadMapping } from '../../src/mapping/index.js';
import { createSource } from '../../src/sources/index.js';
import { KafkaConsumerSource, parseWriterSchema, type SchemaLookup, type WriterSchema } from '../../src/sources/kafka/index.js';
import { tagOvoV2KafkaRecord } from '../../src/sources/ovo/index.js';
import { FakeCluster, FakeConsumer } from '../helpers/fake-kafka-consumer.js';
import { confluentFrame, legacyFrame, OVO_SAMPLES, ovoSchema, wrappedType, type OvoSchemaFile } from '../helpers/ovo-avro.js';
import { tempDir } from '../helpers/temp.js';
import { checkProperty, expectSettled, settle } from './harness.js';
import { applyEdits, damagedLine, edit, lineDamage, nastyValue } from './mutate.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SEED = 20240607;
const RUNS = process.env.SOAK === '1' ? 600 : 60;
const dir = tempDir('xdmf-fuzz-structured-');

describe('fuzzed Crisisworks CSV exports', () => {
  const sample = readFileSync(join(ROOT, 'examples/data/crisisworks-report.csv'), 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/).filter(Boolean);
  const header = sample[0]!.split(',');
  const rows = sample.slice(1);
  const mapper = loadMapping(join(ROOT, 'mappings/crisisworks.json'), { source: 'crisisworks' });

  const cell = fc.oneof(
    fc.string({ maxLength: 30 }),
    fc.constantFrom('', '"', '""', '"unclosed', 'a"b', ',', ';', '\t', '\r\n', '"multi\nline"', '2024-02-30 25:61', 'yesterday', '31/12/2024 10:00', 'Delivered', 'Bounced Temporarily', 'Opted-out', 'x'.repeat(70_000)),
    nastyValue.map((v) => (typeof v === 'string' ? v : JSON.stringify(v) ?? '')),
  );
  const rowEdit = fc.record({ at: fc.nat(), op: fc.constantFrom('drop', 'extra', 'replace', 'replace'), value: cell });
  const row = fc.oneof(
    { weight: 5, arbitrary: fc.tuple(fc.nat(), fc.array(rowEdit, { maxLength: 3 })).map(([i, edits]) => {
      const cells = rows[i % rows.length]!.split(',');
      for (const e of edits) {
        const at = e.at % (cells.length + 1);
        if (e.op === 'drop') cells.splice(at, 1);
        else if (e.op === 'extra') cells.splice(at, 0, e.value);
        else cells[Math.min(at, cells.length - 1)] = e.value;
      }
      return cells.join(',');
    }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 80 }) },
  );
  const headerVariant = fc.constantFrom<(h: string[]) => string>(
    (h) => h.join(','),
    (h) => h.join(','),
    (h) => '\uFEFF' + h.join(','),
    (h) => h.filter((c) => c !== 'Status').join(','), // a required column missing
    (h) => [...h, 'Extra', 'Extra'].join(','),
    (h) => [...h].reverse().join(','),
    (h) => h.map((c) => c.toUpperCase()).join(','),
    (h) => h.join(';'),
    () => '',
    () => '"unclosed,header',
  );

  it('each row is settled with a readable reason or sent valid; never a crash or a hang', async () => {
    let run = 0;
    let deadLettered = 0;
    let sent = 0;
    await checkProperty(
      fc.asyncProperty(headerVariant, fc.array(row, { minLength: 1, maxLength: 15 }), fc.boolean(), async (makeHeader, body, crlf) => {
        const file = join(dir, `cw-${run++}.csv`);
        writeFileSync(file, [makeHeader(header), ...body].join(crlf ? '\r\n' : '\n') + '\n');
        const result = await settle(createSource({ type: 'crisisworks', files: [file] }, { baseDir: dir }), mapper, 'crisisworks');
        expectSettled(result);
        deadLettered += result.deadLetters.length;
        sent += result.sent.length;
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(deadLettered).toBeGreaterThan(RUNS / 2);
    expect(sent).toBeGreaterThan(RUNS / 2);
  }, 120_000);
});

describe('fuzzed MasStack JSON array exports', () => {
  const samples = JSON.parse(readFileSync(join(ROOT, 'examples/data/masstack-export.json'), 'utf8')) as Array<Record<string, never>>;
  const mapper = loadMapping(join(ROOT, 'mappings/masstack.json'), { source: 'masstack' });
  const element = fc.oneof(
    { weight: 5, arbitrary: fc.tuple(fc.nat(), fc.array(edit, { maxLength: 3 })).map(([i, edits]) => JSON.stringify(applyEdits(samples[i % samples.length]!, edits), null, 1)) },
    { weight: 1, arbitrary: nastyValue.map((v) => JSON.stringify(v)) },
  );
  const damage = fc.constantFrom('none', 'none', 'truncate', 'no-close', 'trailing-comma', 'garbage-between', 'nested');

  it('every element is settled and a broken array ends with a readable dead letter; never a crash or a hang', async () => {
    let run = 0;
    let deadLettered = 0;
    let sent = 0;
    await checkProperty(
      fc.asyncProperty(fc.array(element, { minLength: 1, maxLength: 10 }), damage, fc.nat(), async (elements, how, cut) => {
        let text = `[\n${elements.join(',\n')}\n]`;
        if (how === 'truncate') text = text.slice(0, Math.max(1, cut % text.length));
        if (how === 'no-close') text = text.slice(0, -1);
        if (how === 'trailing-comma') text = text.replace(/\n]$/, ',\n]');
        if (how === 'garbage-between') text = text.replace(',\n', ',\n}}\n');
        if (how === 'nested') text = `[${text}]`;
        const file = join(dir, `ms-${run++}.json`);
        writeFileSync(file, text);
        const result = await settle(createSource({ type: 'masstack', files: [file] }, { baseDir: dir }), mapper, 'masstack');
        expectSettled(result);
        if (how === 'none') expect(result.summary.read).toBe(elements.length);
        deadLettered += result.deadLetters.length;
        sent += result.sent.length;
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(deadLettered).toBeGreaterThan(RUNS / 2);
    expect(sent).toBeGreaterThan(RUNS / 4);
  }, 120_000);
});

describe('fuzzed Kafka values', () => {
  // The registry: the two OVO schemas the values use, and a schema with arrays and maps (OVO's real schemas may
  // have them) whose block counts a corrupt message can set to anything.
  const nested = { type: 'record', name: 'Nested', namespace: 'test', fields: [{ name: 'tags', type: { type: 'array', items: 'null' } }, { name: 'attrs', type: { type: 'map', values: { type: 'array', items: 'string' } } }] };
  const schemas = new Map<number, WriterSchema>([
    [7, parseWriterSchema(JSON.stringify(ovoSchema('feedback')))],
    [8, parseWriterSchema(JSON.stringify(ovoSchema('sms-progressed-v2')))],
    [9, parseWriterSchema(JSON.stringify(nested))],
  ]);
  const lookup: SchemaLookup = { cached: (id) => schemas.get(id), fetch: async (id) => schemas.get(id) };
  const nestedBody = avsc.Type.forSchema(nested as avsc.Schema).toBuffer({ tags: [null, null], attrs: { a: ['x'] } });

  /** Zig-zag varints of huge item counts (2^31 - 1, 2^24 - 1, 2^62 and a negative block count with its size). */
  const HUGE_COUNTS = [[0xfe, 0xff, 0xff, 0xff, 0x0f], [0xfe, 0xff, 0xff, 0x0f], [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01], [0xfd, 0xff, 0xff, 0xff, 0x0f, 0x02]].map((b) => Buffer.from(b));
  const bodies: Record<number, Buffer> = {
    7: wrappedType('feedback').toBuffer(OVO_SAMPLES.feedback.avroJson),
    8: wrappedType('sms-progressed-v2').toBuffer(OVO_SAMPLES['sms-progressed-v2'].avroJson),
    9: nestedBody,
  };
  const framed = fc.record({
    id: fc.constantFrom(7, 8, 9, 9, 12345),
    legacy: fc.boolean(),
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
    big: fc.option(fc.constantFrom(HUGE_COUNTS[0]!, ...HUGE_COUNTS.slice(1)), { nil: undefined }),
  }).map(({ id, legacy, flips, cut, big }) => {
    // A corrupt block count where the nested schema's array length goes.
    const body = big && id === 9 ? Buffer.concat([big, bodies[9]!.subarray(1)]) : Buffer.from(bodies[id] ?? bodies[7]!);
    const value = legacy ? legacyFrame(id, body) : confluentFrame(id, body);
    for (const [at, byte] of flips) value[at % value.length] = byte;
    return cut === undefined ? value : value.subarray(0, cut % (value.length + 1));
  });
  const jsonText = fc.tuple(fc.constantFrom<OvoSchemaFile>('feedback', 'sms-progressed-v2'), fc.array(edit, { maxLength: 3 }), lineDamage, fc.nat()).map(([name, edits, damage, cut]) =>
    damagedLine(JSON.stringify(applyEdits(OVO_SAMPLES[name].avroJson as Record<string, never>, edits)), damage, cut),
  );
  const value = fc.oneof(
    { weight: 4, arbitrary: framed },
    { weight: 3, arbitrary: jsonText },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)) },
    { weight: 1, arbitrary: fc.constantFrom<Buffer | null>(null, Buffer.alloc(0), Buffer.from([0]), Buffer.from([0, 0, 0, 0, 7])) },
  );

  for (const [type, topic] of [['ovo-feedback', 'comms.feedback'], ['ovo-v2', 'comms.sms.progressed.v2']] as const) {
    it(`${type}: every message is settled, never a crash or a hang`, async () => {
      const mapper = loadMapping(join(ROOT, 'mappings', `${type}.json`), { source: type });
      let deadLettered = 0;
      await checkProperty(
        fc.asyncProperty(fc.array(value, { minLength: 1, maxLength: 12 }), async (values) => {
          const cluster = new FakeCluster();
          cluster.produce(topic, 0, values.map((v) => ({ value: v })));
          const consumer = new FakeConsumer(cluster);
          const source = new KafkaConsumerSource(() => consumer, {
            name: type,
            topics: [topic],
            fromBeginning: true,
            idleMs: 20,
            lookup,
            framing: 'auto',
            ...(type === 'ovo-v2' ? { enrich: tagOvoV2KafkaRecord } : {}),
          });
          const result = await settle(source, mapper, type);
          expectSettled(result, values.length);
          deadLettered += result.deadLetters.length;
        }),
        { seed: SEED, numRuns: RUNS },
      );
      expect(deadLettered).toBeGreaterThan(RUNS / 2);
    }, 120_000);
  }

  it('a corrupt block count in an Avro body is a dead letter with a reason, not an out-of-memory crash', async () => {
    const cluster = new FakeCluster();
    // 2^31 - 1 nulls, then 2^24 - 1 strings in 0 bytes: avsc alone pushes items until the heap is exhausted.
    cluster.produce('comms.nested', 0, HUGE_COUNTS.map((count) => ({ value: confluentFrame(9, Buffer.concat([count, Buffer.from([0, 0])])) })));
    const source = new KafkaConsumerSource(() => new FakeConsumer(cluster), { name: 'ovo-feedback', topics: ['comms.nested'], fromBeginning: true, idleMs: 20, lookup, framing: 'auto' });
    const mapper = loadMapping(join(ROOT, 'mappings/ovo-feedback.json'), { source: 'ovo-feedback' });
    const result = await settle(source, mapper, 'ovo-feedback');
    expectSettled(result, HUGE_COUNTS.length);
    expect(result.deadLetters.map((d) => d.stage)).toEqual(HUGE_COUNTS.map(() => 'decode'));
    for (const d of result.deadLetters) expect(d.reason, d.reason).toMatch(/Avro body does not match schema id 9 \(test\.Nested\): (array|map) claims (\d+|\[phone\]) (empty )?items/);
  });
});
