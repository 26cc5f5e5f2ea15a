/** Sink registry: the SinkConfig union, each sink's config schema, and `createSink`. */
import type { Logger } from 'pino';
import type { Sink } from '../core/types.js';
import type { AdobeAuthConfig, TokenProvider } from '../adobe/ims.js';
import { AdobeStreamingSink, adobeStreamingConfigSchema, type AdobeStreamingConfig, type EnvelopeConfig } from './adobe-streaming/index.js';
import { FileSink, fileSinkConfigSchema, type FileSinkConfig } from './file/index.js';
import { AdobeBatchSink, adobeBatchConfigSchema, type AdobeBatchConfig } from './adobe-batch/index.js';

export type { AdobeStreamingConfig, EnvelopeConfig } from './adobe-streaming/index.js';
export type { FileSinkConfig } from './file/index.js';
export type { AdobeBatchConfig } from './adobe-batch/index.js';
export type { AdobeAuthConfig } from '../adobe/ims.js';

/**
 * Every sink's configuration, discriminated by `type`.
 * To add a sink (e.g. `adobe-batch`): add its config type here, its schema to `sinkConfigSchemas`, and a case in `createSink`.
 */
export type SinkConfig = FileSinkConfig | AdobeStreamingConfig | AdobeBatchConfig;

/** JSON Schema of each sink's section, keyed by `type` (the config loader validates `sink` with it). */
export const sinkConfigSchemas = {
  file: fileSinkConfigSchema,
  'adobe-streaming': adobeStreamingConfigSchema,
  'adobe-batch': adobeBatchConfigSchema,
} as const;

export type SinkType = SinkConfig['type'];

export interface SinkDeps {
  log: Logger;
  /** Adobe credentials (the `adobe` config section); required by the Adobe sinks on authenticated endpoints. */
  auth?: AdobeAuthConfig;
  /** A token source to use instead of IMS with `auth` (tests, pre-issued tokens). */
  tokens?: TokenProvider;
}

/** Builds the configured sink. Throws ConfigError when its configuration cannot work (no target dataset, no credentials…). */
export function createSink(config: SinkConfig, deps: SinkDeps): Sink {
  switch (config.type) {
    case 'file':
      return new FileSink(config, deps.auth ? { orgId: deps.auth.orgId } : {});
    case 'adobe-streaming':
      return new AdobeStreamingSink(config, {
        log: deps.log,
        ...(deps.auth ? { auth: deps.auth } : {}),
        ...(deps.tokens ? { tokens: deps.tokens } : {}),
      });
    case 'adobe-batch':
      return new AdobeBatchSink(config, {
        log: deps.log,
        ...(deps.auth ? { auth: deps.auth } : {}),
        ...(deps.tokens ? { tokens: deps.tokens } : {}),
      });
    default: {
      const unknown: never = config;
      throw new Error(`unknown sink type ${JSON.stringify((unknown as { type?: unknown }).type)}`);
    }
  }
}

/**
 * The file sink for `--dry-run`, writing the envelopes the configured sink would send (same dataset routing,
 * flowId and source name); bare entities when the configured sink has no envelope (e.g. the file sink itself).
 */
export function dryRunSinkConfig(path: string, configured?: SinkConfig): FileSinkConfig {
  const envelope = configured ? envelopeOf(configured) : undefined;
  return envelope ? { type: 'file', path, envelope } : { type: 'file', path };
}

function envelopeOf(config: SinkConfig): EnvelopeConfig | undefined {
  if (config.type === 'file') return config.envelope;
  // Batch files hold bare XDM entities, so a dry run of a batch sink writes those.
  if (config.type === 'adobe-batch') return undefined;
  const { datasetId, schemaRef, eventTypes, flowId, sourceName, imsOrgId } = config;
  const envelope: EnvelopeConfig = {};
  if (datasetId !== undefined) envelope.datasetId = datasetId;
  if (schemaRef !== undefined) envelope.schemaRef = schemaRef;
  if (eventTypes !== undefined) envelope.eventTypes = eventTypes;
  if (flowId !== undefined) envelope.flowId = flowId;
  if (sourceName !== undefined) envelope.sourceName = sourceName;
  if (imsOrgId !== undefined) envelope.imsOrgId = imsOrgId;
  return envelope.datasetId !== undefined || envelope.eventTypes !== undefined ? envelope : undefined;
}
