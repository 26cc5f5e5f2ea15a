/** The state worker thread: its own connection to the state file, answering enrich and commit requests in order. */
import { parentPort, workerData } from 'node:worker_threads';
import { openDb } from './db.js';
import { StateStore } from './state.js';
import { enrichUnit, type WorkerAnswer, type WorkerRequest } from './unit-store.js';

const { statePath } = workerData as { statePath: string };
const port = parentPort!;
const store = new StateStore(openDb(statePath));

port.on('message', (request: WorkerRequest) => {
  let answer: WorkerAnswer;
  try {
    if (request.op === 'enrich') answer = { seq: request.seq, ok: true, results: enrichUnit(store, request.source, request.requests) };
    else {
      if (request.op === 'commit') store.commitUnit(request.unit);
      else store.db.close();
      answer = { seq: request.seq, ok: true };
    }
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    answer = { seq: request.seq, ok: false, message: error instanceof Error ? error.message : String(error), ...(typeof code === 'string' ? { code } : {}) };
  }
  port.postMessage(answer);
});
port.postMessage({ seq: 0, ready: true } satisfies WorkerAnswer);
