// The engine is compiled once: mapping records parses no JSON and builds no regular expressions.
// (Its speed is measured by `npm run bench`, never in a timed unit test.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { JsonObject } from '../../src/core/types.js';
import { loadMapping } from '../../src/mapping/index.js';
import { unwrapAvroJsonRecord } from '../../src/sources/ovo/avro-json.js';
import { tagOvoV2Record } from '../../src/sources/ovo/record-type.js';

const ROOT = join(import.meta.dirname, '..', '..');

/** The sample OVO v2 records as the source hands them over (unwrapped, tagged), skipping deliberately broken lines. */
function records(): JsonObject[] {
  return readFileSync(join(ROOT, 'examples', 'data', 'ovo-v2.ndjson'), 'utf8')
    .trim()
    .split('\n')
    .flatMap((line) => {
      try {
        const r = unwrapAvroJsonRecord(JSON.parse(line) as JsonObject);
        return typeof r === 'string' ? [] : [tagOvoV2Record(r)];
      } catch {
        return [];
      }
    });
}

describe('mapping speed', () => {
  const RealRegExp = globalThis.RegExp;
  afterEach(() => {
    globalThis.RegExp = RealRegExp;
    vi.restoreAllMocks();
  });

  test('mapping a record parses no JSON and constructs no regular expression', () => {
    const mapper = loadMapping(join(ROOT, 'mappings', 'ovo-v2.json'));
    const input = records();
    let built = 0;
    globalThis.RegExp = new Proxy(RealRegExp, {
      construct(target, args: [string | RegExp, string?]) {
        built++;
        return new target(...args);
      },
      apply(target, _this, args: [string | RegExp, string?]) {
        built++;
        return target(...args);
      },
    });
    const parse = vi.spyOn(JSON, 'parse');
    for (const r of input) mapper.map(r);
    expect(parse).not.toHaveBeenCalled();
    expect(built).toBe(0);
  });
});
