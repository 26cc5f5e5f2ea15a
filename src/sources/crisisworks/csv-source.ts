/** Reads Crisisworks delivery-report CSV exports with csv-parse, streaming, one record per data row. */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { once } from 'node:events';
import { parse, type Options, type Parser } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import type { JsonObject, Position, Source, SourceContext, SourceItem } from '../../core/types.js';
import type { CrisisworksSourceConfig } from '../config.js';
import { BATCH_SIZE } from '../shared/batcher.js';
import { checkpointPrefix, resumeFile } from '../shared/file-checkpoint.js';
import { resolveFiles } from '../shared/file-list.js';
import { isBlankRow, resolveHeader, rowToRecord, type HeaderLayout } from './columns.js';
import { formatCsvCheckpoint, parseCsvCheckpoint } from './csv-checkpoint.js';
import { sniffDialect, type CsvDialect } from './csv-dialect.js';
import { decodeWindows1252, windows1252FromLatin1 } from './windows-1252.js';

const HEAD_BYTES = 64 * 1024;
const REPLACEMENT_CHAR = '\uFFFD';

/**
 * One row as csv-parse delivered it: parsed fields, or the error that made it unreadable. `end` is the byte offset
 * in the file after the row's line terminator (undefined for an unreadable row until the input has ended).
 */
type ParsedRow =
  | { fields: string[]; raw: string; line: number; end: number }
  | { error: string; raw: string; line: number | undefined; end: number | undefined };

/** The header record read from the head of the file, to resume a read at a byte offset without parsing the rows before it. */
interface HeadHeader {
  fields: string[];
  raw: string;
  /** Byte offset in the file after the header's line terminator. */
  end: number;
  /** The record delimiter csv-parse found on the header line: a resumed parser must split rows the same way. */
  recordDelimiter: Buffer[];
}

/**
 * Creates the crisisworks source. Stream = absolute file path; offset = `{fingerprint, row, offset, line}`: data rows
 * read (header excluded), the byte offset after the last one and the line it ended on (see csv-checkpoint.ts).
 */
export function createCrisisworksCsvSource(config: CrisisworksSourceConfig, baseDir: string): Source {
  return {
    name: 'crisisworks',
    read: (ctx) => readExports(config, baseDir, ctx),
    decodeRaw: (raw) => decodeRawRow(raw, config),
  };
}

async function* readExports(config: CrisisworksSourceConfig, baseDir: string, ctx: SourceContext): AsyncGenerator<SourceItem[]> {
  const files = await resolveFiles(config.files, baseDir);
  let batch: SourceItem[] = [];
  for (const path of files) {
    if (ctx.signal.aborted) return;
    for await (const item of readExport(path, config, ctx)) {
      batch.push(item);
      if (batch.length >= BATCH_SIZE) {
        yield batch;
        batch = [];
        if (ctx.signal.aborted) return;
      }
    }
  }
  if (batch.length > 0 && !ctx.signal.aborted) yield batch;
}

