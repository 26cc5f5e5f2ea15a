/** Decodes one Kafka message value: Confluent framing, legacy framing without magic byte, or Avro-JSON / plain JSON text. */
import type { JsonObject } from '../../core/types.js';
import { unwrapAvroJsonRecord } from '../ovo/avro-json.js';
import type { WriterSchema } from './avro-types.js';
import { checkAvroBody } from './avro-guard.js';
import { jsonParseProblem } from '../shared/json-lines-source.js';

export type Framing = 'auto' | 'confluent' | 'legacy' | 'json';

/** Finds writer schemas by registry id. `cached` answers synchronously when it can (the hot path). */
export interface SchemaLookup {
  cached(id: number): WriterSchema | undefined;
  /** Resolves undefined when the registry does not know the id; rejects on transport failures. */
  fetch(id: number): Promise<WriterSchema | undefined>;
}

export type DecodedValue =
  | { ok: true; record: JsonObject; framing: 'confluent' | 'legacy' | 'json'; schemaId?: number; schemaName?: string }
  | { ok: false; reason: string };

const OPEN_BRACE = 0x7b;

/**
 * Decodes a message value. `lookup` is undefined when no registry is configured (then only JSON works).
 * Never throws for bad bytes; registry transport failures do throw (the run must not skip records silently).
 */
export async function decodeKafkaValue(value: Buffer | null, framing: Framing, lookup: SchemaLookup | undefined): Promise<DecodedValue> {
  if (value === null || value.length === 0) return { ok: false, reason: 'empty message value (tombstone)' };
  if (framing === 'json') return decodeJsonText(value, 0);
  if (framing === 'confluent') return decodeAvro(value, 5, readId(value, 1), 'confluent', lookup);
  if (framing === 'legacy') return decodeAvro(value, 4, readId(value, 0), 'legacy', lookup);

  const jsonStart = firstNonSpace(value);
  if (value[jsonStart] === OPEN_BRACE) return decodeJsonText(value, jsonStart);
  // ovotech kafka-serialization format bytes: 1 = [1][id:4][Avro JSON], 2 = [2][JSON].
  if (value[0] === 1 && value[5] === OPEN_BRACE) return decodeJsonText(value, 5);
  if (value[0] === 2 && value[1] === OPEN_BRACE) return decodeJsonText(value, 1);

  if (value[0] === 0 && value.length >= 5) {
    // Magic 0 is ambiguous with a legacy id below 2^24: try Confluent first, then legacy.
    const confluent = await decodeAvro(value, 5, readId(value, 1), 'confluent', lookup);
    if (confluent.ok) return confluent;
    const legacy = await decodeAvro(value, 4, readId(value, 0), 'legacy', lookup);
    if (legacy.ok) return legacy;
    return { ok: false, reason: `${confluent.reason}; as legacy framing: ${legacy.reason}` };
  }
  return decodeAvro(value, 4, readId(value, 0), 'legacy', lookup);
}

function readId(value: Buffer, at: number): number | undefined {
  return value.length >= at + 4 ? value.readUInt32BE(at) : undefined;
}

function firstNonSpace(value: Buffer): number {
  let i = 0;
  while (i < value.length && (value[i] === 0x20 || value[i] === 0x0a || value[i] === 0x0d || value[i] === 0x09)) i++;
  return i;
}

async function decodeAvro(
  value: Buffer,
  bodyStart: number,
  id: number | undefined,
  framing: 'confluent' | 'legacy',
  lookup: SchemaLookup | undefined,
): Promise<DecodedValue> {
  if (id === undefined) return { ok: false, reason: `${framing} framing: value too short (${value.length} bytes)` };
  if (!lookup) return { ok: false, reason: `Avro binary value (${framing} framing, schema id ${id}) but no registryUrl is configured` };
  const schema = lookup.cached(id) ?? (await lookup.fetch(id));
  if (!schema) return { ok: false, reason: `${framing} framing: schema id ${id} is unknown to the registry` };
  const corrupt = checkAvroBody(schema.type, value, bodyStart);
  if (corrupt) return { ok: false, reason: `${framing} framing: Avro body does not match schema id ${id} (${schema.name ?? 'anonymous'}): ${corrupt}` };
  let decoded: unknown;
  try {
    decoded = schema.type.fromBuffer(value.subarray(bodyStart));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `${framing} framing: Avro body does not match schema id ${id} (${schema.name ?? 'anonymous'}): ${message}` };
  }
  const json = schema.toJson(decoded);
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return { ok: false, reason: `schema id ${id} (${schema.name ?? 'anonymous'}) is not a record schema` };
  }
  return { ok: true, record: json, framing, schemaId: id, schemaName: schema.name };
}

function decodeJsonText(value: Buffer, start: number): DecodedValue {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value.toString('utf8', start));
  } catch (error) {
    return { ok: false, reason: `JSON value: ${jsonParseProblem(error)}` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { ok: false, reason: 'JSON value is not an object' };
  const record = unwrapAvroJsonRecord(parsed as JsonObject);
  if (typeof record === 'string') return { ok: false, reason: record };
  return { ok: true, record, framing: 'json' };
}
