/** Configuration of the adobe-batch sink (Batch Ingestion API for backfills): types, JSON Schema, defaults. */
import { ConfigError } from '../../errors.js';
import { schemaRefSchema, type SchemaRefConfig } from '../adobe-streaming/config.js';

/** Where events of one eventType land. The schema reference is optional: batches name only the dataset. */
export interface BatchTarget {
  /** Dataset ID (24 hex characters in AEP). */
  datasetId: string;
  /** The dataset's schema (used by `schema pull`; batch ingestion itself does not send it). */
  schemaRef?: SchemaRefConfig;
}

/** The adobe-batch sink: `POST {platformUrl}/data/foundation/import/batches`, JSON Lines files, Catalog polling. */
export interface AdobeBatchConfig {
  type: 'adobe-batch';
  /** Base URL of the Platform APIs. @default the adobe section's platformUrl, else "https://platform.adobe.io" */
  platformUrl?: string;
  /** Default dataset, for every eventType without its own entry in `eventTypes`. */
  datasetId?: string;
  /** Schema of the default dataset (informational for this sink). */
  schemaRef?: SchemaRefConfig;
  /** Per-eventType datasets; one Adobe batch holds one dataset, so events are split by eventType. */
  eventTypes?: Record<string, BatchTarget>;
  /**
   * Folder for the JSON Lines part files and the batch state (`group.json`) that makes a crashed run resumable.
   * Relative paths resolve against the working directory. @default "./.xdm-feedback/batches"
   */
  stagingDir?: string;
  /** Records per batch (all datasets of one staged group together). @default 25000 */
  maxBatchRecords?: number;
  /** Bytes per batch (all part files of one staged group). @default 1073741824 (1 GiB) */
  maxBatchBytes?: number;
  /** A part file is closed and a new one started above this size. @default 67108864 (64 MiB) */
  maxFileBytes?: number;
  /** Files up to this size are uploaded with one PUT; larger ones in chunks. Adobe's limit is 256 MB. @default 268435456 */
  maxPutBytes?: number;
  /** Chunk size of large-file uploads (PATCH with Content-Range). @default 33554432 (32 MiB) */
  chunkBytes?: number;
  /** Seal the open batch when no events arrived for this long (end of input, slow sources). @default 1000 */
  lingerMs?: number;
  /**
   * Share of failed records (percent) up to which AEP still ingests the valid ones (partial ingestion); above it the
   * whole batch fails. `0`: one invalid record fails the batch. @default 5
   */
  partialIngestionPercent?: number;
  /** Batches processed at once (uploading, completing, waiting for Catalog) while the next one fills. @default 2 */
  maxConcurrentBatches?: number;
  /**
   * How many pipeline units (`send` calls, up to 500 events each) may wait for their batch: enough for the batches in
   * processing plus the one filling. The pipeline keeps each waiting event's id and ledger columns in memory (~265 B;
   * its raw input waits on disk), so memory grows with `maxBatchRecords × (maxConcurrentBatches + 1)`; lower
   * `maxBatchRecords` to use less. @default ceil(maxBatchRecords / 500) × (maxConcurrentBatches + 1) + 1
   */
  maxPendingSends?: number;
  /** First Catalog poll delay after COMPLETE; doubles up to `pollMaxIntervalMs`. @default 2000 */
  pollIntervalMs?: number;
  /** Longest delay between two Catalog polls. @default 60000 */
  pollMaxIntervalMs?: number;
  /**
   * How long a completed batch may stay unfinished in Catalog before the run stops (the state is kept; the next run
   * resumes polling). @default 14400000 (4 hours)
   */
  pollTimeoutMs?: number;
  /** Whole-request timeout (uploads get longer: this plus 1 s per MB). @default 60000 */
  requestTimeoutMs?: number;
  /** TCP/TLS connect timeout. @default 10000 */
  connectTimeoutMs?: number;
  /** How long one API call may be retried (429, 5xx, network errors). @default 600000 */
  retryDeadlineMs?: number;
  /** First backoff ceiling; doubles per retry (full jitter). @default 500 */
  backoffBaseMs?: number;
  /** Backoff ceiling. @default 30000 */
  backoffMaxMs?: number;
  /** Refresh the IMS token this long before it expires. @default 300000 */
  tokenRefreshMarginMs?: number;
  /** Staged groups of crashed runs whose verdicts were never claimed are deleted after this many days. @default 14 */
  keepUnclaimedDays?: number;
}