async function* readExport(path: string, config: CrisisworksSourceConfig, ctx: SourceContext): AsyncGenerator<SourceItem> {
  const { fingerprint, resumeAt } = await resumeFile(path, ctx.checkpoint(path), ctx.log, parseCsvCheckpoint);
  if (fingerprint.size === 0) return;
  if (resumeAt && 'offset' in resumeAt && resumeAt.offset >= fingerprint.size) return;
  const prefix = checkpointPrefix(fingerprint);
  // windows-1252 is one byte per character: csv-parse reads the bytes as latin1 (so its byte counts are file
  // offsets) and the text is mapped to windows-1252 afterwards; the CSV syntax characters are ASCII in both.
  const windows1252 = config.encoding === 'windows-1252';
  const text = windows1252 ? windows1252FromLatin1 : (t: string) => t;

  const head = await readHead(path);
  const headText = windows1252 ? decodeWindows1252(head) : head.toString('utf8');
  const dialect = sniffDialect(headText, config.delimiter, windows1252 ? (t) => t.length : (t) => Buffer.byteLength(t));
  // A UTF-16 export is decoded by csv-parse after its own BOM detection; its reads keep row-only checkpoints.
  const byteOffsets = windows1252 || !(head[0] === 0xff && head[1] === 0xfe);

  let layout: HeaderLayout | undefined;
  // Each raw row is stored with the header line before it, so a dead letter can be decoded again on its own.
  let headerRaw = '';
  /** Takes the header row (from the head of the file on a resumed read, else the first row parsed). */
  const useHeader = (found: HeaderLayout, raw: string) => {
    layout = found;
    headerRaw = ensureNewline(text(raw));
    if (!found.ok) ctx.log.warn({ stream: path }, `crisisworks export: ${found.reason}`);
  };
  let row = 0;
  let skipUpTo = resumeAt?.row ?? 0;
  // Added to csv-parse's line numbers (which count from the start of the parsed input) to give lines of the file.
  let lineBase: number | undefined = dialect.linesSkipped;
  let start = dialect.dataStart;
  let resumeOptions: Options = {};
  if (resumeAt && 'offset' in resumeAt && byteOffsets) {
    const header = readHeadHeader(head, dialect, windows1252);
    if (header && resumeAt.offset >= header.end) {
      useHeader(resolveHeader(header.fields.map(text), config.columns), header.raw);
      start = resumeAt.offset;
      row = resumeAt.row;
      skipUpTo = 0;
      lineBase = resumeAt.line;
      resumeOptions = { bom: false, record_delimiter: header.recordDelimiter };
    }
  }

  const pending: ParsedRow[] = [];
  const parser: Parser = parse({
    ...parserOptions(dialect.delimiter, windows1252),
    ...resumeOptions,
    on_skip: (error, raw) => {
      // Unreadable rows (an unclosed quote) are only found at the end of the input: `end` is set then.
      pending.push({ error: error?.message ?? 'unreadable row', raw: raw ?? '', line: (error as { lines?: number } | undefined)?.lines, end: undefined });
      return undefined;
    },
    on_record: (record, context) => {
      const fields = recordFields(record);
      pending.push({ fields, raw: context.raw ?? '', line: context.lines, end: start + context.bytes });
      return null;
    },
  });
  let parserError: Error | undefined;
  parser.on('error', (error: Error) => {
    parserError = error;
  });
  parser.resume();

  // Bytes handed to the parser so far; once the input has ended, everything read is consumed.
  let fed = start;
  let ended = false;
  const drain = function* (): Generator<SourceItem> {
    for (let i = 0; i < pending.length; i++) {
      const entry = pending[i]!;
      if (layout === undefined) {
        const found: HeaderLayout =
          'fields' in entry ? resolveHeader(entry.fields.map(text), config.columns) : { ok: false, width: 0, reason: `the header row is unreadable: ${entry.error}` };
        useHeader(found, entry.raw);
        continue;
      }
      if ('fields' in entry && isBlankRow(entry.fields)) continue;
      row++;
      if (row <= skipUpTo) continue;
      const line = entry.line !== undefined && lineBase !== undefined ? entry.line + lineBase : undefined;
      const end = byteOffsets ? (entry.end ?? (ended ? fed : undefined)) : undefined;
      const position: Position = { stream: path, offset: formatCsvCheckpoint(prefix, { row, offset: end, line: end === undefined ? undefined : line }) };
      const raw = headerRaw + trimNewline(text(entry.raw));
      const where = line !== undefined ? `row ${row} (line ${line})` : `row ${row}`;
      if (!('fields' in entry)) {
        yield { kind: 'undecodable', raw, reason: `${where}: ${entry.error}`, position };
      } else if (!layout.ok) {
        yield { kind: 'undecodable', raw, reason: `${where}: ${layout.reason}`, position };
      } else if (!windows1252 && raw.includes(REPLACEMENT_CHAR)) {
        yield { kind: 'undecodable', raw, reason: `${where}: not valid UTF-8 (if the export is Excel "CSV (Comma delimited)", set encoding: "windows-1252")`, position };
      } else {
        const record = rowToRecord(windows1252 ? entry.fields.map(text) : entry.fields, layout);
        if (typeof record === 'string') yield { kind: 'undecodable', raw, reason: `${where}: ${record}`, position };
        else yield { kind: 'record', record, raw, position };
      }
    }
    pending.length = 0;
  };

  const input = createReadStream(path, { start, highWaterMark: 1024 * 1024 });
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      if (ctx.signal.aborted) return;
      fed += chunk.length;
      parser.write(chunk);
      if (parserError) break;
      yield* drain();
    }
    if (!parserError) {
      const done = once(parser, 'end').catch(() => undefined);
      parser.end();
      await done;
      ended = true;
    }
    yield* drain();
    if (parserError) {
      // Nothing after this point can be read: the checkpoint covers what was read (row-only without byte offsets).
      const offset = byteOffsets ? fed : undefined;
      const position: Position = { stream: path, offset: formatCsvCheckpoint(prefix, { row: offset === undefined ? Number.MAX_SAFE_INTEGER : row + 1, offset }) };
      yield { kind: 'undecodable', raw: '', reason: `row ${row + 1} onwards: the file cannot be parsed further: ${parserError.message}`, position };
    }
  } finally {
    input.destroy();
  }
}

