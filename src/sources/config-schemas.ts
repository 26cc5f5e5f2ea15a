/**
 * JSON Schemas (draft-07) of each source type's configuration. Every field has a description; optional fields with a
 * value-like default carry `default` (safe for AJV `useDefaults`); required or alternative fields say so instead.
 */
import type { SourceType } from './config.js';

type Schema = Record<string, unknown>;

const mapping: Schema = {
  type: 'string',
  minLength: 1,
  description: 'Mapping file for this source, relative to the configuration file. When omitted: the bundled mappings/<type>.json.',
};

const maxLineBytes: Schema = {
  type: 'integer',
  minimum: 64,
  description: 'Lines longer than this many bytes are dead-lettered with a reason instead of being read.',
  default: 1048576,
};

const files: Schema = {
  type: 'array',
  minItems: 1,
  items: { type: 'string', minLength: 1 },
  description: 'Input files: paths or simple globs (*, ?, **, {a,b}) relative to the configuration file. A plain path must exist. No default: name files or another transport.',
};

const kafka: Schema = {
  type: 'object',
  description: 'Read from Kafka (kafkajs) instead of files. Offsets are committed only after the pipeline settled the records. No default.',
  additionalProperties: false,
  required: ['brokers', 'topics', 'groupId'],
  properties: {
    brokers: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, description: 'Bootstrap brokers, host:port (required, no default).' },
    topics: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, description: 'Topics to consume (required, no default).' },
    groupId: { type: 'string', minLength: 1, description: 'Consumer group (required, no default); run several instances with the same group to share partitions.' },
    clientId: { type: 'string', minLength: 1, description: 'Kafka client id.', default: 'xdm-feedback' },
    ssl: {
      description: 'TLS: true for the system CAs, or PEM files for a private CA or client certificate. Verification is never turned off.',
      default: false,
      oneOf: [
        { type: 'boolean' },
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            caFile: { type: 'string', minLength: 1, description: 'PEM file of the CA that signed the brokers\' certificates. Default: the system CAs.' },
            certFile: { type: 'string', minLength: 1, description: 'PEM client certificate (mutual TLS). Default: none.' },
            keyFile: { type: 'string', minLength: 1, description: 'PEM client key (mutual TLS). Default: none.' },
          },
        },
      ],
    },
    sasl: {
      type: 'object',
      description: 'SASL authentication. The password comes from an environment variable, never from the file. Default: none.',
      additionalProperties: false,
      required: ['mechanism', 'username', 'passwordEnv'],
      properties: {
        mechanism: { enum: ['plain', 'scram-sha-256', 'scram-sha-512'], description: 'SASL mechanism (required).' },
        username: { type: 'string', minLength: 1, description: 'SASL user name (required).' },
        passwordEnv: { type: 'string', minLength: 1, description: 'Environment variable holding the SASL password (required).' },
      },
    },
    registryUrl: { type: 'string', format: 'uri', description: 'Confluent-compatible schema registry base URL; needed for Avro binary values. Default: none (JSON values only).' },
    registryUsernameEnv: { type: 'string', minLength: 1, description: 'Environment variable holding the registry basic-auth user. Default: no auth.' },
    registryPasswordEnv: { type: 'string', minLength: 1, description: 'Environment variable holding the registry basic-auth password. Default: no auth.' },
    fromBeginning: { type: 'boolean', description: 'Where a consumer group with no committed offsets starts: true = earliest, false = only new messages.', default: false },
    framing: {
      enum: ['auto', 'confluent', 'legacy', 'json'],
      description: 'Value framing: confluent = magic 0 + 4-byte schema id + Avro; legacy = 4-byte schema id + Avro; json = Avro-JSON or plain JSON text; auto = detect per message.',
      default: 'auto',
    },
    follow: { type: 'boolean', description: 'Keep consuming (a long-running service) instead of ending each run once caught up.', default: false },
    idleMs: { type: 'integer', minimum: 100, description: 'Without follow: end the run after this many milliseconds without new messages.', default: 5000 },
    sessionTimeoutMs: { type: 'integer', minimum: 1000, description: 'Consumer group session timeout.', default: 30000 },
    joinTimeoutMs: { type: 'integer', minimum: 1000, description: 'Fail the run when no partition assignment arrives within this many milliseconds.', default: 60000 },
  },
};

function ovoSchema(type: 'ovo-feedback' | 'ovo-v2', what: string): Schema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: `${type} source`,
    description: `${what}: NDJSON files (plain or Avro-JSON rendering) or Kafka (Confluent-framed Avro, legacy framing, or JSON text).`,
    type: 'object',
    additionalProperties: false,
    required: ['type'],
    properties: {
      type: { const: type, description: 'Source type.', default: type },
      files,
      maxLineBytes,
      kafka,
      mapping,
    },
    // Exactly one transport: both present would match both branches.
    oneOf: [{ required: ['files'] }, { required: ['kafka'] }],
  };
}

