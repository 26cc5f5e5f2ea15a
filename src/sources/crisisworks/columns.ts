/** Crisisworks report columns: canonical names, header matching, and rows → records keyed by canonical names. */
import type { JsonObject } from '../../core/types.js';
import type { CrisisworksColumns } from '../config.js';

export type ColumnKey = keyof Required<CrisisworksColumns>;

/** Canonical column names: the record keys, and the default header names. */
export const CANONICAL_COLUMNS: Readonly<Record<ColumnKey, string>> = {
  deliveryId: 'Delivery ID',
  communication: 'Communication',
  recipient: 'Recipient',
  deliveryType: 'Delivery Type',
  status: 'Status',
  response: 'Response',
  reason: 'Reason',
  updated: 'Updated',
};

export const REQUIRED_COLUMNS: readonly ColumnKey[] = ['deliveryId', 'status', 'updated'];

/** How one export's header maps onto record keys. */
export type HeaderLayout =
  | { ok: true; width: number; keys: Array<string | undefined> }
  | { ok: false; width: number; reason: string };

function normalise(name: string): string {
  return name.trim().replace(/\s+/g, ' ').toLowerCase();
}

/**
 * Matches a header row (case and spacing ignored) against the configured names. Each column becomes its
 * canonical key, or keeps its own header text when it is not a known column. Trailing empty header cells
 * (Excel) are dropped.
 */
export function resolveHeader(header: readonly string[], configured: CrisisworksColumns | undefined): HeaderLayout {
  let width = header.length;
  while (width > 0 && header[width - 1]!.trim() === '') width--;
  const names = header.slice(0, width).map((h) => h.trim());
  const wanted = new Map<string, string>();
  for (const key of Object.keys(CANONICAL_COLUMNS) as ColumnKey[]) {
    wanted.set(normalise(configured?.[key] ?? CANONICAL_COLUMNS[key]), CANONICAL_COLUMNS[key]);
  }
  const used = new Set<string>();
  const keys = names.map((name) => {
    const canonical = wanted.get(normalise(name));
    if (canonical !== undefined && !used.has(canonical)) {
      used.add(canonical);
      return canonical;
    }
    if (name === '' || used.has(name)) return undefined;
    used.add(name);
    return name;
  });
  const missing = REQUIRED_COLUMNS.filter((key) => !used.has(CANONICAL_COLUMNS[key]));
  if (missing.length > 0) {
    const missingNames = missing.map((key) => `"${configured?.[key] ?? CANONICAL_COLUMNS[key]}"`).join(', ');
    const found = names.filter((n) => n !== '').map((n) => `"${n}"`).join(', ') || 'none';
    return {
      ok: false,
      width,
      reason: `missing required column${missing.length > 1 ? 's' : ''} ${missingNames}; found columns: ${found} (set "columns" in the source configuration if the export names them differently)`,
    };
  }
  return { ok: true, width, keys };
}

/**
 * Turns a data row into a record, or a reason when its field count is wrong. Cells are trimmed; empty cells
 * are omitted. Trailing empty cells beyond the header (Excel) are ignored.
 */
export function rowToRecord(fields: readonly string[], layout: { width: number; keys: Array<string | undefined> }): JsonObject | string {
  let count = fields.length;
  while (count > layout.width && fields[count - 1]!.trim() === '') count--;
  if (count !== layout.width) return `${count} fields where the header has ${layout.width}`;
  const record: JsonObject = {};
  for (let i = 0; i < count; i++) {
    const key = layout.keys[i];
    if (key === undefined) continue;
    const value = fields[i]!.trim();
    if (value !== '') record[key] = value;
  }
  return record;
}

/** True for rows with no content at all (blank lines, or Excel's `;;;;` rows). */
export function isBlankRow(fields: readonly string[]): boolean {
  for (const f of fields) if (f.trim() !== '') return false;
  return true;
}
