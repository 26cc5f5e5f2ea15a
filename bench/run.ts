/**
 * `npm run bench`: generates seeded inputs, starts the local AEP imitation in its own process, runs each case in a
 * child process of its own (floor, naive, the real connector with each sink, isolated stages, a small run for memory)
 * and prints one JSON line per case plus a summary line; writes them to bench/results/<date>.jsonl and latest.md.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../src/config/load.js';
import { sinkConfigSchemas } from '../src/sinks/index.js';
import { LOW_MEMORY_NODE_OPTIONS } from '../src/util/heap-growth.js';
import { parseArgs, type BenchArgs, type CaseName } from './args.js';
import type { CaseMessage, CaseResult, CaseSpec } from './case-types.js';
import { generateInputs, type GeneratedInput } from './generate.js';
import { nextMessage, type AepChildMessage, type AepEndpoints } from './ipc.js';
import { machine } from './machine.js';
import { buildLines, markdown, medianRuns, type CaseRun } from './report.js';

const here = dirname(fileURLToPath(import.meta.url));
const say = (text: string) => process.stderr.write(`bench: ${text}\n`);

type Usage = Extract<AepChildMessage, { type: 'usage' }>;

class Imitation {
  private nextId = 0;
  private constructor(
    private readonly child: ChildProcess,
    readonly endpoints: AepEndpoints,
  ) {}

  static async start(validate: boolean): Promise<Imitation> {
    const child = fork(join(here, 'aep-child.js'), [JSON.stringify({ validate })], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const ready = await nextMessage(child, (m): m is Extract<AepChildMessage, { type: 'ready' }> => (m as AepChildMessage).type === 'ready', 'aep-local');
    return new Imitation(child, ready.endpoints);
  }

  async usage(): Promise<Usage> {
    const id = ++this.nextId;
    const answer = nextMessage(this.child, (m): m is Usage => (m as AepChildMessage).type === 'usage' && (m as Usage).id === id, 'aep-local usage');
    this.child.send({ type: 'usage', id });
    return answer;
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.send({ type: 'close' });
    await exited;
  }
}

async function runChild(spec: CaseSpec, profileDir: string | undefined): Promise<CaseResult> {
  const execArgv = [...(spec.nodeOptions ?? []), ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])]; // a profile per thread
  const child = fork(join(here, 'case-child.js'), [JSON.stringify(spec)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv });
  const message = await nextMessage(child, (m): m is CaseMessage => typeof m === 'object' && m !== null && 'type' in m, spec.name);
  await new Promise((resolve) => (child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve)));
  if (message.type === 'error') throw new Error(`${spec.name}: ${message.message}`);
  return message.result;
}

async function main(args: BenchArgs): Promise<void> {
  const started = performance.now();
  const work = mkdtempSync(join(tmpdir(), 'xdmf-bench-'));
  const wants = (c: CaseName) => args.only.includes(c);
  const hasBatchSink = 'adobe-batch' in sinkConfigSchemas;
  const inputsFor = (records: number, name: string): GeneratedInput[] => {
    const t = performance.now();
    const inputs = generateInputs(join(work, name), records, args.seed);
    const mb = inputs.reduce((n, i) => n + i.bytes, 0) / 2 ** 20;
    say(`generated ${records.toLocaleString('en-GB')} records (${mb.toFixed(0)} MB) in ${((performance.now() - t) / 1000).toFixed(1)} s → ${join(work, name)}`);
    return inputs;
  };

  const needsFull = wants('floor') || wants('xdm-feedback') || wants('xdm-feedback-lean') || wants('xdm-feedback-file') || wants('xdm-feedback-batch') || (wants('stages') && args.stageRecords === args.records);
  const full = needsFull ? inputsFor(args.records, 'inputs') : [];
  const stageInputs = wants('stages') ? (args.stageRecords === args.records ? full : inputsFor(args.stageRecords, 'inputs-stages')) : [];
  const naiveInputs = wants('naive') ? inputsFor(args.naiveRecords, 'inputs-naive') : [];
  const smallInputs = wants('memory') ? inputsFor(args.memoryRecords, 'inputs-memory') : [];

  const imitation = await Imitation.start(args.aepValidation);
  say(`local AEP imitation in its own process at ${imitation.endpoints.platformUrl} (validates events: ${args.aepValidation ? 'yes' : 'no'})`);
  const runs: CaseRun[] = [];
  let caseNo = 0;
  const run = async (name: string, spec: Omit<CaseSpec, 'name' | 'endpoints' | 'workDir' | 'concurrency'>, note?: string, report = true) => {
    const workDir = join(work, `case-${++caseNo}-${name}`);
    mkdirSync(workDir, { recursive: true });
    say(`running ${name}…`);
    const before = await imitation.usage();
    const result = await runChild({ ...spec, name, endpoints: imitation.endpoints, workDir, concurrency: args.concurrency }, args.profileDir);
    if (!args.keep) rmSync(workDir, { recursive: true, force: true }); // its state database: ~300 MB at 1M records
    const after = await imitation.usage();
    const imitationCpuSeconds = (after.cpuUserMs + after.cpuSystemMs - before.cpuUserMs - before.cpuSystemMs) / 1000;
    const imitationAccepted = after.accepted - before.accepted;
    say(
      `  ${name}: ${result.records.toLocaleString('en-GB')} records, ${result.events.toLocaleString('en-GB')} events in ${result.seconds.toFixed(2)} s ` +
        `(${Math.round(result.records / result.seconds).toLocaleString('en-GB')} records/s), peak RSS ${result.peakRssMb.toFixed(0)} MB`,
    );
    const entry: CaseRun = { name, result, ...(note ? { note } : {}) };
    if (spec.kind !== 'stages' && spec.sink !== 'file') Object.assign(entry, { imitationCpuSeconds, imitationAccepted });
    if (report) runs.push(entry);
    return entry;
  };

  try {
    for (let round = 1; round <= args.repeat; round++) {
      if (args.repeat > 1) say(`round ${round} of ${args.repeat}`);
      if (wants('stages')) {
        await run('stages', { kind: 'stages', inputs: stageInputs }, 'each stage alone on one core, rates per second');
      }
      const envelopesPath = join(work, `envelopes-${round}.ndjson`);
      if (wants('xdm-feedback-file') || wants('floor')) {
        await run(
          'xdm-feedback-file',
          { kind: 'connector', sink: 'file', inputs: full, envelopesPath },
          'the sync path into the file sink (NDJSON envelopes); its output is what the floor posts',
          wants('xdm-feedback-file'),
        );
      }
      if (wants('floor')) {
        await run('floor', { kind: 'floor', inputs: full, envelopesPath }, `the same envelopes pre-built into ≤ 1 MB bodies, posted raw with ${args.concurrency} in flight`);
      }
      if (round < args.repeat) rmSync(envelopesPath, { force: true }); // ~1 GB at 1M records
      if (wants('naive')) {
        await run('naive', { kind: 'naive', inputs: naiveInputs }, `map + validate + one sequential POST per event, on a subset of ${args.naiveRecords.toLocaleString('en-GB')} records`);
      }
      if (wants('xdm-feedback')) {
        const entry = await run('xdm-feedback', { kind: 'connector', sink: 'adobe-streaming', inputs: full }, 'sync: sources → map → enrich → validate → adobe-streaming → SQLite');
        if (entry.imitationAccepted !== undefined && entry.imitationAccepted !== entry.result.events) {
          throw new Error(`xdm-feedback: the connector counted ${entry.result.events} events sent but the imitation accepted ${entry.imitationAccepted}`);
        }
      }
      if (wants('xdm-feedback-lean')) {
        await run(
          'xdm-feedback-lean',
          { kind: 'connector', sink: 'adobe-streaming', inputs: full, nodeOptions: [...LOW_MEMORY_NODE_OPTIONS] },
          `the xdm-feedback case with NODE_OPTIONS=${LOW_MEMORY_NODE_OPTIONS.join(' ')}: a smaller young generation, for less memory`,
        );
      }
      if (wants('xdm-feedback-batch')) {
        if (hasBatchSink) await run('xdm-feedback-batch', { kind: 'connector', sink: 'adobe-batch', inputs: full }, 'backfill through batch ingestion (adobe-batch sink)');
        else say('skipping xdm-feedback-batch: the adobe-batch sink is not available yet');
      }
      if (wants('memory')) {
        await run('memory', { kind: 'connector', sink: 'adobe-streaming', inputs: smallInputs }, `the xdm-feedback case on ${args.memoryRecords.toLocaleString('en-GB')} records, for peak RSS growth`);
      }
    }
  } finally {
    await imitation.close();
    if (!args.keep) rmSync(work, { recursive: true, force: true });
    else say(`kept inputs and state in ${work}`);
  }

  const date = new Date().toISOString();
  const lines = buildLines(medianRuns(runs), { machine: machine(), seed: args.seed, date, aepValidation: args.aepValidation });
  for (const line of lines) process.stdout.write(JSON.stringify(line) + '\n');
  if (args.resultsDir) {
    mkdirSync(args.resultsDir, { recursive: true });
    const stamp = date.replace(/[:]/g, '-').replace(/\.\d+Z$/, 'Z');
    writeFileSync(join(args.resultsDir, `${stamp}.jsonl`), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    writeFileSync(join(args.resultsDir, 'latest.md'), markdown(lines));
    say(`wrote ${join(args.resultsDir, `${stamp}.jsonl`)} and latest.md`);
  }
  say(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

let args: BenchArgs;
try {
  args = parseArgs(process.argv.slice(2), join(packageRoot(), 'bench', 'results'));
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(2);
}
await main(args).catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
