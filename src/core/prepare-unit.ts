/**
 * The per-record work of a unit that needs no state: decode → map → time window → validate → serialise. The same
 * function runs on the pipeline's mapping thread (map-thread.ts) or, for small runs and replays, on the main thread,
 * so both give identical results. Its answer is columns of strings and numbers and one buffer of the events' bytes:
 * cheap to pass between threads.
 *
 * retryCount comes from the message history (state thread), which is asked only afterwards. The event is validated
 * with retryCount 0 (any retryCount is a valid integer) and serialised, as UTF-8 bytes into one buffer per unit, with a
 * placeholder where the number goes; the pipeline writes the real number there (json-bytes.ts). The size limit is
 * checked with the one digit of 0, and checked again by the pipeline once it knows the number.
 */
import { randomBytes } from 'node:crypto';
import type { EventValidator, JsonObject, Mapper, Stage, TimeWindow, XdmEvent } from './types.js';
import type { EnrichRequest } from '../store/unit-store.js';
import type { LedgerEntry } from '../store/state.js';
import { lap, type StageTimer } from './stage-timer.js';
import { ledgerEntryFor, retryCountHolder } from './xdm-fields.js';
import { decodeRawJson } from '../sources/shared/json-lines-source.js';
import { JsonBytes } from './json-bytes.js';

/** One input of a unit: a text for the source's decoder, a record the source decoded, or null (undecodable: handled by the pipeline). */
export type UnitInput = string | JsonObject | null;

/** Why a record ends before enrichment: it cannot be decoded or mapped. */
export interface EarlyDeadLetter {
  /** Index of the record's input. */
  item: number;
  stage: Extract<Stage, 'decode' | 'map'>;
  reason: string;
}

/** A mapped event the schema refuses; dead-lettered unless the ledger says it was sent before. */
export interface InvalidEvent {
  item: number;
  request: number;
  id: string;
  errors: string[];
}

export interface PreparedUnit {
  /** The unit's enrichment requests (EnrichRequest[]) as JSON text: one per event, and one per skip that belongs in history. */
  requests: string;
  /** Valid events, as columns of equal length. */
  events: {
    item: number[];
    request: number[];
    id: string[];
    eventType: string[];
    /** The serialised events, UTF-8, one after the other: event k is `[ends[k-1] ?? 0, ends[k])`. Transferred between threads. */
    bytes: ArrayBuffer;
    ends: number[];
    /** Offset in `bytes` of event k's retryCount placeholder (RETRY_PLACEHOLDER_LENGTH bytes), or -1. */
    retryAt: number[];
    /** The events' ledger entries, retryCount 0 where the event has one. */
    ledgers: LedgerEntry[];
  };
  invalid: InvalidEvent[];
  deadLetters: EarlyDeadLetter[];
  /** Reasons of the records not sent by design (not an outcome, outside the time window). */
  skipped: string[];
  /** The validators' smallest size limit of an event in UTF-8 bytes, to check again with the real retryCount. */
  sizeLimit?: number;
}

/** Everything preparation needs; built once per run (or once per mapping thread). */
export interface PrepareContext {
  /** Decodes a text input (the source's decodeRaw): the record, or why it cannot be decoded. Default: one JSON object. */
  decode?: (raw: string) => JsonObject | string;
  mapper: Mapper;
  validators: EventValidator[];
  window?: TimeWindow;
  /** The run's source key and sink name, recorded in every ledger entry. */
  sourceKey: string;
  sinkName: string;
  /** Times decode, map, validate and serialise (benchmarks). */
  timer?: StageTimer;
}

