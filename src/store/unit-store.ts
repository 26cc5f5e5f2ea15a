/**
 * The per-unit state work of a run — enrichment (ledger look-ups, message history, retryCount) and the commit of an
 * acknowledged unit — behind one asynchronous interface, so it can run on its own thread while the main thread maps,
 * validates and sends the next units. SQLite's random-order B-tree writes are the largest cost of a sync; on a worker
 * thread they overlap with everything else instead of adding to it.
 */
import type { MessageKey, Outcome } from '../core/types.js';
import type { StateStore, UnitCommit } from './state.js';
import { compiledWorkerScript } from '../util/worker-script.js';
import { WorkerChannel, type ChannelAnswer } from '../util/worker-channel.js';

/**
 * A mapped event of a unit, as enrichment needs it: skipped when its `_id` is already in the ledger, else given its
 * retryCount from its message's history (and recorded there when it counts toward later ones).
 */
export interface EnrichRequest {
  id: string;
  eventTime: string;
  sourceEventId: string;
  message: MessageKey;
  outcome: Outcome;
}

/** Per request: `sent` when the ledger has the event already, else the retryCount its history gives. */
export type EnrichResult = { sent: true } | { sent: false; retryCount: number };

export interface UnitStore {
  /** Answers every request of one unit (EnrichRequest[] as JSON text), in one transaction, in order. */
  enrich(source: string, requests: string): Promise<EnrichResult[]>;
  /** Writes one settled unit (ledger, dead letters, checkpoints) atomically; commits complete in call order. */
  commit(unit: UnitCommit): Promise<void>;
  close(): Promise<void>;
}

/** Enrichment of one unit against a store, in one transaction (shared by the inline store and the worker). */
export function enrichUnit(store: StateStore, source: string, requests: EnrichRequest[]): EnrichResult[] {
  return store.db.transaction(() =>
    requests.map((r): EnrichResult => {
      if (store.isSent(r.id, r.eventTime)) return { sent: true };
      return { sent: false, retryCount: store.placeInHistory(source, r.sourceEventId, r.message, r.outcome) };
    }),
  )();
}

/** Enrichment results as one integer each: -1 for "already sent", else the retryCount. */
export function encodeResults(results: EnrichResult[]): Int32Array {
  return Int32Array.from(results, (r) => (r.sent ? -1 : r.retryCount));
}

function decodeResults(encoded: Int32Array): EnrichResult[] {
  return Array.from(encoded, (n): EnrichResult => (n < 0 ? { sent: true } : { sent: false, retryCount: n }));
}

/** Does the work on the calling thread (in-memory databases, replay, tests of the pipeline alone). */
export function inlineUnitStore(store: StateStore): UnitStore {
  return {
    enrich: async (source, requests) => enrichUnit(store, source, JSON.parse(requests) as EnrichRequest[]),
    commit: async (unit) => store.commitUnit(unit),
    close: async () => undefined,
  };
}

/** Messages between the pipeline and the worker. */
// Payloads cross the thread boundary as JSON text and a typed array: structured cloning 500 small objects per unit
// cost the main thread more than the SQLite work it hands off.
type WorkerOp = { op: 'enrich'; source: string; requests: string } | { op: 'commit'; unit: string } | { op: 'close' };
export type WorkerRequest = WorkerOp & { seq: number };
export type WorkerAnswer = ChannelAnswer<{ results?: Int32Array }>;

/**
 * A store working on its own thread with its own connection to the state file. Requests are answered in order;
 * a failed request rejects with the SQLite error's message and code (so it is reported like one on this thread).
 * Falls back to the inline store for in-memory databases or when the worker script has not been built.
 */
export async function threadedUnitStore(statePath: string, store: StateStore): Promise<UnitStore> {
  const script = statePath === ':memory:' ? undefined : compiledWorkerScript(import.meta.url, 'unit-store-worker.js', 'store');
  if (!script) return inlineUnitStore(store);
  // The thread keeps almost nothing alive (prepared statements); a small young generation keeps its memory small.
  const options = { workerData: { statePath }, resourceLimits: { maxYoungGenerationSizeMb: 4 } };
  const channel = new WorkerChannel<WorkerOp, { results?: Int32Array }>(script, options, 'state worker');
  await channel.ready;
  return {
    enrich: async (source, requests) => decodeResults((await channel.call({ op: 'enrich', source, requests })).results!),
    commit: async (unit) => void (await channel.call({ op: 'commit', unit: JSON.stringify(unit) })),
    close: async () => {
      if (!channel.failed) await channel.call({ op: 'close' }).catch(() => undefined);
      await channel.close(new Error('the state worker thread was closed'));
    },
  };
}
