import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { JsonBytes, RETRY_PLACEHOLDER_LENGTH, jsonLines } from '../../src/core/json-bytes.js';

const PLACEHOLDER = `"rc${'0'.repeat(32)}"`;

/** Several events written one after the other into one buffer, as the mapping thread does. */
function unitOf(texts: string[]): { buffer: Buffer; ranges: Array<{ start: number; end: number; retryAt: number }> } {
  const parts = texts.map((text) => Buffer.from(text));
  const buffer = Buffer.concat(parts);
  let start = 0;
  const ranges = parts.map((part) => {
    const range = { start, end: start + part.length, retryAt: buffer.indexOf(PLACEHOLDER, start) };
    if (range.retryAt >= range.end) range.retryAt = -1;
    start = range.end;
    return range;
  });
  return { buffer, ranges };
}

describe('JsonBytes', () => {
  it('writes the retryCount where the placeholder stood, and counts its UTF-8 bytes exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ unit: 'grapheme' }), fc.boolean(), fc.nat()), { minLength: 1, maxLength: 5 }), (events) => {
        const texts = events.map(([note, counted]) => JSON.stringify({ note, ...(counted ? { retryCount: 'X' } : {}) }).replace('"X"', PLACEHOLDER));
        const { buffer, ranges } = unitOf(texts);
        ranges.forEach(({ start, end, retryAt }, k) => {
          const [note, counted, retryCount] = events[k]!;
          const json = new JsonBytes(buffer, start, end, retryAt, retryCount);
          const expected = JSON.stringify({ note, ...(counted ? { retryCount } : {}) });
          expect(json.toString()).toBe(expected);
          expect(json.byteLength).toBe(Buffer.byteLength(expected));
          const into = Buffer.alloc(json.byteLength + 4, 0x2e);
          expect(json.writeTo(into, 2)).toBe(2 + json.byteLength);
          expect(into.toString('utf8', 2, 2 + json.byteLength)).toBe(expected);
          expect(into.toString('latin1', 0, 2) + into.toString('latin1', 2 + json.byteLength)).toBe('....');
        });
      }),
    );
  });

  it('has the length of the placeholder it replaces', () => {
    expect(Buffer.byteLength(PLACEHOLDER)).toBe(RETRY_PLACEHOLDER_LENGTH);
  });

  it('tells a JSON object from anything else', () => {
    expect(JsonBytes.of('{"a":1}').isObject).toBe(true);
    expect(JsonBytes.of('[1]').isObject).toBe(false);
    expect(JsonBytes.of('').isObject).toBe(false);
  });

  it('joins events into JSON Lines', () => {
    const lines = jsonLines([JsonBytes.of('{"a":"é"}'), JsonBytes.of('{}')]);
    expect(lines.toString('utf8')).toBe('{"a":"é"}\n{}\n');
  });
});
