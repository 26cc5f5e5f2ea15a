/** Configuration of the adobe-streaming sink (and of the envelope shared with the file sink): types, JSON Schema, defaults. */
import { ConfigError } from '../../errors.js';

/** The content type of a full XDM schema reference; DCS and the dataset's schema must agree on it. */
export const XDM_FULL_CONTENT_TYPE = 'application/vnd.adobe.xed-full+json;version=1';

/** A schema reference: the schema `$id`, or the full `{id, contentType}`. */
export type SchemaRefConfig = string | { id: string; contentType?: string };

/** Where events of one eventType land. */
export interface DatasetTarget {
  /** Dataset ID (24 hex characters in AEP). */
  datasetId: string;
  /** The dataset's schema: its `$id` URL, or `{id, contentType}`. */
  schemaRef: SchemaRefConfig;
}

/** The XDM envelope fields (also used by the file sink to write the exact envelopes). */
export interface EnvelopeConfig {
  /** Default dataset for every eventType without its own entry in `eventTypes`. */
  datasetId?: string;
  /** Schema of the default dataset. */
  schemaRef?: SchemaRefConfig;
  /** Per-eventType targets, e.g. `message.feedback` and `message.tracking` in AJO's separate datasets. */
  eventTypes?: Record<string, DatasetTarget>;
  /** Dataflow ID of the HTTP API source (`header.flowId`); omit for an older streaming connection. */
  flowId?: string;
  /** `header.source.name`. @default "xdm-feedback" */
  sourceName?: string;
  /** `header.imsOrgId`. @default the org of the `adobe` section */
  imsOrgId?: string;
}

/** The adobe-streaming sink: DCS `POST {dcsUrl}/collection/batch/{inletId}`. */
export interface AdobeStreamingConfig extends EnvelopeConfig {
  type: 'adobe-streaming';
  /** DCS base URL. @default "https://dcs.adobedc.net" */
  dcsUrl?: string;
  /** Streaming connection (inlet) ID, the last part of the inlet URL. */
  inletId: string;
  /** Send the IMS bearer token and platform headers (authenticated inlets). @default true */
  authenticated?: boolean;
  /** Messages per request. @default 500 */
  maxBatchEvents?: number;
  /** Bytes per request body; DCS refuses requests above 1 MB. @default 900000 */
  maxBatchBytes?: number;
  /** Whole-request timeout. @default 30000 */
  requestTimeoutMs?: number;
  /** TCP/TLS connect timeout. @default 10000 */
  connectTimeoutMs?: number;
  /** How long one batch may be retried (429, 5xx, network errors) before its events are dead-lettered. @default 600000 */
  retryDeadlineMs?: number;
  /** First backoff ceiling; doubles per retry (full jitter). @default 500 */
  backoffBaseMs?: number;
  /** Backoff ceiling. @default 30000 */
  backoffMaxMs?: number;
  /** Adaptive concurrency bounds. */
  concurrency?: { min?: number; max?: number; initial?: number };
  /** Refresh the IMS token this long before it expires. @default 300000 */
  tokenRefreshMarginMs?: number;
}

/** Every option with its default applied. */
export interface ResolvedStreamingConfig extends AdobeStreamingConfig {
  dcsUrl: string;
  authenticated: boolean;
  maxBatchEvents: number;
  maxBatchBytes: number;
  requestTimeoutMs: number;
  connectTimeoutMs: number;
  retryDeadlineMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  concurrency: { min: number; max: number; initial: number };
  tokenRefreshMarginMs: number;
}

/** DCS refuses request bodies above 1 MB. */
export const DCS_MAX_REQUEST_BYTES = 1_000_000;

/** JSON Schema of a dataset's schemaRef (shared by every Adobe sink). */
export const schemaRefSchema = {
  description: 'Schema of the dataset: its $id URL, or {id, contentType}.',
  oneOf: [
    { type: 'string', minLength: 1 },
    {
      type: 'object',
      required: ['id'],
      additionalProperties: false,
      properties: {
        id: { type: 'string', minLength: 1, description: 'Schema $id, e.g. https://ns.adobe.com/{tenant}/schemas/{id}.' },
        contentType: { type: 'string', default: XDM_FULL_CONTENT_TYPE, description: 'Schema content type.' },
      },
    },
  ],
} as const;

/** JSON Schema of the envelope fields, shared by the file sink. */
export const envelopeConfigProperties = {
  datasetId: { type: 'string', minLength: 1, description: 'Default dataset ID, for every eventType not listed in eventTypes.' },
  schemaRef: schemaRefSchema,
  eventTypes: {
    type: 'object',
    description: 'Dataset and schema per eventType (AJO keeps message.feedback and message.tracking apart).',
    propertyNames: { minLength: 1 },
    additionalProperties: {
      type: 'object',
      required: ['datasetId', 'schemaRef'],
      additionalProperties: false,
      properties: {
        datasetId: { type: 'string', minLength: 1, description: 'Dataset ID for this eventType.' },
        schemaRef: schemaRefSchema,
      },
    },
  },
  flowId: { type: 'string', minLength: 1, description: 'Dataflow ID of the HTTP API source (header.flowId).' },
  sourceName: { type: 'string', minLength: 1, default: 'xdm-feedback', description: 'header.source.name of every envelope.' },
  imsOrgId: { type: 'string', minLength: 1, description: 'header.imsOrgId; defaults to adobe.orgId.' },
} as const;