const crisisworksColumns: Record<string, [string, string]> = {
  deliveryId: ['Delivery ID', 'Delivery record id (required).'],
  communication: ['Communication', 'Communication (the message sent).'],
  recipient: ['Recipient', 'Recipient email address or phone number.'],
  deliveryType: ['Delivery Type', 'Channel: Email or SMS.'],
  status: ['Status', 'Delivery or feedback status (required).'],
  response: ['Response', 'The response the recipient chose (Responded).'],
  reason: ['Reason', 'Failure reason text.'],
  updated: ['Updated', 'When the status was set, YYYY-MM-DD HH:MM[:SS] (required).'],
};

/** The JSON Schema of each source type's configuration, by `type`. */
export const sourceConfigSchemas: Record<SourceType, Schema> = {
  'ovo-feedback': ovoSchema('ovo-feedback', 'OVO Comms Platform unified comms.feedback events'),
  'ovo-v2': ovoSchema('ovo-v2', 'OVO Comms Platform per-channel v2 events (EmailProgressedV2, SMSProgressedV2, LinkClickedV2, IssuedForDeliveryV2, FailedV2, CancelledV2, FailedCancellationV2)'),
  crisisworks: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'crisisworks source',
    description: 'Crisisworks Communication delivery-report CSV exports (also Excel-saved CSV).',
    type: 'object',
    additionalProperties: false,
    required: ['type', 'files'],
    properties: {
      type: { const: 'crisisworks', description: 'Source type.', default: 'crisisworks' },
      files,
      columns: {
        type: 'object',
        description: 'Header names in the export, by canonical column; records always use the canonical names (the defaults).',
        default: {},
        additionalProperties: false,
        properties: Object.fromEntries(
          Object.entries(crisisworksColumns).map(([key, [header, description]]) => [
            key,
            { type: 'string', minLength: 1, description: `Header of the ${description}`, default: header },
          ]),
        ),
      },
      delimiter: {
        type: 'string',
        minLength: 1,
        maxLength: 1,
        description: 'Field delimiter. Default: a "sep=" first line, else detected from the header line among , ; tab |.',
      },
      encoding: {
        enum: ['utf-8', 'windows-1252'],
        description: 'Text encoding. Excel "CSV (Comma delimited)" saves windows-1252; "CSV UTF-8" saves UTF-8 with a BOM.',
        default: 'utf-8',
      },
      mapping,
    },
  },
  masstack: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'masstack source',
    description: 'MasStack Communications status records: the API (incremental by status-time watermark) or its JSON/NDJSON exports.',
    type: 'object',
    additionalProperties: false,
    required: ['type'],
    properties: {
      type: { const: 'masstack', description: 'Source type.', default: 'masstack' },
      files: { ...files, description: 'Export files: a JSON array of status records, or NDJSON. Paths or globs relative to the configuration file.' },
      maxLineBytes: { ...maxLineBytes, description: 'NDJSON lines, or array elements, longer than this many bytes are dead-lettered.' },
      api: {
        type: 'object',
        description: 'Read GET {baseUrl}/v2/orgs/{org}/communications with a Bearer token. No default: name files or api.',
        additionalProperties: false,
        required: ['org'],
        properties: {
          baseUrl: { type: 'string', format: 'uri', description: 'API base URL.', default: 'https://communications.masstack.com' },
          org: { type: 'string', minLength: 1, description: 'Organisation id in the path (required).' },
          tokenEnv: { type: 'string', minLength: 1, description: 'Environment variable holding the Bearer token (never put the token in the file).', default: 'MASSTACK_TOKEN' },
          pageSize: { type: 'integer', minimum: 1, maximum: 1000, description: 'Records per page (limit).', default: 100 },
          since: { type: 'string', format: 'date-time', description: 'First run only: read records whose status time is at or after this ISO-8601 time. Default: everything.' },
          lookbackHours: { type: 'number', minimum: 0, description: 'Re-query communications requested this long before the watermark, so later status changes of older messages are seen.', default: 48 },
          timeoutMs: { type: 'integer', minimum: 100, description: 'Per-request timeout.', default: 30000 },
          retries: { type: 'integer', minimum: 0, description: 'Retries of 429, 5xx and network failures per request.', default: 6 },
          minRetryDelayMs: { type: 'integer', minimum: 0, description: 'First retry delay (full-jitter exponential backoff); Retry-After wins when given.', default: 500 },
          maxRetryDelayMs: { type: 'integer', minimum: 0, description: 'Longest retry delay.', default: 30000 },
        },
      },
      mapping,
    },
    oneOf: [{ required: ['files'] }, { required: ['api'] }],
  },
  ndjson: {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'ndjson source',
    description: 'Any JSON-lines feed, mapped by a user-written mapping file: the way to add a platform without code.',
    type: 'object',
    additionalProperties: false,
    // `mapping` is required for ndjson, but checked by the configuration loader (which resolves every mapping path).
    required: ['type', 'name', 'files'],
    properties: {
      type: { const: 'ndjson', description: 'Source type.', default: 'ndjson' },
      name: {
        type: 'string',
        pattern: '^[a-z0-9][a-z0-9._-]*$',
        description: 'Platform name (required): part of every _id and of the state database keys. Lower case, digits, . _ -.',
      },
      files,
      maxLineBytes,
      mapping: { ...mapping, description: 'The mapping file for this feed (required), relative to the configuration file.' },
    },
  },
};
