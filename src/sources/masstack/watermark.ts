/**
 * The MasStack API cursor: a status-time watermark plus the ids already read at exactly that time, and, while a
 * sweep of the API is under way, how far it got. Pure functions; the API source does the I/O.
 */

/** The stored offset string, parsed. Times are ISO-8601 UTC. */
export interface ApiCursor {
  /** Highest status time read and settled; null before the first record. */
  watermark: string | null;
  /** Ids of the records whose status time equals the watermark (all read already). */
  idsAtWatermark: string[];
  /** Present while a sweep is incomplete: resuming continues it instead of starting a new one. */
  sweep?: SweepProgress;
}

/** A sweep pages through one fixed query window; its results are only trusted as a whole. */
export interface SweepProgress {
  /** `requestTime[gt]` of the sweep's query, or null for none. */
  gt: string | null;
  /** `requestTime[lt]` of the sweep's query (fixed when the sweep started, so paging stays stable). */
  lt: string;
  /** API records consumed so far (the next page's offset). */
  offset: number;
  /** Highest status time emitted so far in the sweep (starts at the watermark). */
  maxTime: string | null;
  /** Ids emitted at `maxTime` (or already read at it). */
  maxIds: string[];
}

/** Parses a stored offset string; undefined when absent or unreadable. */
export function parseCursor(text: string | undefined): ApiCursor | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  const watermark = v.watermark === null || isIso(v.watermark) ? (v.watermark as string | null) : undefined;
  if (watermark === undefined || !isStringArray(v.idsAtWatermark)) return undefined;
  const cursor: ApiCursor = { watermark, idsAtWatermark: v.idsAtWatermark };
  const s = v.sweep;
  if (s !== undefined && s !== null && typeof s === 'object') {
    const w = s as Record<string, unknown>;
    if (
      (w.gt === null || isIso(w.gt)) &&
      isIso(w.lt) &&
      typeof w.offset === 'number' &&
      Number.isSafeInteger(w.offset) &&
      w.offset >= 0 &&
      (w.maxTime === null || isIso(w.maxTime)) &&
      isStringArray(w.maxIds)
    ) {
      cursor.sweep = { gt: w.gt as string | null, lt: w.lt as string, offset: w.offset, maxTime: w.maxTime as string | null, maxIds: w.maxIds };
    } else {
      return undefined;
    }
  }
  return cursor;
}

export function formatCursor(cursor: ApiCursor): string {
  return JSON.stringify(cursor);
}

function isIso(value: unknown): value is string {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value));
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/**
 * Decides whether a record at status time `timeMs` with `id` is new relative to the watermark: later than it,
 * or at it but not among the ids already read there.
 */
export function isNewSince(timeMs: number, id: string, watermarkMs: number | undefined, idsAtWatermark: ReadonlySet<string>): boolean {
  if (watermarkMs === undefined) return true;
  if (timeMs > watermarkMs) return true;
  return timeMs === watermarkMs && !idsAtWatermark.has(id);
}

/** Tracks the highest status time (and the ids at it) over the records a sweep emits. */
export class MaxTracker {
  private maxMs: number | undefined;
  private ids: Set<string>;

  constructor(maxTime: string | null, maxIds: readonly string[]) {
    this.maxMs = maxTime === null ? undefined : Date.parse(maxTime);
    this.ids = new Set(maxIds);
  }

  add(timeMs: number, id: string): void {
    if (this.maxMs === undefined || timeMs > this.maxMs) {
      this.maxMs = timeMs;
      this.ids = new Set([id]);
    } else if (timeMs === this.maxMs) {
      this.ids.add(id);
    }
  }

  get time(): string | null {
    return this.maxMs === undefined ? null : new Date(this.maxMs).toISOString();
  }

  get idList(): string[] {
    return [...this.ids];
  }
}
