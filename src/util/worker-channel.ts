/**
 * Requests to a worker thread and their answers, matched by sequence number. The worker says `{ seq: 0, ready: true }`
 * once it is set up, then answers each request with `{ seq, ok: true, ... }` or `{ seq, ok: false, message, code? }`.
 * The worker keeps the process alive while it starts and while a request is in flight, not while it idles.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export type ChannelAnswer<R extends object> =
  | ({ seq: number; ok: true } & R)
  | { seq: number; ok: false; message: string; code?: string }
  | { seq: 0; ready: true };

export class WorkerChannel<Op extends object, R extends object> {
  /** Resolves once the worker is set up; rejects if it fails or stops first. */
  readonly ready: Promise<void>;
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (answer: R) => void; reject: (error: Error) => void }>();
  private seq = 0;
  private failure: Error | undefined;

  /** `name` names the thread in errors: "the <name> thread stopped (exit code 1)". */
  constructor(script: string, options: WorkerOptions, name: string) {
    const worker = (this.worker = new Worker(script, options));
    let up = false;
    this.ready = new Promise<void>((resolve, reject) => {
      const fail = (error: Error) => {
        this.failure ??= error;
        for (const w of this.waiting.values()) w.reject(this.failure);
        this.waiting.clear();
        if (!up) reject(error);
      };
      worker.on('message', (answer: ChannelAnswer<R>) => {
        if ('ready' in answer) {
          up = true;
          if (this.waiting.size === 0) worker.unref();
          return resolve();
        }
        const w = this.waiting.get(answer.seq);
        if (!w) return;
        this.waiting.delete(answer.seq);
        if (this.waiting.size === 0) worker.unref(); // an idle worker does not keep the process alive
        if (answer.ok) w.resolve(answer);
        else w.reject(Object.assign(new Error(answer.message), answer.code ? { code: answer.code } : {}));
      });
      worker.on('error', (error: unknown) => fail(error instanceof Error ? error : new Error(String(error))));
      worker.on('exit', (code) => fail(new Error(`the ${name} thread stopped (exit code ${code})`)));
    });
    this.ready.catch(() => undefined); // observed by whoever waits for it
  }

  /** Why the channel cannot take requests any more, if it cannot. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /** Sends one request; resolves with its answer, rejects with the worker's error or the channel's failure. */
  call(request: Op): Promise<R> {
    if (this.failure) return Promise.reject(this.failure);
    const message = { ...request, seq: ++this.seq };
    return new Promise<R>((resolve, reject) => {
      this.waiting.set(message.seq, { resolve, reject });
      this.worker.ref(); // a request in flight keeps the process alive until it is answered
      this.worker.postMessage(message);
    });
  }

  /** Stops the worker; later requests reject with `reason`. */
  async close(reason: Error): Promise<void> {
    this.failure ??= reason;
    await this.worker.terminate();
  }
}
