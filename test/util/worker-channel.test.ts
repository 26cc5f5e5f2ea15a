import { describe, expect, it } from 'vitest';
import { WorkerChannel } from '../../src/util/worker-channel.js';

/** A worker (eval'd) that is ready after `delayMs`, echoes `{ n }` doubled, and fails on `{ n: -1 }`. */
const echo = (delayMs: number) => `
  import('node:worker_threads').then(({ parentPort }) => setTimeout(() => {
    parentPort.on('message', (m) => {
      if (m.n === -1) parentPort.postMessage({ seq: m.seq, ok: false, message: 'no negatives', code: 'E_NEG' });
      else if (m.n === -2) process.exit(3);
      else parentPort.postMessage({ seq: m.seq, ok: true, doubled: m.n * 2 });
    });
    parentPort.postMessage({ seq: 0, ready: true });
  }, ${delayMs}));
`;

describe('WorkerChannel', () => {
  it('matches answers to requests, carries error codes, and fails every later request once the worker stops', async () => {
    const channel = new WorkerChannel<{ n: number }, { doubled: number }>(echo(0), { eval: true }, 'echo');
    await channel.ready;
    const answers = await Promise.all([1, 2, 3].map((n) => channel.call({ n })));
    expect(answers.map((a) => a.doubled)).toEqual([2, 4, 6]);
    await expect(channel.call({ n: -1 })).rejects.toMatchObject({ message: 'no negatives', code: 'E_NEG' });
    await expect(channel.call({ n: -2 })).rejects.toThrow('the echo thread stopped (exit code 3)');
    await expect(channel.call({ n: 4 })).rejects.toThrow('the echo thread stopped (exit code 3)');
    expect(channel.failed?.message).toBe('the echo thread stopped (exit code 3)');
  });

  it('rejects `ready` when the worker stops before it is set up', async () => {
    const channel = new WorkerChannel<{ n: number }, object>('process.exit(5)', { eval: true }, 'short-lived');
    await expect(channel.ready).rejects.toThrow('the short-lived thread stopped (exit code 5)');
  });
});
