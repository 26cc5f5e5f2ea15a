/** Reads a file as lines in large chunks, tracking byte offsets, line numbers, invalid UTF-8 and over-long lines. */
import { open } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';

/** One non-blank line of a file. */
export interface Line {
  /** 1-based line number in the file (blank lines count). */
  lineNo: number;
  /** Byte offset just after the line and its terminator: where a resumed read starts. */
  end: number;
  /** The line without its CR/LF. For a problem line, a printable (possibly shortened) rendering of the bytes. */
  text: string;
  /** Set when the line cannot be used as text: invalid UTF-8, or longer than the limit. */
  problem?: string;
}

export interface LineReaderOptions {
  /** Byte offset to start at (must be the start of a line). @default 0 */
  start?: number;
  /** Line number of the line at `start`. @default 1 */
  startLine?: number;
  /** Lines longer than this (without terminator) are reported as problems, never held whole. @default 1 MiB */
  maxLineBytes?: number;
  /** Read size. @default 1 MiB */
  chunkBytes?: number;
  signal?: AbortSignal;
}

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
const RAW_PREFIX_BYTES = 1024;
const LF = 10;
const CR = 13;

/**
 * Yields the non-blank lines of a file, one array per chunk read. Memory stays bounded by
 * `chunkBytes + maxLineBytes` whatever the file size. A missing final newline is accepted.
 */
export async function* readLines(path: string, options: LineReaderOptions = {}): AsyncGenerator<Line[]> {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const chunkBytes = options.chunkBytes ?? 1024 * 1024;
  const capacityLimit = Math.max(chunkBytes, maxLineBytes + 2);
  const signal = options.signal;
  const fh = await open(path, 'r');
  try {
    let buf = Buffer.allocUnsafe(Math.min(chunkBytes, capacityLimit));
    let len = 0; // bytes of pending data at buf[0..len)
    let bufFilePos = options.start ?? 0; // file offset of buf[0]
    let lineNo = options.startLine ?? 1;
    // Over-long line being discarded: its first bytes (for the dead letter) and total length so far.
    let oversizePrefix: string | undefined;
    let oversizeBytes = 0;
    let eof = false;

    while (!eof) {
      if (signal?.aborted) return;
      if (len === buf.length) {
        if (buf.length < capacityLimit) {
          const bigger = Buffer.allocUnsafe(Math.min(buf.length * 2, capacityLimit));
          buf.copy(bigger, 0, 0, len);
          buf = bigger;
        } else {
          // The pending line does not fit: keep a prefix and drop the rest until its newline.
          oversizePrefix ??= buf.toString('utf8', 0, RAW_PREFIX_BYTES);
          oversizeBytes += len;
          bufFilePos += len;
          len = 0;
        }
      }
      const { bytesRead } = await fh.read(buf, len, buf.length - len, bufFilePos + len);
      if (bytesRead === 0) eof = true;
      const dataEnd = len + bytesRead;
      const view = buf.subarray(0, dataEnd);
      const out: Line[] = [];
      let lineStart = 0;
      let nl = view.indexOf(LF, len);
      // One UTF-8 check per chunk: LF never occurs inside a multi-byte sequence, so a valid chunk has valid lines.
      const lastNl = nl < 0 ? -1 : view.lastIndexOf(LF);
      const chunkValid = lastNl < 0 || isUtf8(view.subarray(0, lastNl + 1));

      while (nl >= 0) {
        const next = nl + 1;
        if (oversizePrefix !== undefined) {
          out.push(oversizeLine(lineNo, bufFilePos + next, oversizePrefix, oversizeBytes + nl, maxLineBytes));
          oversizePrefix = undefined;
          oversizeBytes = 0;
        } else {
          const textEnd = nl > lineStart && view[nl - 1] === CR ? nl - 1 : nl;
          const line = makeLine(view, lineStart, textEnd, lineNo, bufFilePos + next, maxLineBytes, chunkValid);
          if (line) out.push(line);
        }
        lineNo++;
        lineStart = next;
        nl = view.indexOf(LF, lineStart);
      }

      if (eof) {
        if (oversizePrefix !== undefined) {
          out.push(oversizeLine(lineNo, bufFilePos + dataEnd, oversizePrefix, oversizeBytes + dataEnd, maxLineBytes));
        } else if (lineStart < dataEnd) {
          const textEnd = view[dataEnd - 1] === CR ? dataEnd - 1 : dataEnd;
          const line = makeLine(view, lineStart, textEnd, lineNo, bufFilePos + dataEnd, maxLineBytes, false);
          if (line) out.push(line);
        }
      } else if (lineStart > 0) {
        buf.copy(buf, 0, lineStart, dataEnd);
        bufFilePos += lineStart;
        len = dataEnd - lineStart;
      } else {
        len = dataEnd;
      }
      if (out.length > 0) yield out;
    }
  } finally {
    await fh.close();
  }
}

function makeLine(
  view: Buffer,
  start: number,
  end: number,
  lineNo: number,
  after: number,
  maxLineBytes: number,
  knownValid: boolean,
): Line | undefined {
  const length = end - start;
  if (length === 0) return undefined;
  if (length > maxLineBytes) {
    return oversizeLine(lineNo, after, view.toString('utf8', start, start + RAW_PREFIX_BYTES), length, maxLineBytes);
  }
  const text = view.toString('utf8', start, end);
  if (!knownValid && !isUtf8(view.subarray(start, end))) {
    return { lineNo, end: after, text, problem: 'not valid UTF-8 text' };
  }
  // Whitespace-only lines are blank lines.
  const first = text.charCodeAt(0);
  if ((first === 32 || first === 9) && text.trim() === '') return undefined;
  return { lineNo, end: after, text };
}

function oversizeLine(lineNo: number, after: number, prefix: string, bytes: number, maxLineBytes: number): Line {
  return {
    lineNo,
    end: after,
    text: `${prefix}…`,
    problem: `line is ${bytes} bytes long, over the ${maxLineBytes}-byte limit (maxLineBytes); only its start is kept`,
  };
}
