import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BATCH_OVERHEAD_BYTES, BodyBuffers, EnvelopeEncoder, batchBytes, envelopeText, fitsAlone, planBatches, writeBatchBody } from '../../src/sinks/adobe-streaming/index.js';
import { makeEvents } from './helpers.js';
import { JsonBytes } from '../../src/core/json-bytes.js';

describe('EnvelopeEncoder', () => {
  it('produces the envelope Adobe documents, with the entity spliced in as is', () => {
    const encoder = new EnvelopeEncoder({ datasetId: 'ds', schemaRef: 'https://ns.adobe.com/t/schemas/1', flowId: 'f', sourceName: 'src' }, 'O@AdobeOrg');
    const [event] = makeEvents(1);
    const result = encoder.encode(event!);
    if (!result.ok) throw new Error(result.reason);
    const schemaRef = { id: 'https://ns.adobe.com/t/schemas/1', contentType: 'application/vnd.adobe.xed-full+json;version=1' };
    expect(JSON.parse(envelopeText(result))).toEqual({
      header: { schemaRef, imsOrgId: 'O@AdobeOrg', datasetId: 'ds', flowId: 'f', source: { name: 'src' } },
      body: { xdmMeta: { schemaRef }, xdmEntity: event!.event },
    });
    expect(envelopeText(result).endsWith(`"xdmEntity":${event!.json}}}`)).toBe(true);
    expect(result.bytes).toBe(Buffer.byteLength(envelopeText(result)));
  });

  it('omits flowId and imsOrgId when none is known', () => {
    const encoder = new EnvelopeEncoder({ datasetId: 'ds', schemaRef: 's' });
    const result = encoder.encode(makeEvents(1)[0]!);
    if (!result.ok) throw new Error(result.reason);
    const header = JSON.parse(envelopeText(result)).header;
    expect(header).not.toHaveProperty('flowId');
    expect(header).not.toHaveProperty('imsOrgId');
  });

  it('counts bytes, not characters, for non-ASCII entities', () => {
    const encoder = new EnvelopeEncoder({ datasetId: 'ds', schemaRef: 's' });
    const event = { id: 'x', eventType: 'message.feedback', event: { _id: 'x', timestamp: 't', eventType: 'message.feedback' }, json: JsonBytes.of('{"_id":"x","r":"ünïcødé ✉"}') };
    const result = encoder.encode(event);
    if (!result.ok) throw new Error(result.reason);
    expect(result.bytes).toBe(Buffer.byteLength(envelopeText(result)));
    expect(result.bytes).toBeGreaterThan(envelopeText(result).length);
  });

  it('rejects an entity that is not a serialised object', () => {
    const encoder = new EnvelopeEncoder({ datasetId: 'ds', schemaRef: 's' });
    const event = { ...makeEvents(1)[0]!, json: JsonBytes.of('') };
    expect(encoder.encode(event)).toEqual({ ok: false, reason: 'ingest: the serialised event is not a JSON object' });
  });
});

describe('batch planning', () => {
  it('builds a {"messages":[…]} body whose size batchBytes predicts', () => {
    const encoder = new EnvelopeEncoder({ datasetId: 'ds', schemaRef: 's' });
    const entities = ['{"a":1}', '{"b":"é ✉"}', '{}'];
    const envelopes = entities.map((json, i) => {
      const result = encoder.encode({ id: `${i}`, eventType: 'message.feedback', json: JsonBytes.of(json) });
      if (!result.ok) throw new Error(result.reason);
      return result;
    });
    const buffer = Buffer.alloc(batchBytes(envelopes.map((e) => e.bytes)));
    const body = buffer.subarray(0, writeBatchBody(envelopes, buffer));
    expect(JSON.parse(body.toString('utf8')).messages.map((m: { body: { xdmEntity: unknown } }) => m.body.xdmEntity)).toEqual([{ a: 1 }, { b: 'é ✉' }, {}]);
    expect(body.length).toBe(batchBytes(envelopes.map((e) => e.bytes)));
    expect(batchBytes([])).toBe(BATCH_OVERHEAD_BYTES);
  });

  it('writes a body over a reused buffer without leaving bytes of the longer body before it', () => {
    const encoder = new EnvelopeEncoder({ datasetId: 'ds', schemaRef: 's' });
    const encode = (json: string) => {
      const result = encoder.encode({ id: 'x', eventType: 'message.feedback', json: JsonBytes.of(json) });
      if (!result.ok) throw new Error(result.reason);
      return result;
    };
    const buffers = new BodyBuffers(1);
    const first = buffers.acquire(2000);
    writeBatchBody([encode(`{"long":"${'x'.repeat(1000)}"}`), encode('{"n":2}')], first);
    buffers.release(first);
    const again = buffers.acquire(100);
    expect(again).toBe(first);
    const length = writeBatchBody([encode('{"short":true}')], again);
    expect(JSON.parse(again.subarray(0, length).toString('utf8')).messages).toHaveLength(1);
    buffers.release(again);
    // A larger body gets a larger buffer; with room for one, the larger one is kept.
    const big = buffers.acquire(100_000);
    expect(big.length).toBeGreaterThanOrEqual(100_000);
    buffers.release(big);
    expect(buffers.acquire(90_000)).toBe(big);
  });

  it('never exceeds the count or byte cap, keeps order, and loses nothing (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 2, max: 5000 }), { maxLength: 300 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 5100, max: 60000 }),
        (sizes, maxEvents, maxBytes) => {
          const items = sizes.map((bytes, index) => ({ index, bytes }));
          expect(items.every((i) => fitsAlone(i.bytes, maxBytes))).toBe(true);
          const batches = planBatches(items, maxEvents, maxBytes);
          expect(batches.flat().map((i) => i.index)).toEqual(items.map((i) => i.index));
          for (const b of batches) {
            expect(b.length).toBeGreaterThan(0);
            expect(b.length).toBeLessThanOrEqual(maxEvents);
            expect(batchBytes(b.map((i) => i.bytes))).toBeLessThanOrEqual(maxBytes);
          }
        },
      ),
    );
  });

  it('fills a batch up to exactly the byte cap', () => {
    // two 10-byte envelopes: 15 overhead + 10 + 1 + 10 = 36
    expect(planBatches([{ bytes: 10 }, { bytes: 10 }, { bytes: 10 }], 100, 36).map((b) => b.length)).toEqual([2, 1]);
    expect(fitsAlone(21, 36)).toBe(true);
    expect(fitsAlone(22, 36)).toBe(false);
  });
});
