import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { currentProcess, isRunning } from '../../src/util/process-identity.js';

describe('process identity', () => {
  it('recognises this process and a running child, not a finished one', async () => {
    expect(isRunning(currentProcess())).toBe(true);
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      const { start } = currentProcess(); // same format as any process's
      const childId = { pid: child.pid!, host: hostname() };
      expect(isRunning(childId)).toBe(true);
      // Another host's process is never "running here".
      expect(isRunning({ ...childId, host: `${hostname()}-elsewhere` })).toBe(false);
      if (start !== undefined) expect(start).toMatch(/^\d+$/);
    } finally {
      child.kill();
      await new Promise((resolve) => child.once('exit', resolve));
    }
    expect(isRunning({ pid: child.pid!, host: hostname() })).toBe(false);
  });

  it.runIf(process.platform === 'linux')('does not take a reused PID for the process that owned it (start time differs)', () => {
    const me = currentProcess();
    expect(me.start).toBeDefined();
    // This PID is alive, but recorded with another start time: it is another process now.
    expect(isRunning({ ...me, start: String(Number(me.start) + 1) })).toBe(false);
    expect(isRunning(me)).toBe(true);
  });
});
