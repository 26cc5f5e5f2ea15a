/** What the imitation accepted, in order; like the data lake it keeps repeated `_id`s and counts them. */
import type { AcceptedEvent } from './types.js';

export class EventStore {
  private events: AcceptedEvent[] = [];
  private counts = new Map<string, number>();
  private repeated = 0;
  private counted = 0;

  /** @param retain false: only count accepted events (long benchmarks), keeping neither them nor their `_id`s. */
  constructor(private readonly retain = true) {}

  add(event: AcceptedEvent): void {
    if (!this.retain) {
      this.counted++;
      return;
    }
    this.events.push(event);
    const id = typeof event.event['_id'] === 'string' ? event.event['_id'] : undefined;
    if (id === undefined) return;
    const seen = this.counts.get(id) ?? 0;
    if (seen > 0) this.repeated++;
    this.counts.set(id, seen + 1);
  }

  all(): AcceptedEvent[] {
    return [...this.events];
  }

  /** Events of one dataset (all when undefined). */
  byDataset(datasetId: string | undefined): AcceptedEvent[] {
    return datasetId === undefined ? this.all() : this.events.filter((e) => e.datasetId === datasetId);
  }

  ids(): string[] {
    return this.events.map((e) => String(e.event['_id']));
  }

  get size(): number {
    return this.retain ? this.events.length : this.counted;
  }

  /** Accepted events whose `_id` had already been accepted. */
  get duplicates(): number {
    return this.repeated;
  }

  /** Drops the events of one batch (batch REVERT), recounting duplicates. */
  removeRef(ref: string): void {
    if (!this.retain) return; // nothing kept to remove; the count stays as it was
    const kept = this.events.filter((e) => e.ref !== ref);
    this.clear();
    for (const e of kept) this.add(e);
  }

  clear(): void {
    this.counted = 0;
    this.events = [];
    this.counts = new Map();
    this.repeated = 0;
  }
}