/** Every option with its default applied. */
export interface ResolvedBatchConfig {
  platformUrl: string;
  targets: { default?: BatchTarget; byEventType: Map<string, BatchTarget> };
  stagingDir: string;
  maxBatchRecords: number;
  maxBatchBytes: number;
  maxFileBytes: number;
  maxPutBytes: number;
  chunkBytes: number;
  lingerMs: number;
  partialIngestionPercent: number;
  maxConcurrentBatches: number;
  maxPendingSends: number;
  pollIntervalMs: number;
  pollMaxIntervalMs: number;
  pollTimeoutMs: number;
  requestTimeoutMs: number;
  connectTimeoutMs: number;
  retryDeadlineMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  tokenRefreshMarginMs: number;
  keepUnclaimedDays: number;
}

/** Adobe refuses PUT uploads above 256 MB; larger files must be chunked. */
export const MAX_PUT_BYTES = 256 * 1024 * 1024;
/** Adobe accepts chunks of up to 512 000 000 bytes. */
export const MAX_CHUNK_BYTES = 512_000_000;
export const DEFAULT_PLATFORM_URL = 'https://platform.adobe.io';
export const DEFAULT_STAGING_DIR = './.xdm-feedback/batches';

const int = (minimum: number, def: number, description: string, maximum?: number) =>
  ({ type: 'integer', minimum, ...(maximum !== undefined ? { maximum } : {}), default: def, description }) as const;

/** JSON Schema of the adobe-batch sink section, with descriptions and defaults. */
export const adobeBatchConfigSchema = {
  type: 'object',
  description: 'Sends events through the Batch Ingestion API (JSON Lines files), for large backfills.',
  required: ['type'],
  additionalProperties: false,
  properties: {
    type: { const: 'adobe-batch' },
    platformUrl: { type: 'string', format: 'uri', description: 'Platform API base URL (default: adobe.platformUrl).' },
    datasetId: { type: 'string', minLength: 1, description: 'Default dataset ID, for every eventType not listed in eventTypes.' },
    schemaRef: schemaRefSchema,
    eventTypes: {
      type: 'object',
      description: 'Dataset per eventType (AJO keeps message.feedback and message.tracking apart).',
      propertyNames: { minLength: 1 },
      additionalProperties: {
        type: 'object',
        required: ['datasetId'],
        additionalProperties: false,
        properties: { datasetId: { type: 'string', minLength: 1 }, schemaRef: schemaRefSchema },
      },
    },
    stagingDir: { type: 'string', minLength: 1, default: DEFAULT_STAGING_DIR, description: 'Folder for part files and resumable batch state.' },
    maxBatchRecords: int(1, 25_000, 'Records per batch (the run keeps ~265 B per event of unsettled batches in memory).'),
    maxBatchBytes: int(1024, 1024 ** 3, 'Bytes per batch (all part files).'),
    maxFileBytes: int(1024, 64 * 1024 ** 2, 'A new part file is started above this size.'),
    maxPutBytes: int(1, MAX_PUT_BYTES, 'Files up to this size go in one PUT; larger ones in chunks (Adobe: 256 MB).', MAX_PUT_BYTES),
    chunkBytes: int(1, 32 * 1024 ** 2, 'Chunk size of large-file uploads.', MAX_CHUNK_BYTES),
    lingerMs: int(1, 1000, 'Seal the open batch when no events arrived for this long.'),
    partialIngestionPercent: { type: 'number', minimum: 0, maximum: 100, default: 5, description: 'Partial ingestion threshold in percent.' },
    maxConcurrentBatches: int(1, 2, 'Batches processed at once while the next one fills.'),
    maxPendingSends: {
      type: 'integer',
      minimum: 1,
      description: 'Pipeline units that may wait for their batch (default: enough for maxConcurrentBatches + 1 batches of 500-event units).',
    },
    pollIntervalMs: int(1, 2000, 'First Catalog poll delay; doubles per poll.'),
    pollMaxIntervalMs: int(1, 60_000, 'Longest delay between Catalog polls.'),
    pollTimeoutMs: int(1, 4 * 3600_000, 'How long a completed batch may stay unfinished before the run stops (resumed next run).'),
    requestTimeoutMs: int(100, 60_000, 'Whole-request timeout in ms (uploads get 1 s per MB more).'),
    connectTimeoutMs: int(50, 10_000, 'TCP/TLS connect timeout in ms.'),
    retryDeadlineMs: int(0, 600_000, 'How long one API call may be retried (429, 5xx, network errors).'),
    backoffBaseMs: int(1, 500, 'First backoff ceiling in ms; doubles per retry, full jitter.'),
    backoffMaxMs: int(1, 30_000, 'Backoff ceiling in ms (Retry-After may ask for more).'),
    tokenRefreshMarginMs: int(0, 300_000, 'Refresh the IMS token this long before it expires.'),
    keepUnclaimedDays: int(1, 14, 'Days to keep the verdicts of a crashed run for the rerun to claim.'),
  },
} as const;

