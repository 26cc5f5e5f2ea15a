/** The state worker thread: its own connection to the state file, answering enrich and commit requests in order. */
import { parentPort, workerData } from 'node:worker_threads';
import { openDb } from './db.js';
import { StateStore } from './state.js';
import { encodeResults, enrichUnit, type EnrichRequest, type WorkerAnswer, type WorkerRequest } from './unit-store.js';
import type { UnitCommit } from './state.js';

const { statePath } = workerData as { statePath: string };
const port = parentPort!;
const store = new StateStore(openDb(statePath));

port.on('message', (request: WorkerRequest) => {
  let answer: WorkerAnswer;
  try {
    if (request.op === 'enrich') {
      const results = encodeResults(enrichUnit(store, request.source, JSON.parse(request.requests) as EnrichRequest[]));
      answer = { seq: request.seq, ok: true, results };
    } else {
      if (request.op === 'commit') store.commitUnit(JSON.parse(request.unit) as UnitCommit);
      else store.db.close();
      answer = { seq: request.seq, ok: true };
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    answer = { seq: request.seq, ok: false, message: error instanceof Error ? error.message : String(error), ...(typeof code === 'string' ? { code } : {}) };
  }
  port.postMessage(answer, 'results' in answer && answer.results ? [answer.results.buffer as ArrayBuffer] : []);
});
port.postMessage({ seq: 0, ready: true } satisfies WorkerAnswer);
