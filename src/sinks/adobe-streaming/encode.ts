/**
 * Builds DCS XDM envelopes around the pre-serialised entity and batch bodies from them; plans batches. Envelopes are
 * UTF-8 bytes from the start: a batch body is then one Buffer.concat off the JavaScript heap, instead of a string of
 * up to 1 MB (in V8's large-object space, freed only by a full collection) converted to bytes again by the client.
 */
import type { OutboundEvent } from '../../core/types.js';
import { XDM_FULL_CONTENT_TYPE, type EnvelopeConfig, type SchemaRefConfig } from './config.js';

/** An envelope ready to send, with its UTF-8 size. */
export interface EncodedEnvelope {
  envelope: Buffer;
  bytes: number;
}

export type EncodeResult = ({ ok: true } & EncodedEnvelope) | { ok: false; reason: string };

/** `{"messages":[` + `]}` */
const BODY_OPEN = '{"messages":[';
const BODY_CLOSE = ']}';
/** Bytes a batch body adds around its envelopes, besides one comma between two envelopes. */
export const BATCH_OVERHEAD_BYTES = BODY_OPEN.length + BODY_CLOSE.length;

/**
 * Encodes events into envelopes. The envelope text before and after `xdmEntity` is serialised once per target
 * dataset at construction; each event costs one concatenation and one byte count, never a re-stringify.
 */
export class EnvelopeEncoder {
  private readonly prefixes = new Map<string, string>();
  private readonly defaultPrefix: string | undefined;

  constructor(config: EnvelopeConfig, orgIdFallback?: string) {
    const common = {
      imsOrgId: config.imsOrgId ?? orgIdFallback,
      flowId: config.flowId,
      sourceName: config.sourceName ?? 'xdm-feedback',
    };
    if (config.datasetId !== undefined && config.schemaRef !== undefined) {
      this.defaultPrefix = envelopePrefix({ ...common, datasetId: config.datasetId, schemaRef: config.schemaRef });
    }
    for (const [eventType, target] of Object.entries(config.eventTypes ?? {})) {
      this.prefixes.set(eventType, envelopePrefix({ ...common, datasetId: target.datasetId, schemaRef: target.schemaRef }));
    }
  }

  encode(event: OutboundEvent): EncodeResult {
    const prefix = this.prefixes.get(event.eventType) ?? this.defaultPrefix;
    if (prefix === undefined) {
      return {
        ok: false,
        reason: `ingest: no target dataset for eventType "${event.eventType}"; add sink.eventTypes["${event.eventType}"] or a default datasetId and schemaRef`,
      };
    }
    const json = event.json;
    if (json.length < 2 || json.charCodeAt(0) !== 0x7b /* { */) {
      return { ok: false, reason: 'ingest: the serialised event is not a JSON object' };
    }
    const envelope = Buffer.from(prefix + json + ENVELOPE_SUFFIX, 'utf8');
    return { ok: true, envelope, bytes: envelope.length };
  }
}

const ENVELOPE_SUFFIX = '}}';

function envelopePrefix(t: { imsOrgId: string | undefined; flowId: string | undefined; sourceName: string; datasetId: string; schemaRef: SchemaRefConfig }): string {
  const schemaRef =
    typeof t.schemaRef === 'string'
      ? { id: t.schemaRef, contentType: XDM_FULL_CONTENT_TYPE }
      : { id: t.schemaRef.id, contentType: t.schemaRef.contentType ?? XDM_FULL_CONTENT_TYPE };
  // Keys in the order Adobe documents; undefined members are dropped by JSON.stringify.
  const header = { schemaRef, imsOrgId: t.imsOrgId, datasetId: t.datasetId, flowId: t.flowId, source: { name: t.sourceName } };
  return `{"header":${JSON.stringify(header)},"body":{"xdmMeta":${JSON.stringify({ schemaRef })},"xdmEntity":`;
}

const OPEN_BYTES = Buffer.from(BODY_OPEN);
const CLOSE_BYTES = Buffer.from(BODY_CLOSE);
const COMMA_BYTES = Buffer.from(',');

/** The request body of a DCS batch call: `{"messages":[env,env,…]}`. */
export function batchBody(envelopes: readonly Buffer[]): Buffer {
  const parts: Buffer[] = [OPEN_BYTES];
  let total = OPEN_BYTES.length + CLOSE_BYTES.length;
  envelopes.forEach((envelope, i) => {
    if (i > 0) parts.push(COMMA_BYTES);
    parts.push(envelope);
    total += envelope.length + (i > 0 ? 1 : 0);
  });
  parts.push(CLOSE_BYTES);
  return Buffer.concat(parts, total);
}

/** Size in bytes of a batch body holding envelopes of these sizes. */
export function batchBytes(sizes: readonly number[]): number {
  let total = BATCH_OVERHEAD_BYTES + Math.max(0, sizes.length - 1);
  for (const s of sizes) total += s;
  return total;
}

/** True when one envelope alone would make a request larger than `maxBytes`. */
export function fitsAlone(bytes: number, maxBytes: number): boolean {
  return BATCH_OVERHEAD_BYTES + bytes <= maxBytes;
}

/**
 * Cuts items (in order) into batches of at most `maxEvents` items and at most `maxBytes` body bytes.
 * Every item must fit alone (check with `fitsAlone` first).
 */
export function planBatches<T extends { bytes: number }>(items: readonly T[], maxEvents: number, maxBytes: number): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let size = BATCH_OVERHEAD_BYTES;
  for (const item of items) {
    const added = item.bytes + (current.length > 0 ? 1 : 0);
    if (current.length > 0 && (current.length >= maxEvents || size + added > maxBytes)) {
      batches.push(current);
      current = [];
      size = BATCH_OVERHEAD_BYTES;
    }
    size += item.bytes + (current.length > 0 ? 1 : 0);
    current.push(item);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
