/** A Source over NDJSON files: one record per line, byte-offset checkpoints, undecodable lines reported, never fatal. */
import type { DecodedItem, JsonObject, Position, Source, SourceContext, SourceItem } from '../../core/types.js';
import { BATCH_SIZE } from './batcher.js';
import { checkpointPrefix, nonNegativeInteger, resumeFile } from './file-checkpoint.js';
import { resolveFiles } from './file-list.js';
import { DEFAULT_MAX_LINE_BYTES, readLines } from './line-reader.js';

/** Turns a parsed JSON object into the record, or returns a string: the reason it is undecodable. */
export type RecordTransform = (value: JsonObject) => JsonObject | string;

export interface JsonLinesSourceOptions {
  /** The source name (part of every `_id`). */
  name: string;
  /** File paths or globs, relative to `baseDir`. */
  files: readonly string[];
  baseDir: string;
  /** @default 1 MiB */
  maxLineBytes?: number;
  transform?: RecordTransform;
}

export interface FileReadOptions {
  maxLineBytes?: number;
  transform?: RecordTransform;
}

/** Creates a Source reading NDJSON files in order; stream = absolute path, offset = byte offset after the line. */
export function createJsonLinesSource(options: JsonLinesSourceOptions): Source {
  return {
    name: options.name,
    read: (ctx) => rebatch(resolveFiles(options.files, options.baseDir), (path) => readJsonLinesFile(path, options, ctx), ctx.signal),
    decodeRaw: (raw) => decodeRawJson(raw, options.transform),
  };
}

/** Decodes a stored raw JSON text the way the source decodes a line: the record, or why it is undecodable. */
export function decodeRawJson(raw: string, transform?: RecordTransform): JsonObject | string {
  const item = decodeJsonText(raw.trim(), 'raw', { stream: '', offset: '' }, transform);
  return item.kind === 'record' ? item.record : item.reason.replace(/^raw: /, '');
}

/**
 * Yields the items of many files, file after file, in batches of at most BATCH_SIZE. `readFile` yields arrays of
 * any length (one per chunk read).
 */
export async function* rebatch(
  files: Promise<string[]>,
  readFile: (path: string) => AsyncIterable<SourceItem[]>,
  signal: AbortSignal,
): AsyncGenerator<SourceItem[]> {
  let batch: SourceItem[] = [];
  for (const path of await files) {
    if (signal.aborted) return;
    for await (const items of readFile(path)) {
      for (const item of items) {
        batch.push(item);
        if (batch.length >= BATCH_SIZE) {
          yield batch;
          batch = [];
          if (signal.aborted) return;
        }
      }
    }
  }
  if (batch.length > 0 && !signal.aborted) yield batch;
}

interface LinePosition {
  offset: number;
  line: number;
}

function parseLinePosition(value: Record<string, unknown>): LinePosition | undefined {
  const offset = nonNegativeInteger(value.offset);
  const line = nonNegativeInteger(value.line);
  return offset === undefined || line === undefined ? undefined : { offset, line };
}

/** Reads one NDJSON file from its checkpoint; yields one array of items per chunk read. */
export async function* readJsonLinesFile(path: string, options: FileReadOptions, ctx: SourceContext): AsyncGenerator<SourceItem[]> {
  const { fingerprint, resumeAt } = await resumeFile<LinePosition>(path, ctx.checkpoint(path), ctx.log, parseLinePosition);
  if (resumeAt && resumeAt.offset >= fingerprint.size) return;
  const prefix = checkpointPrefix(fingerprint);
  const transform = options.transform;
  const lines = readLines(path, {
    start: resumeAt?.offset ?? 0,
    startLine: resumeAt ? resumeAt.line + 1 : 1,
    maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    signal: ctx.signal,
  });
  for await (const chunk of lines) {
    const items: SourceItem[] = new Array(chunk.length);
    for (let i = 0; i < chunk.length; i++) {
      const line = chunk[i]!;
      const position: Position = { stream: path, offset: `${prefix}"offset":${line.end},"line":${line.lineNo}}` };
      items[i] =
        line.problem !== undefined
          ? { kind: 'undecodable', raw: line.text, reason: `line ${line.lineNo}: ${line.problem}`, position }
          : textItem(line.text, `line ${line.lineNo}`, position, transform, ctx.deferDecoding);
    }
    yield items;
  }
}

/** The item of one JSON text: left for the reader to decode when it asked to (`deferDecoding`), else decoded here. */
export function textItem(text: string, where: string, position: Position, transform: RecordTransform | undefined, deferDecoding: boolean | undefined): SourceItem {
  return deferDecoding ? { kind: 'text', raw: text, where, position } : decodeJsonText(text, where, position, transform);
}

/** Parses one JSON text into a record item, or an undecodable item whose reason starts with `where` (e.g. `line 17:`). */
export function decodeJsonText(text: string, where: string, position: Position, transform: RecordTransform | undefined): DecodedItem {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: 'undecodable', raw: text, reason: `${where}: ${jsonParseProblem(error)}`, position };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { kind: 'undecodable', raw: text, reason: `${where}: not a JSON object (found ${jsonKind(value)})`, position };
  }
  let record = value as JsonObject;
  if (transform) {
    const out = transform(record);
    if (typeof out === 'string') return { kind: 'undecodable', raw: text, reason: `${where}: ${out}`, position };
    record = out;
  }
  return { kind: 'record', record, raw: text, position };
}

/**
 * JSON.parse's message without V8's quoted snippet of the input (`Unexpected token 'c', "carol.leak"... is not valid
 * JSON`): the snippet is cut mid-value, so redaction cannot recognise the email address or number it cuts.
 */
export function jsonParseProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/, "[\s\S]*"(?:\.\.\.)? is not valid JSON$/, ' (not valid JSON)');
}

export function jsonKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