/** The fields of a record as csv-parse's `on_record` receives it (with `raw: true` it may come wrapped). */
function recordFields(record: unknown): string[] {
  return (Array.isArray(record) ? record : (record as { record: string[] }).record) as string[];
}

/** csv-parse options shared by a full read, a resumed read and the header read. */
function parserOptions(delimiter: string, windows1252: boolean): Options {
  return {
    delimiter,
    // The dialect sniffer already skipped a UTF-8 BOM; csv-parse's own detection still catches a UTF-16 one.
    bom: !windows1252,
    ...(windows1252 ? { encoding: 'latin1' as const } : {}),
    relax_column_count: true,
    // A quote inside an unquoted cell (hand-edited exports) is literal text, not an error.
    relax_quotes: true,
    skip_empty_lines: true,
    raw: true,
    skip_records_with_error: true,
  };
}

/**
 * Parses the header record out of the head of the file (as csv-parse would at the start of a full read), or
 * undefined when the head ends before the header does. Text is as the parser gives it (latin1 for windows-1252).
 */
function readHeadHeader(head: Buffer, dialect: CsvDialect, windows1252: boolean): HeadHeader | undefined {
  let header: Omit<HeadHeader, 'recordDelimiter'> | undefined;
  const parser = parse({
    ...parserOptions(dialect.delimiter, windows1252),
    to: 1,
    on_skip: () => undefined,
    on_record: (record, context) => {
      header ??= { fields: recordFields(record), raw: context.raw ?? '', end: dialect.dataStart + context.bytes };
      return null;
    },
  });
  parser.on('error', () => undefined);
  // Not ended: a header cut off by the end of the head must not count as complete. The transform runs synchronously.
  parser.write(head.subarray(dialect.dataStart));
  const recordDelimiter = (parser.options as { record_delimiter?: Buffer[] }).record_delimiter ?? [];
  parser.destroy();
  return header && recordDelimiter.length > 0 ? { ...header, recordDelimiter } : undefined;
}

/** Decodes a stored raw row (header line + row, as the source stores them) into its record, or says why not. */
export function decodeRawRow(raw: string, config: Pick<CrisisworksSourceConfig, 'columns' | 'delimiter'>): JsonObject | string {
  const dialect = sniffDialect(raw, config.delimiter, (t) => t.length);
  let rows: string[][];
  try {
    rows = parseSync(raw.slice(dialect.dataStart), { delimiter: dialect.delimiter, bom: true, relax_column_count: true, skip_empty_lines: true }) as string[][];
  } catch (error) {
    return `the row cannot be parsed: ${error instanceof Error ? error.message : String(error)}`;
  }
  const [header, fields] = rows;
  if (!header || !fields) return 'expected a header line and a row';
  const layout = resolveHeader(header, config.columns);
  if (!layout.ok) return layout.reason;
  return rowToRecord(fields, layout);
}

async function readHead(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await fh.read(buf, 0, HEAD_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

function ensureNewline(text: string): string {
  return text.endsWith('\n') ? text : `${text}\n`;
}

function trimNewline(text: string): string {
  let end = text.length;
  while (end > 0 && (text.charCodeAt(end - 1) === 10 || text.charCodeAt(end - 1) === 13)) end--;
  return end === text.length ? text : text.slice(0, end);
}
