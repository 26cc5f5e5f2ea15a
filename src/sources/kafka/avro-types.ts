/** Parses Avro writer schemas for decoding (wrapped unions, precision-safe longs) and converts decoded values to plain JSON. */
import avsc from 'avsc';
import type { Type, types as AvscTypes, Schema } from 'avsc';
import type { JsonObject, JsonValue } from '../../core/types.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);

/** A long that decodes to a number when it is a safe integer and to a decimal string otherwise (never loses digits). */
const SafeLong = avsc.types.LongType.__with({
  fromBuffer: (buf: Buffer): number | string => {
    const n = buf.readBigInt64LE(0);
    return n <= MAX_SAFE && n >= MIN_SAFE ? Number(n) : n.toString();
  },
  toBuffer: (value: number | string | bigint): Buffer => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(value));
    return buf;
  },
  fromJSON: (value: unknown): number | string => (typeof value === 'number' ? value : String(value)),
  toJSON: (value: number | string): number | string => value,
  isValid: (value: unknown): boolean =>
    (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && /^-?\d+$/.test(value)) || typeof value === 'bigint',
  compare: (a: number | string, b: number | string): number => {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  },
});

/** A writer schema ready to decode, with its compiled converter to plain JSON. */
export interface WriterSchema {
  type: Type;
  /** The top-level full name, e.g. `com.ovoenergy.comms.model.feedback.Feedback`. */
  name: string | undefined;
  toJson: (value: unknown) => JsonValue;
}

/** Parses a schema (JSON text or object). Throws with avsc's message when the schema is invalid. */
export function parseWriterSchema(schema: string | Schema): WriterSchema {
  const parsed: Schema = typeof schema === 'string' ? (JSON.parse(schema) as Schema) : schema;
  const type = avsc.Type.forSchema(parsed, { wrapUnions: 'always', registry: { long: SafeLong } });
  return { type, name: type.name, toJson: compileToJson(type) };
}

/**
 * Compiles a converter from avsc's decoded value to plain JSON: unions unwrapped, enums as strings,
 * timestamp-millis as epoch-ms numbers (logical types are not applied), bytes/fixed as base64.
 */
export function compileToJson(type: Type): (value: unknown) => JsonValue {
  const cache = new Map<Type, (value: unknown) => JsonValue>();
  const compile = (t: Type): ((value: unknown) => JsonValue) => {
    const known = cache.get(t);
    if (known) return known;
    // Recursive schemas: register a trampoline before compiling children.
    let impl: (value: unknown) => JsonValue = () => null;
    const trampoline = (value: unknown): JsonValue => impl(value);
    cache.set(t, trampoline);
    impl = build(t, compile);
    return trampoline;
  };
  return compile(type);
}

function build(t: Type, compile: (t: Type) => (value: unknown) => JsonValue): (value: unknown) => JsonValue {
  switch (t.typeName) {
    case 'record':
    case 'error': {
      const fields = (t as AvscTypes.RecordType).fields.map((f) => ({ name: f.name, conv: compile(f.type) }));
      return (value) => {
        const src = value as Record<string, unknown>;
        const out: JsonObject = {};
        for (const f of fields) out[f.name] = f.conv(src[f.name]);
        return out;
      };
    }
    case 'union:wrapped': {
      const branches = new Map<string, (value: unknown) => JsonValue>();
      for (const b of (t as AvscTypes.WrappedUnionType).types) if (b.branchName) branches.set(b.branchName, compile(b));
      return (value) => {
        if (value === null || value === undefined) return null;
        const wrapper = value as Record<string, unknown>;
        for (const key in wrapper) {
          const conv = branches.get(key);
          return conv ? conv(wrapper[key]) : (wrapper[key] as JsonValue);
        }
        return null;
      };
    }
    case 'array': {
      const conv = compile((t as AvscTypes.ArrayType).itemsType);
      return (value) => (value as unknown[]).map(conv);
    }
    case 'map': {
      const conv = compile((t as AvscTypes.MapType).valuesType as Type);
      return (value) => {
        const out: JsonObject = {};
        const src = value as Record<string, unknown>;
        for (const key of Object.keys(src)) out[key] = conv(src[key]);
        return out;
      };
    }
    case 'bytes':
    case 'fixed':
      return (value) => (value as Buffer).toString('base64');
    case 'float':
    case 'double':
      return (value) => (Number.isFinite(value as number) ? (value as number) : String(value));
    case 'null':
      return () => null;
    default:
      // int, long (safe), abstract:long, boolean, string, enum
      return (value) => value as JsonValue;
  }
}
