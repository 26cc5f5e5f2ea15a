/** The Kafka transport: a Source over a kafkajs consumer group with registry-backed Avro decoding. */
import type { JsonObject, Source } from '../../core/types.js';
import { ConfigError } from '../../errors.js';
import { registerSecret } from '../../redact.js';
import type { KafkaConfig } from '../config.js';
import { createKafkaConsumer } from './kafka-client.js';
import { KafkaConsumerSource, type KafkaRecordMeta } from './kafka-source.js';
import { createRegistryLookup } from './schema-registry.js';
import type { SchemaLookup } from './wire-format.js';

export { KafkaConsumerSource, type ConsumerLike, type KafkaRecordMeta, type KafkaSourceOptions } from './kafka-source.js';
export { decodeKafkaValue, type DecodedValue, type Framing, type SchemaLookup } from './wire-format.js';
export { parseWriterSchema, type WriterSchema } from './avro-types.js';
export { createRegistryLookup } from './schema-registry.js';

export interface KafkaSourceConfig {
  name: string;
  kafka: KafkaConfig;
  baseDir: string;
  enrich?: (record: JsonObject, meta: KafkaRecordMeta) => JsonObject;
  env?: NodeJS.ProcessEnv;
}

/** Builds a Kafka source from configuration; credentials are read and the consumer connects on the first read. */
export function createKafkaSource(config: KafkaSourceConfig): Source {
  const { kafka, baseDir } = config;
  const env = config.env ?? process.env;
  let registry: SchemaLookup | undefined;
  const lookup: SchemaLookup | undefined = kafka.registryUrl
    ? { cached: (id) => registry?.cached(id), fetch: (id) => registry!.fetch(id) }
    : undefined;
  return new KafkaConsumerSource(
    (log) => {
      if (kafka.registryUrl) {
        const username = kafka.registryUsernameEnv ? requireEnv(env, kafka.registryUsernameEnv, 'kafka.registryUsernameEnv') : undefined;
        const password = kafka.registryPasswordEnv ? requireEnv(env, kafka.registryPasswordEnv, 'kafka.registryPasswordEnv') : undefined;
        registerSecret(password);
        registry = createRegistryLookup({ url: kafka.registryUrl, username, password });
      }
      if (kafka.sasl) registerSecret(env[kafka.sasl.passwordEnv]);
      return createKafkaConsumer(kafka, baseDir, log, env);
    },
    {
      name: config.name,
      topics: kafka.topics,
      fromBeginning: kafka.fromBeginning ?? false,
      framing: kafka.framing ?? 'auto',
      lookup,
      follow: kafka.follow ?? false,
      idleMs: kafka.idleMs ?? 5000,
      joinTimeoutMs: kafka.joinTimeoutMs ?? 60_000,
      enrich: config.enrich,
    },
  );
}

function requireEnv(env: NodeJS.ProcessEnv, name: string, key: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new ConfigError(`${key}: environment variable ${name} is not set`);
  return value;
}
