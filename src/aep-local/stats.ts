/** Counters of requests by route and status, injected faults, messages and batches. */
import type { AepLocalStats } from './types.js';

export class StatsRecorder {
  private requests: Record<string, Record<string, number>> = {};
  private faults: Record<string, number> = {};
  messages = { received: 0, accepted: 0, rejected: 0 };
  batches = { created: 0, success: 0, failed: 0, aborted: 0 };

  request(route: string, status: number | 'reset'): void {
    const byStatus = (this.requests[route] ??= {});
    byStatus[String(status)] = (byStatus[String(status)] ?? 0) + 1;
  }

  fault(kind: string): void {
    this.faults[kind] = (this.faults[kind] ?? 0) + 1;
  }

  snapshot(accepted: number, duplicates: number): AepLocalStats {
    return {
      requests: structuredClone(this.requests),
      faults: { ...this.faults },
      messages: { ...this.messages },
      duplicates,
      accepted,
      batches: { ...this.batches },
    };
  }

  clear(): void {
    this.requests = {};
    this.faults = {};
    this.messages = { received: 0, accepted: 0, rejected: 0 };
    this.batches = { created: 0, success: 0, failed: 0, aborted: 0 };
  }
}
