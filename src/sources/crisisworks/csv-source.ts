/** Reads Crisisworks delivery-report CSV exports with csv-parse, streaming, one record per data row. */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { once } from 'node:events';
import { parse, type Parser } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import type { JsonObject, Position, Source, SourceContext, SourceItem } from '../../core/types.js';
import type { CrisisworksSourceConfig } from '../config.js';
import { BATCH_SIZE } from '../shared/batcher.js';
import { checkpointPrefix, nonNegativeInteger, resumeFile } from '../shared/file-checkpoint.js';
import { resolveFiles } from '../shared/file-list.js';
import { isBlankRow, resolveHeader, rowToRecord, type HeaderLayout } from './columns.js';
import { sniffDialect } from './csv-dialect.js';

const HEAD_BYTES = 64 * 1024;
const REPLACEMENT_CHAR = '\uFFFD';

/** One row as csv-parse delivered it: parsed fields, or the error that made it unreadable. */
type ParsedRow = { fields: string[]; raw: string; line: number } | { error: string; raw: string; line: number | undefined };

/** Creates the crisisworks source. Stream = absolute file path; offset = `{fingerprint, row}` (data rows, header excluded). */
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
  const { fingerprint, resumeAt } = await resumeFile(path, ctx.checkpoint(path), ctx.log, (v) => {
    const row = nonNegativeInteger(v.row);
    return row === undefined ? undefined : { row };
  });
  if (fingerprint.size === 0) return;
  const prefix = checkpointPrefix(fingerprint);
  const encoding = config.encoding ?? 'utf-8';
  const decoder = encoding === 'windows-1252' ? new TextDecoder('windows-1252') : undefined;

  const head = await readHead(path);
  const headText = decoder ? new TextDecoder('windows-1252').decode(head) : head.toString('utf8');
  const dialect = sniffDialect(headText, config.delimiter, decoder ? (t) => t.length : (t) => Buffer.byteLength(t));

  const pending: ParsedRow[] = [];
  const parser: Parser = parse({
    delimiter: dialect.delimiter,
    bom: true,
    relax_column_count: true,
    // A quote inside an unquoted cell (hand-edited exports) is literal text, not an error.
    relax_quotes: true,
    skip_empty_lines: true,
    raw: true,
    skip_records_with_error: true,
    on_skip: (error, raw) => {
      pending.push({ error: error?.message ?? 'unreadable row', raw: raw ?? '', line: (error as { lines?: number } | undefined)?.lines });
      return undefined;
    },
    on_record: (record, context) => {
      const fields = (Array.isArray(record) ? record : (record as { record: string[] }).record) as string[];
      pending.push({ fields, raw: context.raw ?? '', line: context.lines });
      return null;
    },
  });
  let parserError: Error | undefined;
  parser.on('error', (error: Error) => {
    parserError = error;
  });
  parser.resume();

  let layout: HeaderLayout | undefined;
  // Each raw row is stored with the header line before it, so a dead letter can be decoded again on its own.
  let headerRaw = '';
  let row = 0;
  const skipUpTo = resumeAt?.row ?? 0;
  const lineOffset = dialect.linesSkipped;

  const drain = function* (): Generator<SourceItem> {
    for (let i = 0; i < pending.length; i++) {
      const entry = pending[i]!;
      if (layout === undefined) {
        layout = 'fields' in entry ? resolveHeader(entry.fields, config.columns) : { ok: false, width: 0, reason: `the header row is unreadable: ${entry.error}` };
        headerRaw = ensureNewline(entry.raw);
        if (!layout.ok) ctx.log.warn({ stream: path }, `crisisworks export: ${layout.reason}`);
        continue;
      }
      if ('fields' in entry && isBlankRow(entry.fields)) continue;
      row++;
      if (row <= skipUpTo) continue;
      const position: Position = { stream: path, offset: `${prefix}"row":${row}}` };
      const raw = headerRaw + trimNewline(entry.raw);
      const where = entry.line !== undefined ? `row ${row} (line ${entry.line + lineOffset})` : `row ${row}`;
      if (!('fields' in entry)) {
        yield { kind: 'undecodable', raw, reason: `${where}: ${entry.error}`, position };
      } else if (!layout.ok) {
        yield { kind: 'undecodable', raw, reason: `${where}: ${layout.reason}`, position };
      } else if (!decoder && raw.includes(REPLACEMENT_CHAR)) {
        yield { kind: 'undecodable', raw, reason: `${where}: not valid UTF-8 (if the export is Excel "CSV (Comma delimited)", set encoding: "windows-1252")`, position };
      } else {
        const record = rowToRecord(entry.fields, layout);
        if (typeof record === 'string') yield { kind: 'undecodable', raw, reason: `${where}: ${record}`, position };
        else yield { kind: 'record', record, raw, position };
      }
    }
    pending.length = 0;
  };

  const input = createReadStream(path, { start: dialect.dataStart, highWaterMark: 1024 * 1024 });
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      if (ctx.signal.aborted) return;
      parser.write(decoder ? decoder.decode(chunk, { stream: true }) : chunk);
      if (parserError) break;
      yield* drain();
    }
    if (!parserError) {
      const tail = decoder?.decode();
      const ended = once(parser, 'end').catch(() => undefined);
      if (tail) parser.write(tail);
      parser.end();
      await ended;
    }
    yield* drain();
    if (parserError) {
      const position: Position = { stream: path, offset: `${prefix}"row":${Number.MAX_SAFE_INTEGER}}` };
      yield { kind: 'undecodable', raw: '', reason: `row ${row + 1} onwards: the file cannot be parsed further: ${parserError.message}`, position };
    }
  } finally {
    input.destroy();
  }
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
