/**
 * The state thread: its own connection to the state file, answering enrich and commit requests in order.
 * Group commit: the requests that arrived together share one SQLite transaction, committed before any of their
 * commits is confirmed — a unit is only ever reported written once it is durable, and a busy thread writes fewer,
 * larger transactions instead of falling further behind.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDb } from './db.js';
import { StateStore, type UnitCommit } from './state.js';
import { encodeResults, enrichUnit, type EnrichRequest, type WorkerAnswer, type WorkerRequest } from './unit-store.js';

const { statePath } = workerData as { statePath: string };
const port = parentPort!;
const store = new StateStore(openDb(statePath));

/** Commit confirmations waiting for the open transaction. */
let unconfirmed: number[] = [];
let flushScheduled = false;
let idleFlush: NodeJS.Timeout | undefined;
/** Longest an open transaction with only enrichment in it waits for a commit to share it. */
const ENRICH_FLUSH_MS = 20;
/** Once a transaction failed, every later request fails with the same error (the pipeline stops at the first). */
let broken: { message: string; code?: string } | undefined;

const fail = (seq: number, error: { message: string; code?: string }): WorkerAnswer => ({ seq, ok: false, ...error });

function describe(error: unknown): { message: string; code?: string } {
  const code = (error as { code?: unknown }).code;
  return { message: error instanceof Error ? error.message : String(error), ...(typeof code === 'string' ? { code } : {}) };
}

/** Commits the open transaction and confirms the commits it holds; on failure rolls back and fails them all. */
function flush(): void {
  flushScheduled = false;
  if (idleFlush) clearTimeout(idleFlush);
  idleFlush = undefined;
  const seqs = unconfirmed;
  unconfirmed = [];
  try {
    if (store.db.inTransaction) store.db.exec('COMMIT');
    for (const seq of seqs) port.postMessage({ seq, ok: true } satisfies WorkerAnswer);
  } catch (error) {
    broken = describe(error);
    if (store.db.inTransaction) store.db.exec('ROLLBACK');
    for (const seq of seqs) port.postMessage(fail(seq, broken));
  }
}

port.on('message', (request: WorkerRequest) => {
  if (broken) return port.postMessage(fail(request.seq, broken));
  if (request.op === 'close') {
    flush();
    store.db.close();
    return port.postMessage({ seq: request.seq, ok: true } satisfies WorkerAnswer);
  }
  try {
    if (!store.db.inTransaction) store.db.exec('BEGIN IMMEDIATE');
    if (request.op === 'enrich') {
      const results = encodeResults(enrichUnit(store, request.source, JSON.parse(request.requests) as EnrichRequest[]));
      port.postMessage({ seq: request.seq, ok: true, results } satisfies WorkerAnswer, [results.buffer as ArrayBuffer]);
    } else {
      store.commitUnit(JSON.parse(request.unit) as UnitCommit);
      unconfirmed.push(request.seq);
    }
  } catch (error) {
    // The unit's own savepoint was rolled back; the commits already in this transaction are still written by flush.
    port.postMessage(fail(request.seq, describe(error)));
    if (request.op === 'commit') broken = describe(error);
  }
  scheduleFlush();
});

/**
 * Commits that wait for confirmation are written once the messages that arrived together are handled (they share
 * the transaction). Enrichment alone needs no durability — its history rows are written again if a crash loses them,
 * as the records are read again — so it joins the next commit's transaction, which halves the transactions of a run;
 * a timer still ends the transaction soon when no commit follows, so other connections are not kept waiting.
 */
function scheduleFlush(): void {
  if (unconfirmed.length > 0) {
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flush);
    }
  } else {
    idleFlush ??= setTimeout(flush, ENRICH_FLUSH_MS);
  }
}
port.postMessage({ seq: 0, ready: true } satisfies WorkerAnswer);
