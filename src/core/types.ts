/** The contracts every source, mapping, validator and sink implements; the pipeline wires them together. */
import type { Logger } from 'pino';
import type { JsonBytes } from './json-bytes.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** The stage at which a record's journey ended in the dead-letter table. */
export type Stage = 'decode' | 'map' | 'validate' | 'ingest';

/**
 * Where a source stands in one of its streams (a file, a Kafka partition, an API watermark).
 * `offset` is opaque to everything but the source that produced it and is stored verbatim as the checkpoint.
 */
export interface Position {
  stream: string;
  offset: string;
}

/**
 * One thing a source read: a decoded record, raw input it could not decode (goes to the dead-letter table), or — when
 * the reader asked for it with `deferDecoding` — a text its `decodeRaw` decodes; `where` (`line 17`) prefixes the
 * reason if that fails.
 */
export type SourceItem =
  | { kind: 'record'; record: JsonObject; raw: string; position: Position }
  | { kind: 'text'; raw: string; where: string; position: Position }
  | { kind: 'undecodable'; raw: string; reason: string; position: Position };

/** An item a source decoded: the record, or why it could not. */
export type DecodedItem = Extract<SourceItem, { kind: 'record' | 'undecodable' }>;

/** An optional time window (inclusive `from`, exclusive `to`) on provider time, used by backfills. */
export interface TimeWindow {
  from?: Date;
  to?: Date;
}

export interface SourceContext {
  /** The stored checkpoint offset of a stream, or undefined when the stream was never read. */
  checkpoint(stream: string): string | undefined;
  signal: AbortSignal;
  log: Logger;
  window?: TimeWindow;
  /**
   * The reader decodes texts itself, with the source's `decodeRaw` (the pipeline does it on its mapping thread):
   * sources that decode one text per record yield `text` items instead of decoding them.
   */
  deferDecoding?: boolean;
}

/**
 * A source of delivery feedback. `read` yields batches of items in order; each item carries the position
 * *after* it, so the checkpoint can advance past it once its fate is settled.
 */
export interface Source {
  /** The source kind, e.g. `ovo-feedback`; part of every `_id`. */
  readonly name: string;
  read(ctx: SourceContext): AsyncIterable<SourceItem[]>;
  /**
   * Decodes one raw input again, as stored in a dead letter, for `dlq replay`: the record, or a string saying why it
   * cannot be decoded. Without it, replay parses the raw text as a JSON object.
   */
  decodeRaw?(raw: string): JsonObject | string;
  /** Called after the pipeline committed everything up to these positions (Kafka commits offsets here). */
  commit?(positions: Position[]): Promise<void>;
  close?(): Promise<void>;
}

/** A short-form XDM ExperienceEvent (the `xdmEntity` of a DCS envelope). */
export interface XdmEvent extends JsonObject {
  _id: string;
  timestamp: string;
  eventType: string;
}

/** Identifies one message to one recipient on one channel: the unit whose history gives retryCount. */
export interface MessageKey {
  messageId: string;
  channel: string;
}

/** What the history needs to know of one mapped outcome. */
export interface Outcome {
  /** feedbackStatus for message.feedback, interactionType for message.tracking, or the raw status for skips. */
  status: string;
  /** Provider time, ISO-8601 UTC. */
  providerTime: string;
  /** True when the outcome counts as a failed attempt for later retryCounts (delay or soft failure). */
  countsAsRetry: boolean;
  /** The provider's own attempt number (1-based), when it states one. */
  attempt?: number;
}

/** A record the mapping turned into an XDM event, with what enrichment needs. */
export interface MappedEvent {
  event: XdmEvent;
  sourceEventId: string;
  message: MessageKey;
  outcome: Outcome;
}

export type MapResult =
  | { kind: 'event'; mapped: MappedEvent }
  /** Not an outcome (e.g. OVO Scheduled): counted, not sent, not dead-lettered. */
  | { kind: 'skip'; reason: string }
  /** The record cannot be mapped (missing field, unknown status…): dead-lettered at stage `map`. */
  | { kind: 'invalid'; reason: string; sourceEventId?: string };

/** Maps one decoded record of one source to XDM. Built once per run from a mapping file. */
export interface Mapper {
  readonly source: string;
  readonly mappingFile: string;
  map(record: JsonObject): MapResult;
  /** Counters for the run summary, e.g. provider codes that fell back to a classifier default. */
  stats?(): Record<string, number>;
}

/** Validation verdict: null when valid, else readable `path: message` lines. */
export type ValidationErrors = string[] | null;

export interface EventValidator {
  validate(event: XdmEvent): ValidationErrors;
  /** The largest serialised event (UTF-8 bytes) this validator accepts, when it checks sizes. */
  readonly maxEventBytes?: number;
}

/**
 * An event ready for a sink; `json` is the serialised entity as UTF-8 bytes, built once. The event object itself is
 * not kept: units wait for Adobe's answer for a while, and the bytes are a fraction of the object graph's memory.
 */
export interface OutboundEvent {
  id: string;
  eventType: string;
  json: JsonBytes;
}

/** The sink's verdict on one event. Accepted events are committed to the ledger; rejected ones dead-lettered. */
export type Delivery =
  | { kind: 'accepted' }
  | { kind: 'rejected'; reason: string; errors?: string[] };

export interface Sink {
  readonly name: string;
  /** Delivers events; resolves with one Delivery per event, in the same order. Throws only on fatal errors. */
  send(events: OutboundEvent[], signal?: AbortSignal): Promise<Delivery[]>;
  /** How many `send` calls the pipeline may keep in flight at once. */
  readonly maxPendingSends?: number;
  /**
   * Named by sinks whose verdict can take minutes (batch ingestion waits for the Catalog): the folder where the
   * pipeline keeps the raw input of the many waiting events, on disk rather than in memory.
   */
  readonly waitingInputsDir?: string;
  /** Called once the source is exhausted and all sends returned (batch sinks finish their batch here). */
  finish?(): Promise<void>;
  close(): Promise<void>;
  /** Sink-specific figures for the run summary (retries, concurrency…). */
  stats?(): Record<string, number | string>;
}
