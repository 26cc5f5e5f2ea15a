/** Messages between the bench parent, the local AEP imitation child and the case children. */
import type { ChildProcess } from 'node:child_process';

/** What a case child needs to reach the imitation (as in the demo configuration). */
export interface AepEndpoints {
  imsTokenUrl: string;
  dcsUrl: string;
  dcsBatchUrl: string;
  platformUrl: string;
}

export type AepChildMessage =
  | { type: 'ready'; endpoints: AepEndpoints }
  | { type: 'usage'; id: number; cpuUserMs: number; cpuSystemMs: number; accepted: number; rejected: number; requests: number };

export type AepParentMessage = { type: 'usage'; id: number } | { type: 'close' };

/** Resolves with the first message of `child` that satisfies `match`; rejects if it exits first. */
export function nextMessage<T>(child: ChildProcess, match: (m: unknown) => m is T, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if (!match(m)) return;
      cleanup();
      resolve(m);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      cleanup();
      reject(new Error(`${what}: the child exited (${signal ?? `code ${code}`}) before answering`));
    };
    const cleanup = () => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}
