/**
 * The per-unit state work of a run — enrichment (ledger look-ups, message history, retryCount) and the commit of an
 * acknowledged unit — behind one asynchronous interface, so it can run on its own thread while the main thread maps,
 * validates and sends the next units. SQLite's random-order B-tree writes are the largest cost of a sync; on a worker
 * thread they overlap with everything else instead of adding to it.
 */
import { Worker } from 'node:worker_threads';
import type { MessageKey, Outcome } from '../core/types.js';
import type { StateStore, UnitCommit } from './state.js';
import { compiledWorkerScript } from '../util/worker-script.js';

/** One record of a unit, as enrichment needs it. */
export type EnrichRequest =
  /** A mapped event: skipped when its `_id` is already in the ledger, else placed in its message's history. */
  | { id: string; eventTime: string; sourceEventId: string; message: MessageKey; outcome: Outcome }
  /** A record that is not sent (e.g. OVO Scheduled) but still belongs in its message's history. */
  | { id?: undefined; sourceEventId: string; message: MessageKey; outcome: Outcome };

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
      if (r.id !== undefined && store.isSent(r.id, r.eventTime)) return { sent: true };
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
export type WorkerAnswer =
  | { seq: number; ok: true; results?: Int32Array }
  | { seq: number; ok: false; message: string; code?: string }
  | { seq: 0; ready: true };

/**
 * A store working on its own thread with its own connection to the state file. Requests are answered in order;
 * a failed request rejects with the SQLite error's message and code (so it is reported like one on this thread).
 * Falls back to the inline store for in-memory databases or when the worker script has not been built.
 */
export async function threadedUnitStore(statePath: string, store: StateStore): Promise<UnitStore> {
  const script = statePath === ':memory:' ? undefined : compiledWorkerScript(import.meta.url, 'unit-store-worker.js', 'store');
  if (!script) return inlineUnitStore(store);
  // The thread keeps almost nothing alive (prepared statements); a small young generation keeps its memory small.
  const worker = new Worker(script, { workerData: { statePath }, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
  const waiting = new Map<number, { resolve: (value: Int32Array | undefined) => void; reject: (error: Error) => void }>();
  let failure: Error | undefined;
  const failAll = (error: Error) => {
    failure ??= error;
    for (const w of waiting.values()) w.reject(error);
    waiting.clear();
  };
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('message', (m: WorkerAnswer) => ('ready' in m ? resolve() : reject(new Error('unit store worker: unexpected first message'))));
  });
  worker.on('message', (answer: WorkerAnswer) => {
    if ('ready' in answer) return;
    const w = waiting.get(answer.seq);
    if (!w) return;
    waiting.delete(answer.seq);
    if (waiting.size === 0) worker.unref(); // an idle worker does not keep the process alive
    if (answer.ok) w.resolve(answer.results);
    else w.reject(Object.assign(new Error(answer.message), answer.code ? { code: answer.code } : {}));
  });
  worker.on('error', (error: unknown) => failAll(error instanceof Error ? error : new Error(String(error))));
  worker.on('exit', (code) => failAll(new Error(`the state worker thread stopped (exit code ${code})`)));
  let seq = 0;
  const call = (request: WorkerOp): Promise<Int32Array | undefined> => {
    if (failure) return Promise.reject(failure);
    const message: WorkerRequest = { ...request, seq: ++seq };
    return new Promise((resolve, reject) => {
      waiting.set(message.seq, { resolve, reject });
      worker.ref(); // a request in flight keeps the process alive until it is answered
      worker.postMessage(message);
    });
  };
  return {
    enrich: async (source, requests) => decodeResults((await call({ op: 'enrich', source, requests }))!),
    commit: async (unit) => void (await call({ op: 'commit', unit: JSON.stringify(unit) })),
    close: async () => {
      if (!failure) await call({ op: 'close' }).catch(() => undefined);
      failure ??= new Error('the state worker thread was closed');
      await worker.terminate();
    },
  };
}
