/** Turns case results into the bench's JSON lines (rates, ratios, stage shares, targets) and the Markdown table. */
import type { CaseResult } from './case-types.js';
import type { Machine } from './machine.js';
import { LOW_MEMORY_NODE_OPTIONS } from '../src/util/heap-growth.js';

/** A case result with what the parent measured around it. */
export interface CaseRun {
  name: string;
  result: CaseResult;
  /** CPU seconds the imitation process spent during the case. */
  imitationCpuSeconds?: number;
  /** Events the imitation accepted during the case. */
  imitationAccepted?: number;
  note?: string;
  /** With `--repeat`: events/s of every run of the case, in run order (this entry is the median one). */
  eventsPerSecRuns?: number[];
}

/**
 * The run of each case with the median events/s (the lower middle one for an even count), keeping the events/s of
 * every run. Runs of one case keep their whole result, so the figures of one line all come from the same run.
 */
export function medianRuns(runs: readonly CaseRun[]): CaseRun[] {
  const byName = new Map<string, CaseRun[]>();
  for (const run of runs) byName.set(run.name, [...(byName.get(run.name) ?? []), run]);
  return [...byName.values()].map((same) => {
    if (same.length === 1) return same[0]!;
    const rate = (run: CaseRun) => run.result.events / run.result.seconds;
    const sorted = [...same].sort((a, b) => rate(a) - rate(b));
    return { ...sorted[Math.floor((sorted.length - 1) / 2)]!, eventsPerSecRuns: same.map((run) => round(rate(run))) };
  });
}

/** One JSON line of the output. */
export type Line = Record<string, unknown> & { case: string };

const round = (n: number, digits = 0) => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

/** The targets of the performance issue. */
export const TARGETS = {
  vsFloor: 0.5,
  vsNaive: 30,
  eventsPerSecond: 50_000,
  validatePerSecond: 300_000,
  peakRssMb: 200,
  rssGrowth: 0.2,
} as const;

/** The run loop's stages (main thread; they add up to the wall time with `other`), then the preparation stages. */
const LOOP_STAGES = ['read', 'prepare', 'finish', 'send', 'http', 'commit', 'other'] as const;
const PREPARATION_STAGES = ['decode', 'map', 'validate', 'serialise'] as const;

function stageShares(stages: Record<string, number>, seconds: number): Record<string, unknown> {
  const wallMs = seconds * 1000;
  const loop: Record<string, number> = {
    read: stages.read ?? 0,
    prepare: stages.prepare ?? 0,
    finish: stages.finish ?? 0,
    send: stages.send ?? 0,
    http: stages.wait ?? 0,
    commit: stages.commit ?? 0,
  };
  loop.other = Math.max(0, wallMs - Object.values(loop).reduce((a, b) => a + b, 0));
  const out: Record<string, unknown> = {};
  for (const [k, ms] of Object.entries(loop)) out[k] = { ms: round(ms), share: round(ms / wallMs, 3) };
  for (const k of PREPARATION_STAGES) out[k] = { ms: round(stages[k] ?? 0), share: round((stages[k] ?? 0) / wallMs, 3) };
  return out;
}