/** Applies defaults and checks what the schema cannot (a target dataset, consistent sizes). Throws ConfigError. */
export function resolveBatchConfig(config: AdobeBatchConfig, fallbackPlatformUrl?: string): ResolvedBatchConfig {
  const byEventType = new Map(Object.entries(config.eventTypes ?? {}));
  if (config.datasetId === undefined && byEventType.size === 0) {
    throw new ConfigError('sink: no target dataset; set datasetId, or eventTypes["message.feedback"].datasetId and eventTypes["message.tracking"].datasetId');
  }
  const maxPutBytes = config.maxPutBytes ?? MAX_PUT_BYTES;
  if (maxPutBytes > MAX_PUT_BYTES) throw new ConfigError(`sink.maxPutBytes: ${maxPutBytes} is above Adobe's 256 MB upload limit; use at most ${MAX_PUT_BYTES}`);
  const chunkBytes = config.chunkBytes ?? 32 * 1024 ** 2;
  if (chunkBytes > MAX_CHUNK_BYTES) throw new ConfigError(`sink.chunkBytes: ${chunkBytes} is above Adobe's chunk limit; use at most ${MAX_CHUNK_BYTES}`);
  const maxConcurrentBatches = config.maxConcurrentBatches ?? 2;
  const maxBatchRecords = config.maxBatchRecords ?? 25_000;
  const maxPendingSends = config.maxPendingSends ?? Math.ceil(maxBatchRecords / 500) * (maxConcurrentBatches + 1) + 1;
  const pollIntervalMs = config.pollIntervalMs ?? 2000;
  return {
    platformUrl: (config.platformUrl ?? fallbackPlatformUrl ?? DEFAULT_PLATFORM_URL).replace(/\/+$/, ''),
    targets: {
      ...(config.datasetId !== undefined ? { default: { datasetId: config.datasetId, ...(config.schemaRef ? { schemaRef: config.schemaRef } : {}) } } : {}),
      byEventType,
    },
    stagingDir: config.stagingDir ?? DEFAULT_STAGING_DIR,
    maxBatchRecords,
    maxBatchBytes: config.maxBatchBytes ?? 1024 ** 3,
    maxFileBytes: config.maxFileBytes ?? 64 * 1024 ** 2,
    maxPutBytes,
    chunkBytes,
    lingerMs: config.lingerMs ?? 1000,
    partialIngestionPercent: config.partialIngestionPercent ?? 5,
    maxConcurrentBatches,
    maxPendingSends,
    pollIntervalMs,
    pollMaxIntervalMs: Math.max(pollIntervalMs, config.pollMaxIntervalMs ?? 60_000),
    pollTimeoutMs: config.pollTimeoutMs ?? 4 * 3600_000,
    requestTimeoutMs: config.requestTimeoutMs ?? 60_000,
    connectTimeoutMs: config.connectTimeoutMs ?? 10_000,
    retryDeadlineMs: config.retryDeadlineMs ?? 600_000,
    backoffBaseMs: config.backoffBaseMs ?? 500,
    backoffMaxMs: config.backoffMaxMs ?? 30_000,
    tokenRefreshMarginMs: config.tokenRefreshMarginMs ?? 300_000,
    keepUnclaimedDays: config.keepUnclaimedDays ?? 14,
  };
}

/** The dataset an event of this eventType goes to, or undefined when none is configured. */
export function targetFor(config: ResolvedBatchConfig, eventType: string): BatchTarget | undefined {
  return config.targets.byEventType.get(eventType) ?? config.targets.default;
}
