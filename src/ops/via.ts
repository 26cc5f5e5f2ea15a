/**
 * How a backfill reaches Adobe: `streaming` (the configured DCS sink), `batch` (Batch Ingestion API) or `auto`
 * (batch above a size threshold). The adobe-batch sink completes the batch branches here.
 */
import type { Config } from '../config/load.js';
import type { SinkConfig } from '../sinks/index.js';
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

export function parseVia(value: string | undefined): Via {
  if (value === undefined) return 'auto';
  if (!(VIAS as readonly string[]).includes(value)) throw new ConfigError(`--via ${value}: use one of ${VIAS.join(', ')}`);
  return value as Via;
}

/** The configured sink of the batch type, when the configuration has one. */
function configuredBatchSink(config: Config): SinkConfig | undefined {
  return (config.sink.type as string) === 'adobe-batch' ? config.sink : undefined;
}

/**
 * The sink a backfill uses. `streaming`: the configured sink (normally adobe-streaming). `batch`: the configured
 * adobe-batch sink. `auto`: batch when the configuration has it and the estimate reaches the threshold, else the
 * configured sink.
 * TODO(adobe-batch): derive an adobe-batch sink config from `config.sink` (same datasets) and `config.adobe` when the
 * configured sink is adobe-streaming, so `--via batch` works without a second sink section.
 */
export function chooseSink(via: Via, config: Config, estimate: InputEstimate): SinkConfig {
  const batch = configuredBatchSink(config);
  switch (via) {
    case 'streaming':
      if (batch) throw new ConfigError('--via streaming: the configured sink is adobe-batch; configure an adobe-streaming sink or use --via batch');
      return config.sink;
    case 'batch':
      if (!batch) throw new ConfigError(`--via batch: the configured sink is ${config.sink.type}; set sink.type to adobe-batch for batch backfills, or use --via streaming`);
      return batch;
    case 'auto':
      if (batch && (estimate.bytes === undefined || estimate.bytes >= AUTO_BATCH_THRESHOLD_BYTES)) return batch;
      return config.sink;
  }
}