/** Builds the JSON lines: one per case, then a summary line with the ratios and the targets. */
export function buildLines(runs: readonly CaseRun[], context: { machine: Machine; seed: number; date: string; aepValidation: boolean }): Line[] {
  const common = { machine: context.machine, seed: context.seed, date: context.date, aepValidation: context.aepValidation };
  const lines: Line[] = [];
  const byName = new Map(runs.map((r) => [r.name, r]));
  for (const run of runs) {
    const r = run.result;
    const line: Line = {
      case: run.name,
      records: r.records,
      events: r.events,
      seconds: round(r.seconds, 3),
      recordsPerSec: round(r.records / r.seconds),
      eventsPerSec: round(r.events / r.seconds),
      mbPerSec: round(r.bytes / 2 ** 20 / r.seconds, 2),
      inputMb: round(r.bytes / 2 ** 20, 1),
      peakRssMb: round(r.peakRssMb, 1),
      cpuSeconds: round(r.cpuSeconds, 2),
    };
    if (run.imitationCpuSeconds !== undefined) {
      line.imitation = { cpuSeconds: round(run.imitationCpuSeconds, 2), cpuShareOfWall: round(run.imitationCpuSeconds / r.seconds, 2), accepted: run.imitationAccepted };
    }
    if (r.stages) line.stages = stageShares(r.stages, r.seconds);
    if (r.rates) line.rates = Object.fromEntries(Object.entries(r.rates).map(([k, v]) => [k, { records: v.records, seconds: round(v.seconds, 3), perSecond: round(v.perSecond) }]));
    if (r.details) line.details = r.details;
    if (r.nodeOptions.length > 0) line.nodeOptions = r.nodeOptions;
    if (run.note) line.note = run.note;
    if (run.eventsPerSecRuns) {
      const rates = run.eventsPerSecRuns;
      line.runs = { count: rates.length, eventsPerSec: rates, min: Math.min(...rates), max: Math.max(...rates) };
    }
    lines.push({ ...line, ...common });
  }

  const floor = byName.get('floor')?.result;
  const naive = byName.get('naive')?.result;
  const xdm = byName.get('xdm-feedback')?.result;
  const small = byName.get('memory')?.result;
  const lean = byName.get('xdm-feedback-lean')?.result;
  const stages = byName.get('stages')?.result;
  const summary: Line = { case: 'summary' };
  const checks: Record<string, { value: number; target: string; met: boolean }> = {};
  if (xdm && floor) {
    const v = xdm.events / xdm.seconds / (floor.events / floor.seconds);
    summary.vsFloor = round(v, 3);
    checks.vsFloor = { value: round(v, 3), target: `≥ ${TARGETS.vsFloor}× floor events/s`, met: v >= TARGETS.vsFloor };
  }
  if (xdm && naive) {
    const v = xdm.records / xdm.seconds / (naive.records / naive.seconds);
    summary.vsNaive = round(v, 1);
    checks.vsNaive = { value: round(v, 1), target: `≥ ${TARGETS.vsNaive}× naive records/s`, met: v >= TARGETS.vsNaive };
  }
  if (xdm) {
    const v = xdm.events / xdm.seconds;
    checks.eventsPerSec = { value: round(v), target: `≥ ${TARGETS.eventsPerSecond} events/s end to end`, met: v >= TARGETS.eventsPerSecond };
    checks.peakRssMb = { value: round(xdm.peakRssMb, 1), target: `< ${TARGETS.peakRssMb} MB`, met: xdm.peakRssMb < TARGETS.peakRssMb };
  }
  if (lean) {
    checks.peakRssMbLean = {
      value: round(lean.peakRssMb, 1),
      target: `< ${TARGETS.peakRssMb} MB with NODE_OPTIONS=${LOW_MEMORY_NODE_OPTIONS.join(' ')} (at ${round(lean.events / lean.seconds)} events/s)`,
      met: lean.peakRssMb < TARGETS.peakRssMb,
    };
  }
  if (xdm && small) {
    const growth = xdm.peakRssMb / small.peakRssMb - 1;
    checks.rssGrowth = {
      value: round(growth, 3),
      target: `< ${TARGETS.rssGrowth * 100} % from ${small.records} to ${xdm.records} records`,
      met: growth < TARGETS.rssGrowth,
    };
  }
  const validate = stages?.rates?.validate;
  if (validate) {
    checks.validatePerSec = { value: round(validate.perSecond), target: `≥ ${TARGETS.validatePerSecond} events/s on one core`, met: validate.perSecond >= TARGETS.validatePerSecond };
  }
  summary.targets = checks;
  lines.push({ ...summary, ...common });
  return lines;
}

const fmt = (n: unknown) => (typeof n === 'number' ? n.toLocaleString('en-GB') : n === undefined ? '' : String(n));

