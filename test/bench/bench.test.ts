import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { builtPath } from '../helpers/built.js';
import { tempDir } from '../helpers/temp.js';

const run = promisify(execFile);

describe('npm run bench', () => {
  it('runs every case on 2,000 records and prints one well-formed JSON line per case and a summary', async () => {
    const results = tempDir('xdmf-bench-test-');
    const { stdout } = await run(
      process.execPath,
      [builtPath('bench/run.js'), '--records', '2000', '--naive-records', '200', '--memory-records', '500', '--seed', '7', '--results', results],
      { timeout: 60_000, maxBuffer: 10 * 1024 * 1024 },
    );
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    const byCase = new Map(lines.map((l) => [l.case as string, l]));
    for (const name of ['stages', 'xdm-feedback-file', 'floor', 'naive', 'xdm-feedback', 'xdm-feedback-lean', 'memory']) {
      const line = byCase.get(name);
      expect(line, name).toBeDefined();
      for (const key of ['records', 'events', 'seconds', 'recordsPerSec', 'eventsPerSec', 'mbPerSec', 'peakRssMb']) {
        expect(typeof line![key], `${name}.${key}`).toBe('number');
      }
      expect(line!.peakRssMb, name).toBeGreaterThan(0);
      expect(line!.machine.cores).toBeGreaterThan(0);
      expect(line!.machine.node).toBe(process.version);
      expect(line!.seed).toBe(7);
    }
    expect(byCase.get('xdm-feedback')!.records).toBe(2000);
    expect(byCase.get('naive')!.records).toBe(200);
    expect(byCase.get('memory')!.records).toBe(500);
    // Every event the connector sent reached the imitation, and the floor posted the same envelopes.
    const xdm = byCase.get('xdm-feedback')!;
    expect(xdm.events).toBeGreaterThan(0);
    expect(xdm.imitation.accepted).toBe(xdm.events);
    expect(byCase.get('floor')!.events).toBe(xdm.events);
    expect(xdm.details.deadLettered).toBe(0);
    expect(xdm.nodeOptions).toBeUndefined();
    expect(byCase.get('xdm-feedback-lean')!.nodeOptions).toEqual(['--max-semi-space-size=2']);
    expect(byCase.get('xdm-feedback-lean')!.events).toBe(xdm.events);
    expect(Object.keys(xdm.stages)).toEqual(['read', 'prepare', 'finish', 'send', 'http', 'commit', 'other', 'decode', 'map', 'validate', 'serialise']);
    // Preparation (on the main thread in a run this small) reported its stage times.
    expect(xdm.stages.map.ms).toBeGreaterThan(0);
    expect(Object.keys(byCase.get('stages')!.rates)).toEqual(['decode', 'map', 'enrich', 'validate', 'serialise', 'commit']);
    const summary = byCase.get('summary')!;
    expect(typeof summary.vsFloor).toBe('number');
    expect(typeof summary.vsNaive).toBe('number');
    expect(Object.keys(summary.targets)).toEqual(expect.arrayContaining(['vsFloor', 'vsNaive', 'eventsPerSec', 'peakRssMb', 'peakRssMbLean', 'rssGrowth', 'validatePerSec']));

    const files = readdirSync(results);
    expect(files.filter((f) => f.endsWith('.jsonl'))).toHaveLength(1);
    expect(existsSync(join(results, 'latest.md'))).toBe(true);
    expect(readFileSync(join(results, 'latest.md'), 'utf8')).toContain('| xdm-feedback |');
  });

  it('with --repeat, runs the cases in rounds and reports the median run of each, with the range', async () => {
    const results = tempDir('xdmf-bench-repeat-');
    const { stdout, stderr } = await run(
      process.execPath,
      [builtPath('bench/run.js'), '--records', '1500', '--only', 'floor,xdm-feedback', '--repeat', '3', '--seed', '3', '--results', results],
      { timeout: 60_000, maxBuffer: 10 * 1024 * 1024 },
    );
    expect(stderr).toContain('round 3 of 3');
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    const byCase = new Map(lines.map((l) => [l.case as string, l]));
    for (const name of ['floor', 'xdm-feedback']) {
      const line = byCase.get(name)!;
      expect(line.runs.count, name).toBe(3);
      const sorted = [...(line.runs.eventsPerSec as number[])].sort((a, b) => a - b);
      expect(line.eventsPerSec, name).toBe(sorted[1]);
      expect([line.runs.min, line.runs.max]).toEqual([sorted[0], sorted[2]]);
    }
    // Every round's floor posted exactly the envelopes of that round's connector run (no file carried over).
    expect(byCase.get('floor')!.events).toBe(byCase.get('xdm-feedback')!.events);
    expect(byCase.get('summary')!.vsFloor).toBeCloseTo(byCase.get('xdm-feedback')!.eventsPerSec / byCase.get('floor')!.eventsPerSec, 2);
    expect(readFileSync(join(results, 'latest.md'), 'utf8')).toMatch(/\| xdm-feedback \|.*\(3 runs\)/);
  });

  it('produces the same inputs for the same seed', async () => {
    const { generateInputs } = await import('../../bench/generate.js');
    const a = generateInputs(join(tempDir('xdmf-gen-a-'), 'in'), 3000, 11);
    const b = generateInputs(join(tempDir('xdmf-gen-b-'), 'in'), 3000, 11);
    const c = generateInputs(join(tempDir('xdmf-gen-c-'), 'in'), 3000, 12);
    expect(a.map((i) => i.records)).toEqual([1050, 900, 450, 600]);
    for (let i = 0; i < a.length; i++) {
      expect(readFileSync(a[i]!.path)).toEqual(readFileSync(b[i]!.path));
      expect(readFileSync(a[i]!.path).equals(readFileSync(c[i]!.path))).toBe(false);
    }
  });

  it('writes each feed in time order, as a topic or a time-paged API delivers it', async () => {
    const { generateInputs } = await import('../../bench/generate.js');
    const inputs = generateInputs(join(tempDir('xdmf-gen-order-'), 'in'), 20_000, 5);
    const timesOf = (source: string, time: (record: any) => string | number) => {
      const text = readFileSync(inputs.find((i) => i.source === source)!.path, 'utf8');
      const lines = text.split('\n').filter((l) => l.startsWith('{')).map((l) => l.replace(/,$/, ''));
      return lines.map((l) => {
        const t = time(JSON.parse(l));
        return typeof t === 'number' ? t : Date.parse(t);
      });
    };
    for (const [source, time] of [
      ['ovo-feedback', (r: any) => r.metadata.createdAt],
      ['ovo-v2', (r: any) => r.metadata.createdAt],
      ['masstack', (r: any) => r.statusTime],
    ] as const) {
      const times = timesOf(source, time);
      expect(times.length, source).toBeGreaterThan(1000);
      expect(times.every((t, i) => i === 0 || t >= times[i - 1]!), `${source} in time order`).toBe(true);
    }
  });

  it('refuses unknown flags and cases with a readable message', async () => {
    const { parseArgs } = await import('../../bench/args.js');
    expect(() => parseArgs(['--only', 'floor,warp'], 'r')).toThrow(/unknown case warp/);
    expect(() => parseArgs(['--records', '0'], 'r')).toThrow(/--records 0: give a whole number ≥ 1/);
    expect(() => parseArgs(['--fast'], 'r')).toThrow(/unknown flag --fast/);
    expect(() => parseArgs(['--repeat', '0'], 'r')).toThrow(/--repeat 0: give a whole number ≥ 1/);
    expect(parseArgs([], 'r').repeat).toBe(1);
    expect(parseArgs(['--records=5000', '--only', 'floor'], 'r')).toMatchObject({ records: 5000, only: ['floor'], naiveRecords: 5000, memoryRecords: 500 });
  });
});

describe('the memory probe', () => {
  it("prints, at exit, the breakdown of the process's highest RSS", async () => {
    const { stderr } = await run(process.execPath, ['--import', builtPath('bench/memory-probe.js'), '-e', 'const keep = Buffer.alloc(30e6, 1); setTimeout(() => keep.length, 300);']);
    const line = /memory-probe pid \d+ \([^)]*\): (\{.*\})/.exec(stderr);
    expect(line, stderr).not.toBeNull();
    const peak = JSON.parse(line![1]!) as { rssMb: number; heapTotalMb: number; arrayBuffersMb: number };
    expect(peak.rssMb).toBeGreaterThan(30);
    expect(peak.arrayBuffersMb).toBeGreaterThanOrEqual(29);
    expect(peak.heapTotalMb).toBeGreaterThan(0);
  });
});
