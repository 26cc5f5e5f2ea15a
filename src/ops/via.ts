/**
 * How a backfill reaches Adobe: `streaming` (the configured DCS sink), `batch` (Batch Ingestion API) or `auto`
 * (batch above a size threshold, when a batch target is configured or can be derived from the streaming sink).
 */
import type { Config } from '../config/load.js';
import { dirname, join } from 'node:path';
import type { AdobeBatchConfig, SinkConfig } from '../sinks/index.js';
import { ConfigError } from '../errors.js';

export type Via = 'auto' | 'streaming' | 'batch';
export const VIAS: readonly Via[] = ['auto', 'streaming', 'batch'];

/** What is known of a backfill's input before it starts (file sources can tell their size). */
export interface InputEstimate {
  /** Bytes still to read, when every selected source can tell; undefined when any cannot. */
  bytes?: number;
  /** Records still to read, when known. */
  records?: number;
}

/** `auto` picks the batch API when at least this much input is estimated. @default 64 MiB */
export const AUTO_BATCH_THRESHOLD_BYTES = 64 * 1024 * 1024;
/** `auto` picks the batch API when at least this many records are estimated. @default 100000 */
export const AUTO_BATCH_THRESHOLD_RECORDS = 100_000;

/** When `auto` switches to batch ingestion (either threshold reached is enough). */
export interface AutoThresholds {
  bytes?: number;
  records?: number;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1000,
  kib: 1024,
  m: 1000 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1000 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1000 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4,
};

/**
 * Parses `--batch-threshold`: input still to read at which `--via auto` switches to batch ingestion, as bytes or a
 * number with a unit (`500MB`, `1.5 GiB`, `64mib`; KB/MB/GB are powers of 1000, KiB/MiB/GiB of 1024). Returns bytes.
 */
export function parseBatchThreshold(value: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = match ? SIZE_UNITS[match[2]!.toLowerCase()] : undefined;
  const bytes = match && unit !== undefined ? Math.round(Number(match[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 1) {
    throw new ConfigError(`--batch-threshold ${value}: give a size of input, e.g. 500MB, 2GiB or a number of bytes (1 or more)`);
  }
  return bytes;
}

export function parseVia(value: string | undefined): Via {
  if (value === undefined) return 'auto';
  if (!(VIAS as readonly string[]).includes(value)) throw new ConfigError(`--via ${value}: use one of ${VIAS.join(', ')}`);
  return value as Via;
}

/**
 * The adobe-batch target of a configuration: the configured adobe-batch sink, or one derived from the adobe-streaming sink — same datasets, the adobe section's Platform
 * URL, staging next to the state file — when the adobe section is there. Undefined when neither is possible.
 */
export function batchSinkConfig(config: Config): AdobeBatchConfig | undefined {
  const sink = config.sink;
  if (sink.type === 'adobe-batch') return sink;
  if (sink.type !== 'adobe-streaming' || !config.adobe) return undefined;
  const derived: AdobeBatchConfig = {
    type: 'adobe-batch',
    platformUrl: config.adobe.platformUrl,
    stagingDir: join(dirname(config.state), 'batches'),
  };
  if (sink.datasetId !== undefined) derived.datasetId = sink.datasetId;
  if (sink.schemaRef !== undefined) derived.schemaRef = sink.schemaRef;
  if (sink.eventTypes !== undefined) derived.eventTypes = { ...sink.eventTypes };
  return derived;
}

function reaches(estimate: InputEstimate, thresholds: AutoThresholds): boolean {
  const bytes = thresholds.bytes ?? AUTO_BATCH_THRESHOLD_BYTES;
  const records = thresholds.records ?? AUTO_BATCH_THRESHOLD_RECORDS;
  return (estimate.bytes !== undefined && estimate.bytes >= bytes) || (estimate.records !== undefined && estimate.records >= records);
}

/**
 * The sink a backfill uses. `streaming`: the configured sink (normally adobe-streaming). `batch`: the configured
 * adobe-batch sink, or one derived from the streaming sink's datasets and the adobe section. `auto`: the configured
 * adobe-batch sink if that is what is configured; else batch when a batch target can be derived and the estimated
 * input reaches a threshold (bytes or records); else the configured sink. An unknown size stays on the configured sink.
 */
export function chooseSink(via: Via, config: Config, estimate: InputEstimate, thresholds: AutoThresholds = {}): SinkConfig {
  const configuredBatch = config.sink.type === 'adobe-batch';
  const batch = batchSinkConfig(config);
  switch (via) {
    case 'streaming':
      if (configuredBatch) throw new ConfigError('--via streaming: the configured sink is adobe-batch; configure an adobe-streaming sink or use --via batch');
      return config.sink;
    case 'batch':
      if (!batch) {
        throw new ConfigError(
          `--via batch: the configured sink is ${config.sink.type}; set sink.type to adobe-batch for batch backfills, ` +
            'or configure an adobe-streaming sink with the adobe section (the batch target is derived from its datasets), or use --via streaming',
        );
      }
      return batch;
    case 'auto':
      if (configuredBatch) return batch!;
      if (batch && reaches(estimate, thresholds)) return batch;
      return config.sink;
  }
}