/** JSON Schema of the adobe-streaming sink section, with descriptions and defaults. */
export const adobeStreamingConfigSchema = {
  type: 'object',
  description: 'Streams events to Adobe DCS (POST {dcsUrl}/collection/batch/{inletId}).',
  required: ['type', 'inletId'],
  additionalProperties: false,
  properties: {
    type: { const: 'adobe-streaming' },
    dcsUrl: {
      type: 'string',
      format: 'uri',
      default: 'https://dcs.adobedc.net',
      description: 'DCS base URL (stage: https://dcs-stg.adobedc.net); the full inlet URL Adobe shows is accepted too.',
    },
    inletId: { type: 'string', minLength: 1, description: 'Streaming connection (inlet) ID, the last part of the inlet URL.' },
    authenticated: { type: 'boolean', default: true, description: 'Send the IMS bearer token and platform headers (authenticated inlets).' },
    ...envelopeConfigProperties,
    maxBatchEvents: { type: 'integer', minimum: 1, maximum: 5000, default: 500, description: 'Messages per request.' },
    maxBatchBytes: {
      type: 'integer',
      minimum: 10_000,
      maximum: DCS_MAX_REQUEST_BYTES,
      default: 900_000,
      description: 'Bytes per request body (DCS refuses more than 1 MB).',
    },
    requestTimeoutMs: { type: 'integer', minimum: 100, default: 30_000, description: 'Whole-request timeout in ms.' },
    connectTimeoutMs: { type: 'integer', minimum: 50, default: 10_000, description: 'TCP/TLS connect timeout in ms.' },
    retryDeadlineMs: {
      type: 'integer',
      minimum: 0,
      default: 600_000,
      description: 'How long a batch may be retried (429, 5xx, network errors) before its events are dead-lettered (stage ingest).',
    },
    backoffBaseMs: { type: 'integer', minimum: 1, default: 500, description: 'First backoff ceiling in ms; doubles per retry, full jitter.' },
    backoffMaxMs: { type: 'integer', minimum: 1, default: 30_000, description: 'Backoff ceiling in ms (Retry-After may ask for more).' },
    concurrency: {
      type: 'object',
      additionalProperties: false,
      description: 'Adaptive (AIMD) bounds on requests in flight.',
      properties: {
        min: { type: 'integer', minimum: 1, default: 1, description: 'Lowest in-flight limit.' },
        max: { type: 'integer', minimum: 1, default: 8, description: 'Highest in-flight limit.' },
        initial: { type: 'integer', minimum: 1, default: 2, description: 'Starting in-flight limit.' },
      },
    },
    tokenRefreshMarginMs: { type: 'integer', minimum: 0, default: 300_000, description: 'Refresh the IMS token this long before it expires.' },
  },
} as const;

/** Applies defaults and checks what the schema cannot (routing present, bounds consistent). Throws ConfigError. */
export function resolveStreamingConfig(config: AdobeStreamingConfig): ResolvedStreamingConfig {
  checkRouting(config, 'sink');
  const min = config.concurrency?.min ?? 1;
  const max = config.concurrency?.max ?? Math.max(8, min);
  if (max < min) throw new ConfigError(`sink.concurrency: max (${max}) is below min (${min}); raise max or lower min`);
  const maxBatchBytes = config.maxBatchBytes ?? 900_000;
  if (maxBatchBytes > DCS_MAX_REQUEST_BYTES) {
    throw new ConfigError(`sink.maxBatchBytes: ${maxBatchBytes} exceeds the DCS request limit of 1 MB; use at most ${DCS_MAX_REQUEST_BYTES}`);
  }
  return {
    ...config,
    dcsUrl: dcsBase(config.dcsUrl ?? 'https://dcs.adobedc.net'),
    authenticated: config.authenticated ?? true,
    maxBatchEvents: config.maxBatchEvents ?? 500,
    maxBatchBytes,
    requestTimeoutMs: config.requestTimeoutMs ?? 30_000,
    connectTimeoutMs: config.connectTimeoutMs ?? 10_000,
    retryDeadlineMs: config.retryDeadlineMs ?? 600_000,
    backoffBaseMs: config.backoffBaseMs ?? 500,
    backoffMaxMs: config.backoffMaxMs ?? 30_000,
    concurrency: { min, max, initial: Math.min(max, Math.max(min, config.concurrency?.initial ?? 2)) },
    tokenRefreshMarginMs: config.tokenRefreshMarginMs ?? 300_000,
  };
}

/**
 * The DCS base URL. Adobe hands out the full inlet URL (`…/collection/{id}`, or the batch form); that is accepted
 * too and cut back to its base, so either can be pasted into `dcsUrl`.
 */
export function dcsBase(url: string): string {
  const cut = url.search(/\/collection(\/|$)/);
  return (cut >= 0 ? url.slice(0, cut) : url.split('?')[0]!).replace(/\/+$/, '');
}

/** Fails fast when no event could be routed: a default pair, or at least one eventType entry, is required. */
export function checkRouting(config: EnvelopeConfig, key: string): void {
  if ((config.datasetId === undefined) !== (config.schemaRef === undefined)) {
    throw new ConfigError(`${key}: datasetId and schemaRef go together; set both (the default target) or neither`);
  }
  const hasDefault = config.datasetId !== undefined;
  const hasPerType = Object.keys(config.eventTypes ?? {}).length > 0;
  if (!hasDefault && !hasPerType) {
    throw new ConfigError(
      `${key}: no target dataset; set datasetId and schemaRef, or eventTypes["message.feedback"] and eventTypes["message.tracking"]`,
    );
  }
}
