/**
 * The per-record work of a unit that needs no state: decode → map → time window → validate → serialise. The same
 * function runs on the pipeline's mapping thread (map-thread.ts) or, for small runs and replays, on the main thread,
 * so both give identical results. Its answer is columns of strings and numbers: cheap to pass between threads.
 *
 * retryCount comes from the message history (state thread), which is asked only afterwards. The event is validated
 * with retryCount 0 (any retryCount is a valid integer) and serialised with a placeholder where the number goes; the
 * pipeline writes the real number there. The size limit is checked with the one digit of 0; an event so close to the
 * limit that a longer retryCount could cross it is listed in `nearSizeLimit`, and the pipeline checks it again once it
 * knows the number.
 */
import { randomBytes } from 'node:crypto';
import type { EventValidator, JsonObject, Mapper, Stage, TimeWindow, XdmEvent } from './types.js';
import type { EnrichRequest } from '../store/unit-store.js';
import type { LedgerEntry } from '../store/state.js';
import { lap, type StageTimer } from './stage-timer.js';
import { ledgerEntryFor, retryCountHolder } from './xdm-fields.js';
import { decodeRawJson } from '../sources/shared/json-lines-source.js';

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
    /** The serialised event; where `retryAt` is ≥ 0 a placeholder of RETRY_PLACEHOLDER_LENGTH characters stands for retryCount. */
    json: string[];
    retryAt: number[];
    /** The events' ledger entries, retryCount 0 where the event has one. */
    ledgers: LedgerEntry[];
  };
  invalid: InvalidEvent[];
  deadLetters: EarlyDeadLetter[];
  /** Reasons of the records not sent by design (not an outcome, outside the time window). */
  skipped: string[];
  /** Events (index into `events`) within a few bytes of the validators' size limit: `bytes` is their size with retryCount 0. */
  nearSizeLimit: Array<{ event: number; bytes: number; limit: number }>;
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

/** The placeholder's length in the JSON text: a quoted 34-character string no input can contain by chance. */
export const RETRY_PLACEHOLDER_LENGTH = 36;

/** Returns the function that prepares one unit. `where[i]` prefixes the decode failure of text input i (`line 17`). */
export function unitPreparation(ctx: PrepareContext): (inputs: UnitInput[], where: Array<string | undefined>) => PreparedUnit {
  const { mapper, validators, sourceKey, sinkName } = ctx;
  const decode = ctx.decode ?? ((raw: string) => decodeRawJson(raw));
  const placeholder = `rc${randomBytes(16).toString('hex')}`;
  const quoted = JSON.stringify(placeholder);
  const fromMs = ctx.window?.from?.getTime();
  const toMs = ctx.window?.to?.getTime();
  const timer = ctx.timer;
  const sizeLimit = smallestSizeLimit(validators);

  return (inputs, where) => {
    const requests: EnrichRequest[] = [];
    const unit: PreparedUnit = {
      requests: '',
      events: { item: [], request: [], id: [], eventType: [], json: [], retryAt: [], ledgers: [] },
      invalid: [],
      deadLetters: [],
      skipped: [],
      nearSizeLimit: [],
    };
    const { events } = unit;
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
        if (result.sourceEventId && result.message && result.outcome) {
          requests.push({ sourceEventId: result.sourceEventId, message: result.message, outcome: result.outcome });
        }
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
      const retryAt = holder ? json.indexOf(quoted) : -1;
      // UTF-8 takes at most 3 bytes per UTF-16 unit: only events that long are measured.
      if (retryAt >= 0 && sizeLimit !== undefined && 3 * (json.length - RETRY_PLACEHOLDER_LENGTH) + MAX_RETRY_DIGITS > sizeLimit) {
        const bytes = Buffer.byteLength(json) - RETRY_PLACEHOLDER_LENGTH + 1;
        if (bytes - 1 + MAX_RETRY_DIGITS > sizeLimit) unit.nearSizeLimit.push({ event: events.id.length, bytes, limit: sizeLimit });
      }
      events.item.push(item);
      events.request.push(request);
      events.id.push(event._id);
      events.eventType.push(event.eventType);
      events.json.push(json);
      events.retryAt.push(retryAt);
      if (timer) lap(timer, 'serialise', t);
    }
    unit.requests = JSON.stringify(requests);
    return unit;
  };
}

/** Digits of the largest retryCount a JavaScript number holds exactly (Number.MAX_SAFE_INTEGER). */
const MAX_RETRY_DIGITS = 16;

function smallestSizeLimit(validators: EventValidator[]): number | undefined {
  const limits = validators.flatMap((v) => (v.maxEventBytes === undefined ? [] : [v.maxEventBytes]));
  return limits.length > 0 ? Math.min(...limits) : undefined;
}

/** Size in UTF-8 bytes of an event listed in `nearSizeLimit` once `retryCount` is written in. */
export function sizeWithRetryCount(bytesWithZero: number, retryCount: number): number {
  return bytesWithZero - 1 + String(retryCount).length;
}

/** The event's JSON text with its retryCount written in. */
export function withRetryCount(json: string, retryAt: number, retryCount: number): string {
  return retryAt < 0 ? json : json.slice(0, retryAt) + retryCount + json.slice(retryAt + RETRY_PLACEHOLDER_LENGTH);
}

/** Readable errors of the first validator that rejects the event, or undefined. */
function firstErrors(validators: EventValidator[], event: XdmEvent): string[] | undefined {
  for (const validator of validators) {
    const errors = validator.validate(event);
    if (errors) return errors;
  }
  return undefined;
}
