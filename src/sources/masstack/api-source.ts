/**
 * The MasStack API source: incremental by a status-time watermark with the ids seen at it, so records sharing
 * the watermark time are neither skipped nor read twice; a sweep's progress is resumable mid-way.
 */
import type { JsonObject, Position, Source, SourceContext, SourceItem } from '../../core/types.js';
import { BATCH_SIZE } from '../shared/batcher.js';
import { decodeRawJson } from '../shared/json-lines-source.js';
import type { MasStackClient } from './api-client.js';
import { formatCursor, isNewSince, MaxTracker, parseCursor, type ApiCursor, type SweepProgress } from './watermark.js';

export interface MasStackApiSourceOptions {
  client: MasStackClient;
  /** @default 100 */
  pageSize?: number;
  /** First run: only records with status time at or after this ISO time. */
  since?: string;
  /** Re-query by request time this far before the watermark. @default 48 */
  lookbackHours?: number;
  /** Clock (tests). */
  now?: () => number;
}

/** Creates the API source. Stream = the endpoint URL (plus the window for backfills); offset = the cursor JSON. */
export function createMasStackApiSource(options: MasStackApiSourceOptions): Source {
  return { name: 'masstack', read: (ctx) => readApi(options, ctx), decodeRaw: (raw) => decodeRawJson(raw) };
}

async function* readApi(options: MasStackApiSourceOptions, ctx: SourceContext): AsyncGenerator<SourceItem[]> {
  const { client } = options;
  const pageSize = options.pageSize ?? 100;
  const lookbackMs = (options.lookbackHours ?? 48) * 3_600_000;
  const now = options.now ?? Date.now;
  const fromMs = ctx.window?.from?.getTime();
  const toMs = ctx.window?.to?.getTime();
  // A backfill window gets its own stream, so it never moves the incremental watermark.
  const stream = fromMs !== undefined || toMs !== undefined ? `${client.url}#window=${iso(fromMs) ?? ''}..${iso(toMs) ?? ''}` : client.url;

  const stored = ctx.checkpoint(stream);
  let cursor = parseCursor(stored);
  if (stored !== undefined && !cursor) ctx.log.warn({ stream }, 'unreadable MasStack checkpoint; starting from the configured beginning');
  if (!cursor) {
    const start = fromMs ?? (options.since !== undefined ? Date.parse(options.since) : undefined);
    cursor = { watermark: start === undefined ? null : new Date(start - 1).toISOString(), idsAtWatermark: [] };
  }
  const upper = toMs === undefined ? now() : Math.min(toMs, now());
  const freshSweep = (from: ApiCursor): SweepProgress => ({
    gt: from.watermark === null ? (fromMs === undefined ? null : new Date(fromMs - lookbackMs).toISOString()) : new Date(Date.parse(from.watermark) - lookbackMs).toISOString(),
    lt: new Date(upper).toISOString(),
    offset: 0,
    maxTime: from.watermark,
    maxIds: from.idsAtWatermark,
  });
  let base: ApiCursor = { watermark: cursor.watermark, idsAtWatermark: cursor.idsAtWatermark };
  let sweep: SweepProgress = cursor.sweep ?? freshSweep(base);
  let resumed = cursor.sweep !== undefined;
  const tracker = new MaxTracker(sweep.maxTime, sweep.maxIds);
  // The last item is held back until we know whether it ends the run: then it carries the new watermark.
  let held: SourceItem | undefined;
  let batch: SourceItem[] = [];

  for (;;) {
    const watermarkMs = base.watermark === null ? undefined : Date.parse(base.watermark);
    const seenAtWatermark = new Set(base.idsAtWatermark);
    const current = sweep;
    const progress = (consumed: number): Position => ({
      stream,
      offset: formatCursor({ ...base, sweep: { gt: current.gt, lt: current.lt, offset: consumed, maxTime: tracker.time, maxIds: tracker.idList } }),
    });
    let offset = sweep.offset;
    for (;;) {
      if (ctx.signal.aborted) return;
      let page;
      try {
        page = await client.getPage({ gt: sweep.gt ?? undefined, lt: sweep.lt, limit: pageSize, offset }, ctx.signal);
      } catch (error) {
        if (ctx.signal.aborted) return;
        throw error;
      }
      for (let i = 0; i < page.items.length; i++) {
        const record = page.items[i]!;
        const consumed = offset + i + 1;
        const id = typeof record.id === 'string' || typeof record.id === 'number' ? String(record.id) : undefined;
        const timeMs = typeof record.statusTime === 'string' ? Date.parse(record.statusTime) : typeof record.statusTime === 'number' ? record.statusTime : NaN;
        let item: SourceItem;
        if (id === undefined || Number.isNaN(timeMs)) {
          const missing = id === undefined ? 'no id' : 'no valid statusTime';
          item = { kind: 'undecodable', raw: JSON.stringify(record), reason: `API record ${consumed} has ${missing}`, position: progress(consumed) };
        } else {
          if (!isNewSince(timeMs, id, watermarkMs, seenAtWatermark)) continue;
          if ((fromMs !== undefined && timeMs < fromMs) || (toMs !== undefined && timeMs >= toMs)) continue;
          tracker.add(timeMs, id);
          item = { kind: 'record', record: record as JsonObject, raw: JSON.stringify(record), position: progress(consumed) };
        }
        if (held) batch.push(held);
        held = item;
        if (batch.length >= BATCH_SIZE) {
          yield batch;
          batch = [];
          if (ctx.signal.aborted) return;
        }
      }
      offset += page.items.length;
      if (page.items.length === 0 || (page.total !== undefined && offset >= page.total)) break;
    }
    if (!resumed) break;
    // A sweep resumed from an interrupted run is done: start a fresh one from what it reached, in this run, so the
    // watermark moves on even when the resumed tail had nothing new.
    resumed = false;
    base = { watermark: tracker.time, idsAtWatermark: tracker.idList };
    sweep = freshSweep(base);
  }
  if (held) {
    held.position = { stream, offset: formatCursor({ watermark: tracker.time, idsAtWatermark: tracker.idList }) };
    batch.push(held);
  }
  if (batch.length > 0) yield batch;
}

function iso(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString();
}
