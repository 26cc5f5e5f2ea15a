/** The adobe-batch sink: Batch Ingestion API (JSON Lines files, Catalog, Data Access failed records) for backfills. */
export { AdobeBatchSink, type AdobeBatchDeps } from './sink.js';
export {
  adobeBatchConfigSchema,
  resolveBatchConfig,
  targetFor,
  DEFAULT_PLATFORM_URL,
  DEFAULT_STAGING_DIR,
  MAX_PUT_BYTES,
  MAX_CHUNK_BYTES,
  type AdobeBatchConfig,
  type BatchTarget,
  type ResolvedBatchConfig,
} from './config.js';
export { BatchApi, type CatalogBatch } from './client.js';
export { PlatformClient, GaveUpError, type PlatformCall, type PlatformClientOptions } from './platform.js';
export { verdictFor, validationLines } from './lifecycle.js';
export type { DatasetOutcome, DatasetPart, GroupState, StagedFile } from './staging.js';
