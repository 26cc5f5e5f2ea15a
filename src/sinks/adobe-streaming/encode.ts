/**
 * Builds DCS XDM envelopes around the pre-serialised entity and batch bodies from them; plans batches. An envelope is
 * kept as its two parts (the per-dataset prefix and the entity's bytes) and written straight into a reused body
 * buffer: no per-envelope Buffer, no 1 MB string, no 1 MB Buffer per request. Request bodies live as long as the
 * request, long enough to be promoted to V8's old space, so fresh ones piled up as ~70 MB of garbage between full
 * collections.
 */
import type { JsonBytes } from '../../core/json-bytes.js';
import type { OutboundEvent } from '../../core/types.js';
import { XDM_FULL_CONTENT_TYPE, type EnvelopeConfig, type SchemaRefConfig } from './config.js';

/** An envelope ready to send: prefix + entity + `}}`, and its size in UTF-8 bytes. */
export interface EncodedEnvelope {
  prefix: Buffer;
  entity: JsonBytes;
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
  /** The envelope text before `xdmEntity`, UTF-8, per event type. */
  private readonly prefixes = new Map<string, Buffer>();
  private readonly defaultPrefix: Buffer | undefined;

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
    if (!json.isObject) return { ok: false, reason: 'ingest: the serialised event is not a JSON object' };
    return { ok: true, prefix, entity: json, bytes: prefix.length + json.byteLength + ENVELOPE_SUFFIX.length };
  }
}

const ENVELOPE_SUFFIX = '}}';

/** The envelope as one JSON text. */
export function envelopeText(envelope: EncodedEnvelope): string {
  const out = Buffer.allocUnsafe(envelope.bytes);
  writeEnvelope(envelope, out, 0);
  return out.toString('utf8');
}

/** Writes the envelope into `into` at `at` (envelope.bytes free); returns the offset after it. */
export function writeEnvelope(envelope: EncodedEnvelope, into: Buffer, at: number): number {
  into.set(envelope.prefix, at);
  at = envelope.entity.writeTo(into, at + envelope.prefix.length);
  return at + into.write(ENVELOPE_SUFFIX, at, 'latin1');
}

function envelopePrefix(t: { imsOrgId: string | undefined; flowId: string | undefined; sourceName: string; datasetId: string; schemaRef: SchemaRefConfig }): Buffer {
  const schemaRef =
    typeof t.schemaRef === 'string'
      ? { id: t.schemaRef, contentType: XDM_FULL_CONTENT_TYPE }
      : { id: t.schemaRef.id, contentType: t.schemaRef.contentType ?? XDM_FULL_CONTENT_TYPE };
  // Keys in the order Adobe documents; undefined members are dropped by JSON.stringify.
  const header = { schemaRef, imsOrgId: t.imsOrgId, datasetId: t.datasetId, flowId: t.flowId, source: { name: t.sourceName } };
  return Buffer.from(`{"header":${JSON.stringify(header)},"body":{"xdmMeta":${JSON.stringify({ schemaRef })},"xdmEntity":`);
}

/**
 * Writes the request body of a DCS batch call, `{"messages":[env,env,…]}`, into `into` (at least
 * {@link batchBytes} long) and returns its length.
 */
export function writeBatchBody(envelopes: readonly EncodedEnvelope[], into: Buffer): number {
  let at = into.write(BODY_OPEN, 0, 'latin1');
  envelopes.forEach((envelope, i) => {
    if (i > 0) at += into.write(',', at, 'latin1');
    at = writeEnvelope(envelope, into, at);
  });
  return at + into.write(BODY_CLOSE, at, 'latin1');
}

/**
 * Request-body buffers, reused: at most `keep` are kept between requests (one per request in flight), each as large as
 * the bodies it served (rounded up to 64 KB), so a run of 500 KB bodies keeps 500 KB buffers, not `maxBatchBytes`
 * ones. A buffer goes back only once its request is known to have been read whole (the caller decides).
 */
export class BodyBuffers {
  private readonly free: Buffer[] = [];

  constructor(private readonly keep: number) {}

  /** A buffer of at least `bytes` bytes. */
  acquire(bytes: number): Buffer {
    const fits = this.free.findIndex((b) => b.length >= bytes);
    if (fits >= 0) return this.free.splice(fits, 1)[0]!;
    return Buffer.allocUnsafeSlow(Math.ceil(bytes / BODY_GRAIN) * BODY_GRAIN);
  }

  release(buffer: Buffer): void {
    if (this.free.length < this.keep) {
      this.free.push(buffer);
      return;
    }
    // Full: keep the larger buffers, which serve every body the smaller ones can.
    let smallest = 0;
    for (let i = 1; i < this.free.length; i++) if (this.free[i]!.length < this.free[smallest]!.length) smallest = i;
    if (this.free[smallest] && this.free[smallest]!.length < buffer.length) this.free[smallest] = buffer;
  }
}

const BODY_GRAIN = 64 * 1024;

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
