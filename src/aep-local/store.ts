/** What the imitation accepted, in order; like the data lake it keeps repeated `_id`s and counts them. */
import type { AcceptedEvent } from './types.js';

export class EventStore {
  private events: AcceptedEvent[] = [];
  private counts = new Map<string, number>();
  private repeated = 0;

  add(event: AcceptedEvent): void {
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
    return this.events.length;
  }

  /** Accepted events whose `_id` had already been accepted. */
  get duplicates(): number {
    return this.repeated;
  }

  /** Drops the events of one batch (batch REVERT), recounting duplicates. */
  removeRef(ref: string): void {
    const kept = this.events.filter((e) => e.ref !== ref);
    this.clear();
    for (const e of kept) this.add(e);
  }

  clear(): void {
    this.events = [];
    this.counts = new Map();
    this.repeated = 0;
  }
}
