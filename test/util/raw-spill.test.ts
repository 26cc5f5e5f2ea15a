// The raw-input spill: what goes in comes back byte for byte (buffered, written, rotated, huge, any script), segments
// go away once released, nothing is left on disk, and the heap holds a number per event instead of its text.
import { existsSync, readdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import type { Position } from '../../src/core/types.js';
import { RawSpill, type SpillRef } from '../../src/util/raw-spill.js';
import { tempDir } from '../helpers/temp.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const root = tempDir('xdmf-raw-spill-');
const spills: RawSpill[] = [];
afterEach(() => {
  for (const s of spills.splice(0)) s.close();
});
const open = (options: ConstructorParameters<typeof RawSpill>[0] = {}) => {
  const spill = new RawSpill({ dir: root, ...options });
  spills.push(spill);
  return spill;
};

const position = (i: number, stream = '/data/in.ndjson'): Position => ({ stream, offset: `{"fingerprint":{"head":"abc","size":9},"offset":${i * 100},"line":${i}}` });
const raw = (i: number) => `{"commId":"c-${i}","status":"Failed","reason":"${'r'.repeat(i % 50)}","name":"Zoë ✉ 名前 ${i} 😀"}`;

describe('RawSpill', () => {
  it('gives back every entry as it was put, whether still buffered, written, or in an older segment', () => {
    const spill = open({ segmentBytes: 20_000, bufferBytes: 4096 });
    const refs: SpillRef[] = [];
    for (let i = 0; i < 2000; i++) refs.push(spill.put(raw(i), position(i, `/data/file-${i % 3}.ndjson`)));
    expect(spill.stats().segments).toBeGreaterThan(5);
    for (const i of [0, 1, 777, 1500, 1998, 1999]) expect(spill.get(refs[i]!)).toEqual({ raw: raw(i), position: position(i, `/data/file-${i % 3}.ndjson`) });
    refs.forEach((ref, i) => expect(spill.get(ref).raw).toBe(raw(i)));
    expect(spill.stats().live).toBe(2000);
  });

  it('stores an entry larger than its buffer, and empty texts', () => {
    const spill = open({ bufferBytes: 1024 });
    const big = 'é'.repeat(300_000);
    const a = spill.put('small', position(1));
    const b = spill.put(big, position(2));
    const c = spill.put('', { stream: '', offset: '' });
    expect(spill.get(b)).toEqual({ raw: big, position: position(2) });
    expect(spill.get(a).raw).toBe('small');
    expect(spill.get(c)).toEqual({ raw: '', position: { stream: '', offset: '' } });
  });

  it('closes a segment once all its entries are released, and refuses to read them afterwards', () => {
    const spill = open({ segmentBytes: 10_000, bufferBytes: 2048 });
    const refs = Array.from({ length: 600 }, (_, i) => spill.put(raw(i), position(i)));
    const before = spill.stats();
    expect(before.segments).toBeGreaterThan(3);
    // Released in commit order (oldest first), as the pipeline would: old segments go one by one.
    for (const ref of refs.slice(0, 300)) spill.release(ref);
    const middle = spill.stats();
    expect(middle.live).toBe(300);
    expect(middle.segments).toBeLessThan(before.segments);
    expect(() => spill.get(refs[0]!)).toThrow(/raw spill: no entry/);
    expect(spill.get(refs[450]!).raw).toBe(raw(450));
    for (const ref of refs.slice(300)) spill.release(ref);
    expect(spill.stats()).toEqual({ live: 0, segments: 1, bytes: 0 });
    // It keeps working after being emptied.
    const again = spill.put('after', position(9));
    expect(spill.get(again).raw).toBe('after');
  });

  it('leaves no file behind: segments are unlinked while open, and close removes its folder', () => {
    const dir = tempDir('xdmf-raw-spill-own-');
    const spill = new RawSpill({ dir, segmentBytes: 5000 });
    for (let i = 0; i < 300; i++) spill.put(raw(i), position(i));
    const [folder] = readdirSync(dir);
    expect(folder).toMatch(/^xdmf-spill-/);
    if (process.platform !== 'win32') expect(readdirSync(`${dir}/${folder}`)).toEqual([]);
    spill.close();
    expect(existsSync(`${dir}/${folder}`)).toBe(false);
    expect(() => spill.put('x', position(1))).toThrow(/after close/);
  });

  it('keeps the heap flat: 50,000 pending events cost their refs, not their texts', () => {
    const spill = open();
    const n = 50_000;
    const measure = (hold: () => unknown[]) => {
      gc();
      const before = process.memoryUsage().heapUsed;
      const kept = hold();
      gc();
      const grown = process.memoryUsage().heapUsed - before;
      expect(kept).toHaveLength(n);
      return grown;
    };
    // Fresh strings as a source produces them (not one shared constant), about 600 bytes each.
    const text = (i: number) => `${raw(i)}${'x'.repeat(500)}${i}`;
    const inHeap = measure(() => Array.from({ length: n }, (_, i) => ({ raw: text(i), position: position(i) })));
    const spilled = measure(() => Array.from({ length: n }, (_, i) => spill.put(text(i), position(i))));
    expect(inHeap).toBeGreaterThan(25_000_000);
    expect(spilled).toBeLessThan(inHeap / 10);
    expect(spill.get(spill.put(text(7), position(7))).raw).toBe(text(7));
  });
});
