/** fast-check generators of damaged input: mutated JSON records, broken lines, invalid UTF-8, bogus times, huge and deep values. */
import fc from 'fast-check';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Values that break mappers and validators: wrong types, unknown enum text, bogus times, huge strings, deep nesting. */
export const nastyValue: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  fc.constantFrom<Json>(
    null,
    '',
    ' ',
    0,
    -1,
    1e308,
    -1e308,
    2 ** 53 + 1,
    true,
    [],
    {},
    'Bogus',
    'DELIVERED ',
    'delivered',
    '2024-13-45T99:99:99Z',
    '2024-02-30',
    'yesterday',
    '0000-00-00 00:00:00',
    '1714552020000',
    '+275760-09-13T00:00:00.001Z',
    -8.64e15 - 1,
    8.64e15 + 1,
    1714552020,
    'Error: ',
    'Error: EmailAddressBlacklisted',
    '\u0000\u0001\u0002',
    '\ud800',
    '😀'.repeat(50),
    '<script>alert(1)</script>',
    "'; DROP TABLE ledger; --",
  ),
  fc.integer({ min: 1, max: 4 }).map((k) => 'x'.repeat(k * 50_000)), // huge strings
  fc.integer({ min: 50, max: 3000 }).map((depth) => {
    let v: Json = 'deep';
    for (let i = 0; i < depth; i++) v = { a: v };
    return v;
  }),
);

/** One edit of a record: at a path chosen by `walk`, delete the key or put a nasty value there. */
export interface Edit {
  walk: number[];
  op: 'delete' | 'set' | 'rename';
  value: Json;
}

export const edit: fc.Arbitrary<Edit> = fc.record({
  walk: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
  op: fc.constantFrom('delete', 'set', 'set', 'rename'),
  value: nastyValue,
});

/** Applies edits to a deep copy of `record` (walking into nested objects by index). */
export function applyEdits(record: Record<string, Json>, edits: Edit[]): Record<string, Json> {
  const copy = structuredClone(record);
  for (const e of edits) {
    let target: Record<string, Json> = copy;
    for (let depth = 0; depth < e.walk.length; depth++) {
      const keys = Object.keys(target);
      if (keys.length === 0) break;
      const key = keys[e.walk[depth]! % keys.length]!;
      const next = target[key];
      const last = depth === e.walk.length - 1 || next === null || typeof next !== 'object' || Array.isArray(next);
      if (last) {
        if (e.op === 'delete') delete target[key];
        else if (e.op === 'rename') {
          target[`${key}_`] = target[key]!;
          delete target[key];
        } else target[key] = e.value;
        break;
      }
      target = next as Record<string, Json>;
    }
  }
  return copy;
}

/** Ways a line gets damaged on its way: cut short, invalid UTF-8, a BOM, a JSON non-object, stray bytes. */
export type LineDamage = 'none' | 'truncate' | 'invalid-utf8' | 'bom' | 'not-object' | 'garbage' | 'trailing-comma' | 'crlf';

export const lineDamage: fc.Arbitrary<LineDamage> = fc.constantFrom<LineDamage>(
  'none',
  'none',
  'none',
  'truncate',
  'invalid-utf8',
  'bom',
  'not-object',
  'garbage',
  'trailing-comma',
  'crlf',
);

/** Renders one line as bytes, damaged as asked; never contains a newline and is never blank. */
export function damagedLine(text: string, damage: LineDamage, cut: number): Buffer {
  const clean = text.replace(/[\r\n]/g, ' ');
  let out: Buffer;
  switch (damage) {
    case 'truncate':
      out = Buffer.from(clean.slice(0, Math.max(1, Math.floor(clean.length * (cut % 1000) / 1000))));
      break;
    case 'invalid-utf8': {
      const b = Buffer.from(clean);
      const at = b.length === 0 ? 0 : cut % b.length;
      out = Buffer.concat([b.subarray(0, at), Buffer.from([0xff, 0xfe, 0xc3]), b.subarray(at)]);
      break;
    }
    case 'bom':
      out = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(clean)]);
      break;
    case 'not-object':
      out = Buffer.from(JSON.stringify([clean.slice(0, 40), cut]));
      break;
    case 'garbage':
      out = Buffer.from(`${clean.slice(0, cut % 200)}}}{{"`);
      break;
    case 'trailing-comma':
      out = Buffer.from(clean.replace(/}$/, ',}'));
      break;
    case 'crlf':
      out = Buffer.from(`${clean}\r`);
      break;
    default:
      out = Buffer.from(clean);
  }
  const asText = out.toString('latin1');
  return asText.trim() === '' || asText === '\r' ? Buffer.from('x') : out;
}

/** A random printable-or-not line that is neither blank nor contains a newline. */
export const randomLine: fc.Arbitrary<Buffer> = fc
  .oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 100 }), fc.uint8Array({ maxLength: 120 }).map((a) => Buffer.from(a).toString('latin1')))
  .map((s) => {
    const b = Buffer.from(s.replace(/[\r\n]/g, ' '), 'utf8');
    return b.toString('latin1').trim() === '' ? Buffer.from('x') : b;
  });

/** Joins lines into a file's bytes (each line already free of newlines). */
export const fileOf = (lines: Buffer[]): Buffer => Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
