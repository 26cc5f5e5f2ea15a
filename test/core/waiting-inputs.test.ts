import { describe, expect, it } from 'vitest';
import { waitingInputs } from '../../src/core/waiting-inputs.js';
import { tempDir } from '../helpers/temp.js';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const position = { stream: '/data/feed.ndjson', offset: '{"offset":120,"line":3}' };

describe('waitingInputs', () => {
  it('keeps inputs for late verdicts on disk: one number per event in memory, the text back intact, the folder gone at close', () => {
    const dir = tempDir('xdmf-waiting-');
    const inputs = waitingInputs(dir);
    const raws = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ id: i, note: 'é ✉ '.repeat(i % 7) }));
    const kept = raws.map((raw) => inputs.keep(raw, position));
    expect(kept.every((k) => typeof k === 'number')).toBe(true);
    expect(inputs.read(kept[777]!)).toEqual({ raw: raws[777], position });
    for (const k of kept) inputs.release(k);
    inputs.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("removes the spill folders of runs that no longer run, and leaves a running process's alone", async () => {
    const dir = tempDir('xdmf-waiting-orphans-');
    const { spawn } = await import('node:child_process');
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => dead.once('exit', resolve));
    const alive = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      mkdirSync(join(dir, `waiting-inputs-${dead.pid}-x-abc`));
      mkdirSync(join(dir, `waiting-inputs-${alive.pid}-x-def`));
      mkdirSync(join(dir, 'g-0001')); // a staged batch group: not ours
      const inputs = waitingInputs(dir);
      const during = readdirSync(dir);
      expect(during).toHaveLength(3);
      expect(during).toEqual(expect.arrayContaining(['g-0001', `waiting-inputs-${alive.pid}-x-def`, expect.stringMatching(new RegExp(`^waiting-inputs-${process.pid}-`))]));
      inputs.close();
      expect(readdirSync(dir).sort()).toEqual(['g-0001', `waiting-inputs-${alive.pid}-x-def`]);
    } finally {
      alive.kill();
    }
  });

  it('says which folder it cannot write, as a fatal error', () => {
    const file = join(tempDir('xdmf-waiting-file-'), 'not-a-folder');
    writeFileSync(file, '');
    expect(() => waitingInputs(join(file, 'staging'))).toThrow(/cannot keep the raw input of events waiting for their verdict in .*not-a-folder\/staging: .*sink\.stagingDir/);
  });

  it('keeps inputs for prompt verdicts in the heap, writing nothing', () => {
    const inputs = waitingInputs(undefined);
    const kept = inputs.keep('{"a":1}', position);
    expect(kept).toEqual({ raw: '{"a":1}', position });
    expect(inputs.read(kept)).toEqual({ raw: '{"a":1}', position });
  });
});
