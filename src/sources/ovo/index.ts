/** The OVO Comms Platform sources (`ovo-feedback`, `ovo-v2`) over NDJSON files or Kafka. */
import type { JsonObject, Source } from '../../core/types.js';
import type { OvoFeedbackSourceConfig, OvoV2SourceConfig } from '../config.js';
import { createKafkaSource, type KafkaRecordMeta } from '../kafka/index.js';
import { createJsonLinesSource, decodeRawJson } from '../shared/json-lines-source.js';
import { unwrapAvroJsonRecord } from './avro-json.js';
import { recordTypeFromSchemaName, recordTypeFromTopic, tagOvoV2Record } from './record-type.js';

/** Builds an OVO source: files are NDJSON in plain or Avro-JSON rendering; Kafka values are Avro or JSON. */
export function createOvoSource(config: OvoFeedbackSourceConfig | OvoV2SourceConfig, baseDir: string): Source {
  const v2 = config.type === 'ovo-v2';
  if (config.kafka) {
    const source = createKafkaSource({
      name: config.type,
      kafka: config.kafka,
      baseDir,
      enrich: v2 ? tagOvoV2KafkaRecord : undefined,
    });
    // Avro values are stored as their decoded JSON, JSON values as sent; binary values that failed to decode as base64.
    source.decodeRaw = (raw) =>
      raw.startsWith('base64:')
        ? 'a binary Kafka value that could not be decoded when read (see the original reason); it cannot be decoded again from the dead letter'
        : decodeRawJson(raw, v2 ? unwrapAndTag : unwrapAvroJsonRecord);
    return source;
  }
  return createJsonLinesSource({
    name: config.type,
    files: config.files,
    baseDir,
    maxLineBytes: config.maxLineBytes,
    transform: v2 ? unwrapAndTag : unwrapAvroJsonRecord,
  });
}

/** Names an OVO v2 record read from Kafka: by its Avro schema name, else its topic, else its fields. */
export function tagOvoV2KafkaRecord(record: JsonObject, meta: KafkaRecordMeta): JsonObject {
  return tagOvoV2Record(record, recordTypeFromSchemaName(meta.schemaName) ?? recordTypeFromTopic(meta.topic));
}

function unwrapAndTag(value: JsonObject): JsonObject | string {
  const record = unwrapAvroJsonRecord(value);
  return typeof record === 'string' ? record : tagOvoV2Record(record);
}
