import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LOW_MEMORY_NODE_OPTIONS, lowMemoryRequested } from '../../src/util/heap-growth.js';

const MODULE = resolve(import.meta.dirname, '../../dist/src/util/heap-growth.js');

/**
 * A child that keeps a ring of ~16 MB of objects alive while churning through ~600 MB (so much of it is promoted,
 * like the units in flight of a run) and prints the largest old-generation size it saw.
 */
function peakOldSpaceMb(setup: string, execArgv: string[] = []): number {
  const script = `
    ${setup}
    const v8 = await import('node:v8');
    const ring = new Array(20000);
    let peak = 0;
    for (let i = 0; i < 600000; i++) {
      ring[i % ring.length] = { id: 'event-' + i, body: 'x'.repeat(800) + i, at: [i, i + 1] };
      if (i % 5000 === 0) {
        const old = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space').space_size;
        peak = Math.max(peak, old);
      }
    }
    console.log(Math.round(peak / 1e6));
  `;
  const child = spawnSync(process.execPath, [...execArgv, '--input-type=module', '-e', script], { encoding: 'utf8' });
  expect(child.status, child.stderr).toBe(0);
  return Number(child.stdout.trim());
}

describe('capHeapGrowth', () => {
  it('keeps the old generation of a promotion-heavy process much smaller than V8 lets it grow by default', () => {
    const capped = peakOldSpaceMb(`const { capHeapGrowth } = await import(${JSON.stringify(MODULE)}); capHeapGrowth();`);
    const uncapped = peakOldSpaceMb('');
    expect(capped).toBeGreaterThan(0);
    expect(capped).toBeLessThan(uncapped * 0.8);
  });

  it("leaves a process started with its own --heap-growing-percent alone", () => {
    // With the user's own (large) growth, calling capHeapGrowth must not pull the old generation down.
    const own = ['--heap-growing-percent=300'];
    const withOwn = peakOldSpaceMb(`const { capHeapGrowth } = await import(${JSON.stringify(MODULE)}); capHeapGrowth();`, own);
    const capped = peakOldSpaceMb(`const { capHeapGrowth } = await import(${JSON.stringify(MODULE)}); capHeapGrowth();`);
    expect(withOwn).toBeGreaterThan(capped * 1.25);
  });
});

describe('lowMemoryRequested', () => {
  it('recognises the documented low-memory setting in the arguments or NODE_OPTIONS, and nothing larger', () => {
    expect(lowMemoryRequested([...LOW_MEMORY_NODE_OPTIONS], '')).toBe(true);
    expect(lowMemoryRequested([], '--max-semi-space-size=4')).toBe(true);
    expect(lowMemoryRequested([], '--enable-source-maps --max_semi_space_size=8')).toBe(true);
    expect(lowMemoryRequested(['--max-semi-space-size', '2'], '')).toBe(true);
    expect(lowMemoryRequested([], '--max-semi-space-size=16')).toBe(false);
    expect(lowMemoryRequested(['--max-old-space-size=4'], '')).toBe(false);
    expect(lowMemoryRequested([], '')).toBe(false);
  });
});
