/** A SourceContext for tests (checkpoints in a Map) and helpers to drain a Source. */
import type { DecodedItem, Position, Source, SourceContext, SourceItem, TimeWindow } from '../../src/core/types.js';
import { silentLogger, type Logger } from '../../src/log.js';
import pino from 'pino';

/** A logger that keeps its JSON lines in `lines` (for asserting on warnings). */
export function memoryLogger(): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'debug' }, { write: (text: string) => lines.push(JSON.parse(text) as Record<string, unknown>) });
  return { log, lines };
}

export interface TestContext extends SourceContext {
  checkpoints: Map<string, string>;
  /** Stores the positions of items as the pipeline would once they are settled (the last position per stream). */
  settle(items: SourceItem[]): void;
}

export function testContext(options: { checkpoints?: Map<string, string>; window?: TimeWindow; signal?: AbortSignal; log?: Logger } = {}): TestContext {
  const checkpoints = options.checkpoints ?? new Map<string, string>();
  return {
    checkpoints,
    checkpoint: (stream) => checkpoints.get(stream),
    signal: options.signal ?? new AbortController().signal,
    log: options.log ?? silentLogger,
    ...(options.window ? { window: options.window } : {}),
    settle(items) {
      for (const item of items) checkpoints.set(item.position.stream, item.position.offset);
    },
  };
}

/** Reads a source to the end, settling every batch, and returns all items. */
export async function drain(source: Source, ctx: TestContext, limit = Infinity): Promise<SourceItem[]> {
  const out: SourceItem[] = [];
  for await (const batch of source.read(ctx)) {
    for (const item of batch) {
      if (out.length >= limit) return out;
      out.push(item);
      ctx.settle([item]);
    }
  }
  return out;
}

/** The items of a source read with decoding (the default): records and undecodable ones, never undecoded text. */
export function decodedOnly(items: SourceItem[]): DecodedItem[] {
  return items.map((item) => {
    if (item.kind === 'text') throw new Error(`undecoded text at ${item.where}: the source was read with deferDecoding`);
    return item;
  });
}

export function records(items: SourceItem[]): Array<Record<string, unknown>> {
  return items.flatMap((i) => (i.kind === 'record' ? [i.record] : []));
}

export function undecodable(items: SourceItem[]): Array<{ raw: string; reason: string; position: Position }> {
  return items.flatMap((i) => (i.kind === 'undecodable' ? [{ raw: i.raw, reason: i.reason, position: i.position }] : []));
}
