/**
 * Summarises a V8 CPU profile (`node --cpu-prof`, or `npm run bench -- --profile DIR`): self time by function and by
 * file, the heaviest first. Usage: `node dist/bench/profile-summary.js FILE.cpuprofile [TOP]`.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Self time in ms per function and per file. */
export function summarise(profile: Profile): { totalMs: number; byFunction: Array<[string, number]>; byFile: Array<[string, number]> } {
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    // A sample's time is the delta to the next sample.
    const dt = deltas[i + 1] ?? 0;
    selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + dt);
  }
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  const cwd = process.cwd();
  for (const node of profile.nodes) {
    const us = selfUs.get(node.id) ?? 0;
    if (us === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url ? relative(cwd, url.replace(/^file:\/\//, '')) : '(native)';
    const fn = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us / 1000);
    byFile.set(file, (byFile.get(file) ?? 0) + us / 1000);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return { totalMs: (profile.endTime - profile.startTime) / 1000, byFunction: sorted(byFunction), byFile: sorted(byFile) };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) {
  const [file, topArg] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node dist/bench/profile-summary.js FILE.cpuprofile [TOP]\n');
    process.exit(2);
  }
  const top = Number(topArg ?? 40);
  const { totalMs, byFunction, byFile } = summarise(JSON.parse(readFileSync(file, 'utf8')) as Profile);
  const pct = (ms: number) => `${((ms / totalMs) * 100).toFixed(1).padStart(5)} %`;
  process.stdout.write(`profile of ${totalMs.toFixed(0)} ms\n\nself time by file:\n`);
  for (const [f, ms] of byFile.slice(0, top)) process.stdout.write(`${pct(ms)} ${ms.toFixed(0).padStart(7)} ms  ${f}\n`);
  process.stdout.write('\nself time by function:\n');
  for (const [f, ms] of byFunction.slice(0, top)) process.stdout.write(`${pct(ms)} ${ms.toFixed(0).padStart(7)} ms  ${f}\n`);
}
