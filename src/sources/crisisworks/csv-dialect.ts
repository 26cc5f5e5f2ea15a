/** Sniffs a CSV export's dialect from its first bytes: BOM, Excel's `sep=` line, and the delimiter of the header line. */

export interface CsvDialect {
  delimiter: string;
  /** Byte offset where the CSV proper starts (after a BOM and a `sep=` line). */
  dataStart: number;
  /** Physical lines before `dataStart` (1 when a `sep=` line was skipped). */
  linesSkipped: number;
}

const CANDIDATES = [',', ';', '\t', '|'];

/**
 * Works out the dialect from the head of the file (its first few KB, decoded). `configured` wins over detection.
 * `byteLength` measures decoded text in the file's encoding, to turn the skipped prefix into a byte offset.
 */
export function sniffDialect(head: string, configured: string | undefined, byteLength: (text: string) => number): CsvDialect {
  let text = head;
  let dataStart = 0;
  if (text.charCodeAt(0) === 0xfeff) {
    text = text.slice(1);
    dataStart += byteLength('\ufeff');
  }
  let linesSkipped = 0;
  let sepDelimiter: string | undefined;
  const sep = /^sep=(.)\r?\n/i.exec(text) ?? /^"sep=(.)"\r?\n/i.exec(text);
  if (sep) {
    sepDelimiter = sep[1];
    dataStart += byteLength(sep[0]);
    text = text.slice(sep[0].length);
    linesSkipped = 1;
  }
  const delimiter = configured ?? sepDelimiter ?? detectDelimiter(firstRecordLine(text));
  return { delimiter, dataStart, linesSkipped };
}

/** The first line, outside quotes (a quoted header cell may hold a newline). */
function firstRecordLine(text: string): string {
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') quoted = !quoted;
    else if ((c === '\n' || c === '\r') && !quoted) return text.slice(0, i);
  }
  return text;
}

/** The candidate delimiter that occurs most often outside quotes; `,` on a tie or when none occurs. */
export function detectDelimiter(line: string): string {
  const counts = new Map<string, number>(CANDIDATES.map((c) => [c, 0]));
  let quoted = false;
  for (const c of line) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && counts.has(c)) counts.set(c, counts.get(c)! + 1);
  }
  let best = ',';
  let bestCount = 0;
  for (const [c, n] of counts) {
    if (n > bestCount) {
      best = c;
      bestCount = n;
    }
  }
  return best;
}