/** The Markdown page of one bench run: the cases table, the targets, the stage breakdown. */
export function markdown(lines: readonly Line[]): string {
  const cases = lines.filter((l) => l.case !== 'summary');
  const summary = lines.find((l) => l.case === 'summary');
  const m = (cases[0]?.machine ?? summary?.machine) as { cpu: string; cores: number; memoryGb: number; node: string } | undefined;
  const out: string[] = [];
  out.push(`# xdm-feedback bench — ${String(summary?.date ?? '')}`, '');
  if (m) out.push(`Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB, Node ${m.node}. Seed ${String(summary?.seed)}. Imitation validates events: ${summary?.aepValidation ? 'yes' : 'no'}.`, '');
  const repeated = cases.some((l) => l.runs);
  if (repeated) out.push('Each case ran several times in alternating rounds; its line is the run with the median events/s.', '');
  out.push(`| case | records | events | seconds | records/s | events/s |${repeated ? ' events/s over the runs |' : ''} MB/s | peak RSS MB | CPU s | imitation CPU s |`);
  out.push(`|---|---:|---:|---:|---:|---:|${repeated ? '---:|' : ''}---:|---:|---:|---:|`);
  for (const l of cases) {
    const im = l.imitation as { cpuSeconds?: number } | undefined;
    const runs = l.runs as { count: number; min: number; max: number } | undefined;
    const range = repeated ? ` ${runs ? `${fmt(runs.min)}–${fmt(runs.max)} (${runs.count} runs)` : ''} |` : '';
    out.push(
      `| ${l.case} | ${fmt(l.records)} | ${fmt(l.events)} | ${fmt(l.seconds)} | ${fmt(l.recordsPerSec)} | ${fmt(l.eventsPerSec)} |${range} ${fmt(l.mbPerSec)} | ${fmt(l.peakRssMb)} | ${fmt(l.cpuSeconds)} | ${fmt(im?.cpuSeconds)} |`,
    );
  }
  const notes = cases.filter((l) => l.note);
  if (notes.length) out.push('', ...notes.map((l) => `* ${l.case}: ${String(l.note)}`));
  const targets = summary?.targets as Record<string, { value: number; target: string; met: boolean }> | undefined;
  if (targets && Object.keys(targets).length) {
    out.push('', '| target | reached | goal | met |', '|---|---:|---|---|');
    for (const [k, t] of Object.entries(targets)) out.push(`| ${k} | ${fmt(t.value)} | ${t.target} | ${t.met ? 'yes' : 'no'} |`);
  }
  const withStages = cases.filter((l) => l.stages);
  if (withStages.length) {
    const table = (title: string, names: readonly string[]) => {
      out.push('', title, '');
      out.push(`| case | ${names.join(' | ')} |`, `|---|${names.map(() => '---:').join('|')}|`);
      for (const l of withStages) {
        const s = l.stages as Record<string, { share: number }>;
        out.push(`| ${l.case} | ${names.map((n) => `${Math.round((s[n]?.share ?? 0) * 100)} %`).join(' | ')} |`);
      }
    };
    table(
      "Where the run loop's time goes (main thread, share of wall time; `prepare` = waiting for prepared and enriched units, `http` = waiting for acknowledgements):",
      LOOP_STAGES,
    );
    table('Preparation (mapping thread once started, else the main thread; busy share of wall time):', PREPARATION_STAGES);
  }
  const stageLine = cases.find((l) => l.rates);
  if (stageLine) {
    const rates = stageLine.rates as Record<string, { perSecond: number }>;
    out.push('', 'Each stage alone on one core (records or events per second):', '');
    out.push(`| ${Object.keys(rates).join(' | ')} |`, `|${Object.keys(rates).map(() => '---:').join('|')}|`);
    out.push(`| ${Object.values(rates).map((r) => fmt(r.perSecond)).join(' | ')} |`);
  }
  return out.join('\n') + '\n';
}
