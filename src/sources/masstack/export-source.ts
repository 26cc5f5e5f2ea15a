/** MasStack JSON exports: a JSON array of status records, or NDJSON; told apart by the file's first character. */
import { open } from 'node:fs/promises';
import type { Position, Source, SourceContext, SourceItem } from '../../core/types.js';
import { checkpointPrefix, nonNegativeInteger, resumeFile } from '../shared/file-checkpoint.js';
import { resolveFiles } from '../shared/file-list.js';
import { readJsonArray } from '../shared/json-array-reader.js';
import { decodeRawJson, readJsonLinesFile, rebatch, textItem } from '../shared/json-lines-source.js';

export interface MasStackExportOptions {
  files: readonly string[];
  baseDir: string;
  /** @default 1 MiB */
  maxLineBytes?: number;
}

/** Creates the export-file source. Stream = absolute path; offset = byte offset after the element or line. */
export function createMasStackExportSource(options: MasStackExportOptions): Source {
  return {
    name: 'masstack',
    read: (ctx) =>
      rebatch(resolveFiles(options.files, options.baseDir), (path) => readExportFile(path, options, ctx), ctx.signal),
    decodeRaw: (raw) => decodeRawJson(raw),
  };
}

async function* readExportFile(path: string, options: MasStackExportOptions, ctx: SourceContext): AsyncGenerator<SourceItem[]> {
  if ((await firstSignificantByte(path)) !== 0x5b) {
    yield* readJsonLinesFile(path, { maxLineBytes: options.maxLineBytes }, ctx);
    return;
  }
  const { fingerprint, resumeAt } = await resumeFile(path, ctx.checkpoint(path), ctx.log, (v) => {
    const offset = nonNegativeInteger(v.offset);
    const element = nonNegativeInteger(v.element);
    return offset === undefined || element === undefined ? undefined : { offset, index: element };
  });
  if (resumeAt && resumeAt.offset >= fingerprint.size) return;
  const prefix = checkpointPrefix(fingerprint);
  for await (const elements of readJsonArray(path, { start: resumeAt, maxElementBytes: options.maxLineBytes, signal: ctx.signal })) {
    const items: SourceItem[] = new Array(elements.length);
    for (let i = 0; i < elements.length; i++) {
      const element = elements[i]!;
      const position: Position = { stream: path, offset: `${prefix}"offset":${element.end},"element":${element.index}}` };
      items[i] =
        element.problem !== undefined
          ? { kind: 'undecodable', raw: element.text, reason: `element ${element.index}: ${element.problem}`, position }
          : textItem(element.text, `element ${element.index}`, position, undefined, ctx.deferDecoding);
    }
    yield items;
  }
}

/** The first byte that is not whitespace or a UTF-8 BOM, or undefined for an empty file. */
async function firstSignificantByte(path: string): Promise<number | undefined> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    for (let i = 0; i < bytesRead; i++) {
      const c = buf[i]!;
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09 && c !== 0xef && c !== 0xbb && c !== 0xbf) return c;
    }
    return undefined;
  } finally {
    await fh.close();
  }
}
