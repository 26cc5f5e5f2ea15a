/**
 * Checks an Avro binary body against its writer schema without building values, before avsc decodes it: a corrupt
 * array or map block count (billions of items in a few bytes) would otherwise make avsc push items until the process
 * runs out of memory, and a message that crashes the consumer is read again after every restart.
 */
import type { Type, types as AvscTypes } from 'avsc';

/** Items of zero-byte types (null, empty records) one body may claim in total; each takes no bytes to encode. */
const MAX_EMPTY_ITEMS = 100_000;

class Corrupt extends Error {}

interface Cursor {
  buf: Buffer;
  pos: number;
  emptyItems: number;
}

type Skip = (c: Cursor) => void;

const walkers = new WeakMap<Type, Skip>();

/** Returns why `buf` (from `start`) cannot be a value of `type`, or undefined when its structure is sound. */
export function checkAvroBody(type: Type, buf: Buffer, start: number): string | undefined {
  try {
    skipperFor(type)({ buf, pos: start, emptyItems: 0 });
    return undefined;
  } catch (error) {
    if (error instanceof Corrupt) return error.message;
    if (error instanceof RangeError) return 'nesting too deep to decode';
    throw error;
  }
}

function readLong(c: Cursor): number {
  let n = 0;
  let shift = 1;
  for (let i = 0; i < 10; i++) {
    if (c.pos >= c.buf.length) throw new Corrupt(`truncated at byte ${c.pos}`);
    const b = c.buf[c.pos++]!;
    n += (b & 0x7f) * shift;
    if ((b & 0x80) === 0) return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
    shift *= 128;
  }
  throw new Corrupt(`invalid variable-length number at byte ${c.pos}`);
}

function advance(c: Cursor, bytes: number, what: string): void {
  if (!Number.isSafeInteger(bytes) || bytes < 0 || c.pos + bytes > c.buf.length) {
    throw new Corrupt(`${what} of ${bytes} bytes at byte ${c.pos} runs past the end (${c.buf.length} bytes)`);
  }
  c.pos += bytes;
}

/** The fewest bytes a value of `t` can take (0 for null and records of nulls). */
function minBytes(t: Type, seen = new Set<Type>()): number {
  if (seen.has(t)) return 1; // a recursive reference always goes through a union or a collection
  seen.add(t);
  const name = t.typeName;
  if (name.startsWith('logical:')) return minBytes((t as AvscTypes.LogicalType).underlyingType, seen);
  switch (name.replace(/^abstract:/, '')) {
    case 'null':
      return 0;
    case 'float':
      return 4;
    case 'double':
      return 8;
    case 'fixed':
      return (t as AvscTypes.FixedType).size;
    case 'record':
    case 'error':
      return (t as AvscTypes.RecordType).fields.reduce((sum, f) => sum + minBytes(f.type, seen), 0);
    default:
      return 1; // boolean, int, long, enum, string, bytes, union index, array/map end marker
  }
}

function skipperFor(t: Type): Skip {
  const known = walkers.get(t);
  if (known) return known;
  let impl: Skip = () => undefined;
  const trampoline: Skip = (c) => impl(c);
  walkers.set(t, trampoline); // recursive schemas
  impl = build(t);
  return trampoline;
}

function blocks(c: Cursor, what: string, itemMinBytes: number, item: Skip): void {
  for (;;) {
    let count = readLong(c);
    if (count === 0) return;
    if (count < 0) {
      count = -count;
      const size = readLong(c);
      if (size < 0) throw new Corrupt(`negative ${what} block size at byte ${c.pos}`);
      if (c.pos + size > c.buf.length) throw new Corrupt(`${what} block of ${size} bytes at byte ${c.pos} runs past the end`);
    }
    if (itemMinBytes > 0 && count * itemMinBytes > c.buf.length - c.pos) {
      throw new Corrupt(`${what} claims ${count} items at byte ${c.pos} but only ${c.buf.length - c.pos} bytes are left`);
    }
    if (itemMinBytes === 0 && (c.emptyItems += count) > MAX_EMPTY_ITEMS) {
      throw new Corrupt(`${what} claims ${c.emptyItems} empty items, more than ${MAX_EMPTY_ITEMS}`);
    }
    for (let i = 0; i < count; i++) item(c);
  }
}

function build(t: Type): Skip {
  const name = t.typeName;
  if (name.startsWith('logical:')) return skipperFor((t as AvscTypes.LogicalType).underlyingType);
  switch (name.replace(/^abstract:/, '')) {
    case 'null':
      return () => undefined;
    case 'boolean':
      return (c) => advance(c, 1, 'boolean');
    case 'int':
    case 'long':
      return (c) => void readLong(c);
    case 'float':
      return (c) => advance(c, 4, 'float');
    case 'double':
      return (c) => advance(c, 8, 'double');
    case 'string':
    case 'bytes':
      return (c) => advance(c, readLong(c), name);
    case 'fixed': {
      const size = (t as AvscTypes.FixedType).size;
      return (c) => advance(c, size, 'fixed');
    }
    case 'enum': {
      const symbols = (t as AvscTypes.EnumType).symbols.length;
      return (c) => {
        const index = readLong(c);
        if (index < 0 || index >= symbols) throw new Corrupt(`enum index ${index} at byte ${c.pos} is not one of ${symbols} symbols`);
      };
    }
    case 'record':
    case 'error': {
      const fields = (t as AvscTypes.RecordType).fields.map((f) => skipperFor(f.type));
      return (c) => {
        for (const skip of fields) skip(c);
      };
    }
    case 'array': {
      const items = (t as AvscTypes.ArrayType).itemsType;
      const min = minBytes(items);
      const skip = skipperFor(items);
      return (c) => blocks(c, 'array', min, skip);
    }
    case 'map': {
      const values = skipperFor((t as AvscTypes.MapType).valuesType);
      const min = 1 + minBytes((t as AvscTypes.MapType).valuesType);
      return (c) =>
        blocks(c, 'map', min, (cc) => {
          advance(cc, readLong(cc), 'map key');
          values(cc);
        });
    }
    case 'union:wrapped':
    case 'union:unwrapped': {
      const branches = (t as AvscTypes.WrappedUnionType).types.map((b) => skipperFor(b));
      return (c) => {
        const index = readLong(c);
        const branch = branches[index];
        if (!branch) throw new Corrupt(`union branch ${index} at byte ${c.pos} is not one of ${branches.length}`);
        branch(c);
      };
    }
    default:
      // An unknown kind: let avsc judge it.
      return () => undefined;
  }
}
