/** The position of a Crisisworks CSV read: data rows done, and (when known) the byte offset and line after the last one. */
import { nonNegativeInteger } from '../shared/file-checkpoint.js';

/**
 * Where a read of one export stopped. `row` counts data rows (header and blank rows excluded). `offset` is the byte
 * offset in the file just after the row's line terminator, and `line` the physical line the row ended on; both are
 * absent in checkpoints written before byte offsets were kept (those resume by skipping `row` rows).
 */
export type CsvCheckpoint = { row: number } | { row: number; offset: number; line?: number };

/** Reads the position fields of a parsed checkpoint; undefined when they are malformed (the file is then read again). */
export function parseCsvCheckpoint(value: Record<string, unknown>): CsvCheckpoint | undefined {
  const row = nonNegativeInteger(value.row);
  if (row === undefined) return undefined;
  if (value.offset === undefined) return { row };
  const offset = nonNegativeInteger(value.offset);
  if (offset === undefined) return undefined;
  const line = nonNegativeInteger(value.line);
  return line === undefined ? { row, offset } : { row, offset, line };
}

/** The offset string of a position: `prefix` (fingerprint) then the fields, in a stable order. */
export function formatCsvCheckpoint(prefix: string, at: { row: number; offset?: number | undefined; line?: number | undefined }): string {
  if (at.offset === undefined) return `${prefix}"row":${at.row}}`;
  return at.line === undefined ? `${prefix}"row":${at.row},"offset":${at.offset}}` : `${prefix}"row":${at.row},"offset":${at.offset},"line":${at.line}}`;
}
