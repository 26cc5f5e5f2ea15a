/** Streams the elements of a top-level JSON array file in constant memory, with the byte offset after each element. */
import { open } from 'node:fs/promises';

/** One element of the array, as text. */
export interface ArrayElement {
  /** 1-based element number. */
  index: number;
  /** Byte offset just after the element: where a resumed read starts. */
  end: number;
  text: string;
  /** Set when the element cannot be used: over the size limit, or the file ends inside it. */
  problem?: string;
}

export interface JsonArrayReaderOptions {
  /** Resume just after element `index`, which ended at byte `offset`. */
  start?: { offset: number; index: number };
  /** @default 1 MiB */
  maxElementBytes?: number;
  /** @default 1 MiB */
  chunkBytes?: number;
  signal?: AbortSignal;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const PREFIX_BYTES = 1024;

/**
 * Yields the elements of the array, one array of elements per chunk read. Element texts are not validated
 * here (JSON.parse does that); the scanner only tracks strings and nesting to find element boundaries.
 * A file that is not a JSON array yields a single problem element.
 */
export async function* readJsonArray(path: string, options: JsonArrayReaderOptions = {}): AsyncGenerator<ArrayElement[]> {
  const maxBytes = options.maxElementBytes ?? 1024 * 1024;
  const chunkBytes = options.chunkBytes ?? 1024 * 1024;
  const fh = await open(path, 'r');
  try {
    let filePos = options.start?.offset ?? 0;
    let index = options.start?.index ?? 0;
    let started = options.start !== undefined; // past the opening '['
    let depth = started ? 1 : 0;
    let inString = false;
    let escape = false;
    // The element being collected: its pieces (from earlier chunks), start, and size so far.
    let inElement = false;
    let parts: Buffer[] = [];
    let elementBytes = 0;
    let oversize = false;
    let done = false;

    while (!done) {
      if (options.signal?.aborted) return;
      const chunk = Buffer.allocUnsafe(chunkBytes);
      const { bytesRead } = await fh.read(chunk, 0, chunkBytes, filePos);
      const out: ArrayElement[] = [];
      if (bytesRead === 0) {
        if (inElement) {
          index++;
          const text = oversize ? prefixOf(parts) : Buffer.concat(parts).toString('utf8');
          out.push({ index, end: filePos, text, problem: `the file ends inside element ${index} (truncated?)` });
        } else if (!started) {
          out.push({ index: 1, end: filePos, text: '', problem: 'the file is empty or is not a JSON array' });
        } else if (depth > 0) {
          // A truncated array with complete elements: nothing lost, nothing to report.
        }
        if (out.length > 0) yield out;
        return;
      }
      let elementStart = inElement ? 0 : -1;
      for (let i = 0; i < bytesRead; i++) {
        const c = chunk[i]!;
        if (inString) {
          if (escape) escape = false;
          else if (c === BACKSLASH) escape = true;
          else if (c === QUOTE) inString = false;
          continue;
        }
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
        if (!started) {
          if (c === 0xef || c === 0xbb || c === 0xbf) continue; // UTF-8 BOM
          if (c !== 0x5b) {
            out.push({ index: 1, end: filePos + bytesRead, text: chunk.toString('utf8', 0, Math.min(bytesRead, PREFIX_BYTES)), problem: 'the file is not a JSON array' });
            yield out;
            return;
          }
          started = true;
          depth = 1;
          continue;
        }
        if (depth === 1 && !inElement) {
          if (c === 0x2c) continue; // ',' between elements
          if (c === 0x5d) {
            done = true; // ']' closes the array
            break;
          }
          inElement = true;
          elementStart = i;
          parts = [];
          elementBytes = 0;
          oversize = false;
        }
        if (c === QUOTE) inString = true;
        else if (c === 0x7b || c === 0x5b) depth++;
        else if (c === 0x7d || c === 0x5d) {
          depth--;
          if (depth === 1) {
            index++;
            out.push(finish(chunk, elementStart, i + 1, filePos, index));
            inElement = false;
          } else if (depth === 0) {
            // ']' right after a primitive element
            index++;
            out.push(finish(chunk, elementStart, i, filePos, index));
            inElement = false;
            done = true;
            break;
          }
        } else if (c === 0x2c && depth === 1) {
          // ',' after a primitive element
          index++;
          out.push(finish(chunk, elementStart, i, filePos, index));
          inElement = false;
        }
      }
      if (inElement) {
        const piece = chunk.subarray(elementStart, bytesRead);
        elementBytes += piece.length;
        if (elementBytes > maxBytes) {
          if (!oversize) parts = [Buffer.from(prefixOf([...parts, piece]))];
          oversize = true;
        } else {
          parts.push(piece);
        }
      }
      filePos += bytesRead;
      if (out.length > 0) yield out;
    }

    function finish(chunk: Buffer, start: number, end: number, chunkFilePos: number, n: number): ArrayElement {
      const after = chunkFilePos + end;
      const total = elementBytes + (end - start);
      if (oversize || total > maxBytes) {
        const text = prefixOf([...parts, chunk.subarray(start, end)]);
        return { index: n, end: after, text: `${text}…`, problem: `element is ${total} bytes long, over the ${maxBytes}-byte limit (maxLineBytes); only its start is kept` };
      }
      const text = parts.length === 0 ? chunk.toString('utf8', start, end) : Buffer.concat([...parts, chunk.subarray(start, end)]).toString('utf8');
      return { index: n, end: after, text: text.trimEnd() };
    }
  } finally {
    await fh.close();
  }
}

function prefixOf(parts: Buffer[]): string {
  return Buffer.concat(parts).subarray(0, PREFIX_BYTES).toString('utf8');
}