/** Returns the function that prepares one unit. `where[i]` prefixes the decode failure of text input i (`line 17`). */
export function unitPreparation(ctx: PrepareContext): (inputs: UnitInput[], where: Array<string | undefined>) => PreparedUnit {
  const { mapper, validators, sourceKey, sinkName } = ctx;
  const decode = ctx.decode ?? ((raw: string) => decodeRawJson(raw));
  const placeholder = `rc${randomBytes(16).toString('hex')}`;
  const quoted = Buffer.from(JSON.stringify(placeholder));
  const fromMs = ctx.window?.from?.getTime();
  const toMs = ctx.window?.to?.getTime();
  const timer = ctx.timer;
  const sizeLimit = smallestSizeLimit(validators);
  let scratch: Buffer = Buffer.allocUnsafeSlow(SCRATCH_BYTES);

  return (inputs, where) => {
    const requests: EnrichRequest[] = [];
    const unit: PreparedUnit = {
      requests: '',
      events: { item: [], request: [], id: [], eventType: [], bytes: EMPTY, ends: [], retryAt: [], ledgers: [] },
      invalid: [],
      deadLetters: [],
      skipped: [],
      ...(sizeLimit !== undefined ? { sizeLimit } : {}),
    };
    const { events } = unit;
    let at = 0;
    for (let item = 0; item < inputs.length; item++) {
      const input = inputs[item];
      if (input === null || input === undefined) continue;
      let t = timer ? performance.now() : 0;
      let record: JsonObject;
      if (typeof input === 'string') {
        const decoded = decode(input);
        if (timer) t = lap(timer, 'decode', t);
        if (typeof decoded === 'string') {
          const at = where[item];
          unit.deadLetters.push({ item, stage: 'decode', reason: at ? `${at}: ${decoded}` : decoded });
          continue;
        }
        record = decoded;
      } else {
        record = input;
      }
      const result = mapper.map(record);
      if (timer) t = lap(timer, 'map', t);
      if (result.kind === 'invalid') {
        unit.deadLetters.push({ item, stage: 'map', reason: result.reason });
        continue;
      }
      if (result.kind === 'skip') {
        unit.skipped.push(result.reason);
        continue;
      }
      const { event, sourceEventId, message, outcome } = result.mapped;
      if (fromMs !== undefined || toMs !== undefined) {
        const t = Date.parse(event.timestamp);
        if ((fromMs !== undefined && t < fromMs) || (toMs !== undefined && t >= toMs)) {
          unit.skipped.push('outside the time window');
          continue;
        }
      }
      const request = requests.length;
      requests.push({ id: event._id, eventTime: event.timestamp, sourceEventId, message, outcome });
      const holder = retryCountHolder(event);
      if (holder) holder.retryCount = 0;
      const errors = firstErrors(validators, event);
      if (timer) t = lap(timer, 'validate', t);
      if (errors) {
        unit.invalid.push({ item, request, id: event._id, errors });
        continue;
      }
      events.ledgers.push(ledgerEntryFor(event, sourceKey, sinkName));
      if (holder) holder.retryCount = placeholder;
      const json = JSON.stringify(event);
      // UTF-8 takes at most 3 bytes per UTF-16 unit.
      if (scratch.length - at < 3 * json.length) scratch = grown(scratch, at, 3 * json.length);
      const start = at;
      at += scratch.write(json, at);
      events.item.push(item);
      events.request.push(request);
      events.id.push(event._id);
      events.eventType.push(event.eventType);
      events.ends.push(at);
      // The first match is this event's own: it holds the placeholder.
      events.retryAt.push(holder ? scratch.indexOf(quoted, start) : -1);
      if (timer) lap(timer, 'serialise', t);
    }
    unit.requests = JSON.stringify(requests);
    events.bytes = new Uint8Array(scratch.subarray(0, at)).buffer;
    return unit;
  };
}

/** The scratch buffer's first size; it grows to the largest unit's events. */
const SCRATCH_BYTES = 1 << 20;
const EMPTY = new ArrayBuffer(0);

/** A larger copy of the first `used` bytes of `buffer`, with at least `needed` bytes free. */
function grown(buffer: Buffer, used: number, needed: number): Buffer {
  const larger = Buffer.allocUnsafeSlow(Math.max(2 * buffer.length, used + needed));
  buffer.copy(larger, 0, 0, used);
  return larger;
}

function smallestSizeLimit(validators: EventValidator[]): number | undefined {
  const limits = validators.flatMap((v) => (v.maxEventBytes === undefined ? [] : [v.maxEventBytes]));
  return limits.length > 0 ? Math.min(...limits) : undefined;
}

/** Event k of a prepared unit, with its retryCount written in. */
export function preparedEvent(events: PreparedUnit['events'], bytes: Uint8Array, k: number, retryCount: number): JsonBytes {
  return new JsonBytes(bytes, k === 0 ? 0 : events.ends[k - 1]!, events.ends[k]!, events.retryAt[k]!, retryCount);
}

/** Readable errors of the first validator that rejects the event, or undefined. */
function firstErrors(validators: EventValidator[], event: XdmEvent): string[] | undefined {
  for (const validator of validators) {
    const errors = validator.validate(event);
    if (errors) return errors;
  }
  return undefined;
}
