/** Configuration types of every source, discriminated by `type` (validated against `sourceConfigSchemas`). */

/** Reading NDJSON/CSV/JSON files. */
export interface FilesInput {
  /** File paths or simple globs (`*`, `?`, `**`, `{a,b}`), relative to the configuration's directory. */
  files: string[];
  kafka?: never;
  api?: never;
  /** Lines longer than this many bytes are dead-lettered unread. @default 1048576 */
  maxLineBytes?: number;
}

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

/** Kafka transport (kafkajs) with Confluent-registry Avro decoding. */
export interface KafkaConfig {
  brokers: string[];
  topics: string[];
  groupId: string;
  /** @default "xdm-feedback" */
  clientId?: string;
  /** `true` for TLS with the system CAs, or files for a private CA / client certificate. */
  ssl?: boolean | { caFile?: string; certFile?: string; keyFile?: string };
  /** SASL credentials; the password is read from the named environment variable. */
  sasl?: { mechanism: SaslMechanism; username: string; passwordEnv: string };
  /** Confluent-compatible schema registry, e.g. `https://registry.example.com:8081`. */
  registryUrl?: string;
  /** Environment variables holding registry basic-auth credentials (Aiven, Confluent Cloud). */
  registryUsernameEnv?: string;
  registryPasswordEnv?: string;
  /** Where a new consumer group starts. @default false (only new messages) */
  fromBeginning?: boolean;
  /** How message values are framed. @default "auto" */
  framing?: 'auto' | 'confluent' | 'legacy' | 'json';
  /** Keep consuming forever instead of ending the read once caught up. @default false */
  follow?: boolean;
  /** When not following: end the read after this long without new messages. @default 5000 */
  idleMs?: number;
  /** @default 30000 */
  sessionTimeoutMs?: number;
  /** Fail the run when no partition assignment arrives within this time. @default 60000 */
  joinTimeoutMs?: number;
}

export interface KafkaInput {
  kafka: KafkaConfig;
  files?: never;
  api?: never;
}

/** Optional override of the mapping file every source may name (the ndjson source requires it). */
interface WithMapping {
  /** Mapping file path, relative to the configuration's directory. @default "mappings/<type>.json" */
  mapping?: string;
}

export type OvoFeedbackSourceConfig = { type: 'ovo-feedback' } & WithMapping & (FilesInput | KafkaInput);
export type OvoV2SourceConfig = { type: 'ovo-v2' } & WithMapping & (FilesInput | KafkaInput);

/** Crisisworks report column names, by canonical key. */
export interface CrisisworksColumns {
  deliveryId?: string;
  communication?: string;
  recipient?: string;
  deliveryType?: string;
  status?: string;
  response?: string;
  reason?: string;
  updated?: string;
}

export interface CrisisworksSourceConfig extends WithMapping {
  type: 'crisisworks';
  files: string[];
  /** Header names in the export, when they differ from the defaults. */
  columns?: CrisisworksColumns;
  /** Field delimiter; detected from the header line (`,`, `;`, tab, `|`) or a `sep=` line when omitted. */
  delimiter?: string;
  /** Text encoding of the export. Excel's plain "CSV" is windows-1252. @default "utf-8" */
  encoding?: 'utf-8' | 'windows-1252';
}

export interface MasStackApiConfig {
  /** @default "https://communications.masstack.com" */
  baseUrl?: string;
  org: string;
  /** Environment variable holding the Bearer token. @default "MASSTACK_TOKEN" */
  tokenEnv?: string;
  /** @default 100 */
  pageSize?: number;
  /** ISO-8601 time to start from on the first run (later runs use the watermark). */
  since?: string;
  /** How far before the watermark to re-query by request time, to catch late status changes. @default 48 */
  lookbackHours?: number;
  /** @default 30000 */
  timeoutMs?: number;
  /** Retries of 429/5xx/network failures per request. @default 6 */
  retries?: number;
  /** @default 500 */
  minRetryDelayMs?: number;
  /** @default 30000 */
  maxRetryDelayMs?: number;
}

export type MasStackSourceConfig =
  | ({ type: 'masstack'; api: MasStackApiConfig; files?: never } & WithMapping)
  | ({ type: 'masstack'; files: string[]; api?: never; maxLineBytes?: number } & WithMapping);

export interface NdjsonSourceConfig {
  type: 'ndjson';
  /** The platform name used in `_id`s and the state database. */
  name: string;
  files: string[];
  /** The mapping file for this feed. */
  mapping: string;
  /** @default 1048576 */
  maxLineBytes?: number;
}

/** Any source configuration. */
export type SourceConfig =
  | OvoFeedbackSourceConfig
  | OvoV2SourceConfig
  | CrisisworksSourceConfig
  | MasStackSourceConfig
  | NdjsonSourceConfig;

export type SourceType = SourceConfig['type'];
