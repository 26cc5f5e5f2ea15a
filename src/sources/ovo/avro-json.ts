/** Avro-JSON → plain JSON: unwraps union branches like `{"string":"x"}` or `{"com.ovoenergy.comms.model.Customer":{…}}`. */
import type { JsonObject, JsonValue } from '../../core/types.js';

/** Branch names the Avro JSON encoding uses for unnamed types. */
const UNNAMED_BRANCHES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string', 'array', 'map']);

/** A dotted Avro full name (namespace + name), e.g. `com.ovoenergy.comms.model.Customer`. */
const FULL_NAME = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$/;

/**
 * Tells whether a key is an Avro union branch name: a primitive/array/map name or a dotted full name.
 * Real single-key objects such as `{"customerId":"1"}` are left alone.
 */
export function isUnionBranchName(key: string): boolean {
  return UNNAMED_BRANCHES.has(key) || (key.includes('.') && FULL_NAME.test(key));
}

/**
 * Returns the value with every union wrapper removed, recursively. Objects without wrappers are returned
 * as they are (no copy), so plain JSON costs one walk and no allocation.
 */
export function unwrapAvroJson(value: JsonValue): JsonValue {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = unwrapAvroJson(value[i]!);
    return value;
  }
  let onlyKey: string | undefined;
  let count = 0;
  for (const key in value) {
    if (++count > 1) break;
    onlyKey = key;
  }
  if (count === 1 && onlyKey !== undefined && isUnionBranchName(onlyKey)) return unwrapAvroJson(value[onlyKey]!);
  for (const key in value) {
    const child = value[key]!;
    if (child !== null && typeof child === 'object') value[key] = unwrapAvroJson(child);
  }
  return value;
}

/** Unwraps a top-level record (a top-level value is itself never a union in OVO's schemas, but may be wrapped). */
export function unwrapAvroJsonRecord(record: JsonObject): JsonObject | string {
  const out = unwrapAvroJson(record);
  if (out === null || typeof out !== 'object' || Array.isArray(out)) return 'the record is a union wrapper around a non-object value';
  return out;
}
