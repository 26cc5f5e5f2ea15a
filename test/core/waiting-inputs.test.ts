import { describe, expect, it } from 'vitest';
import { waitingInputs } from '../../src/core/waiting-inputs.js';
import { tempDir } from '../helpers/temp.js';
import { readdirSync } from 'node:fs';

const position = { stream: '/data/feed.ndjson', offset: '{"offset":120,"line":3}' };

describe('waitingInputs', () => {
  it('keeps inputs for late verdicts on disk: one number per event in memory, the text back intact, the folder gone at close', () => {
    const dir = tempDir('xdmf-waiting-');
    const inputs = waitingInputs(true, dir);
    const raws = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ id: i, note: 'é ✉ '.repeat(i % 7) }));
    const kept = raws.map((raw) => inputs.keep(raw, position));
    expect(kept.every((k) => typeof k === 'number')).toBe(true);
    expect(inputs.read(kept[777]!)).toEqual({ raw: raws[777], position });
    for (const k of kept) inputs.release(k);
    inputs.close();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps inputs for prompt verdicts in the heap, writing nothing', () => {
    const inputs = waitingInputs(false);
    const kept = inputs.keep('{"a":1}', position);
    expect(kept).toEqual({ raw: '{"a":1}', position });
    expect(inputs.read(kept)).toEqual({ raw: '{"a":1}', position });
  });
});
