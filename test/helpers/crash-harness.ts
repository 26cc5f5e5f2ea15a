/**
 * Crash-consistency harness: a seeded workload with a known fate per record, the built CLI as a child process that
 * can be SIGKILLed at chosen instants, and a reconciliation of what the local AEP imitation accepted against the input.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { AepLocal } from '../../src/aep-local/types.js';
import { eventIdFor } from '../../src/mapping/index.js';
import { builtPath } from './built.js';
import { seededRandom } from '../../src/util/prng.js';
import { aepLocalRoutedSink, aepLocalAdobeSection } from './aep-local-config.js';

/** The same seed gives the same workload and the same kill points. */
export const seeded = seededRandom;

/**
 * What must become of one input line:
 * `accept` — accepted by AEP; `repeat` — a verbatim repeat of an accepted line (same `_id`, must not be sent again);
 * `skip` — not an outcome (OVO Scheduled), counted and not sent; `decode` / `map` — dead-lettered at that stage;
 * `reject` — AEP rejects the event (400 in the 207): dead-lettered at stage `ingest`.
 */
export type Fate = 'accept' | 'repeat' | 'skip' | 'decode' | 'map' | 'reject';

export interface WorkRecord {
  line: string;
  fate: Fate;
  /** The event `_id` for lines that map to an event. */
  id?: string;
}

export interface Workload {
  records: WorkRecord[];
  /** The NDJSON file content. */
  text: string;
  /** `_id`s the imitation must reject (pass as `rejectIds`). */
  rejected: Set<string>;
  counts: Record<Fate, number>;
}

export interface WorkloadOptions {
  /** Share of each bad kind. @default decode 0.01, map 0.01, skip 0.03, reject 0.005, repeat 0.01 */
  shares?: Partial<Record<Exclude<Fate, 'accept'>, number>>;
  /** Extra fields merged into every valid record (e.g. personal data for the security scan). */
  decorate?: (i: number, record: Record<string, unknown>) => void;
  prefix?: string;
}

const OUTCOMES = ['Pending', 'Delivered', 'Cancelled', 'Expired'] as const;

/** Builds `count` OVO unified feedback lines with a seeded mix of fates (design §3 decides each one's fate). */
export function buildWorkload(count: number, seed: number, options: WorkloadOptions = {}): Workload {
  const random = seeded(seed);
  const shares = { decode: 0.01, map: 0.01, skip: 0.03, reject: 0.005, repeat: 0.01, ...options.shares };
  const prefix = options.prefix ?? `s${seed}`;
  const records: WorkRecord[] = [];
  const acceptedSoFar: WorkRecord[] = [];
  const rejected = new Set<string>();
  const counts: Record<Fate, number> = { accept: 0, repeat: 0, skip: 0, decode: 0, map: 0, reject: 0 };
  for (let i = 0; i < count; i++) {
    const r = random();
    let fate: Fate = 'accept';
    let edge = 0;
    for (const kind of ['decode', 'map', 'skip', 'reject', 'repeat'] as const) {
      edge += shares[kind];
      if (r < edge) {
        fate = kind;
        break;
      }
    }
    if (fate === 'repeat' && acceptedSoFar.length === 0) fate = 'accept';
    if (fate === 'repeat') {
      const original = acceptedSoFar[Math.floor(random() * acceptedSoFar.length)]!;
      records.push({ line: original.line, fate, id: original.id! });
      counts.repeat++;
      continue;
    }
    const eventId = `${prefix}-${i}-feedback`;
    const record: Record<string, unknown> = {
      commId: `${prefix}-${i}`,
      commDescription: 'Payment reminder',
      customer: { customerId: String(100000 + i) },
      status: fate === 'skip' ? 'Scheduled' : fate === 'map' ? `Bogus${i}` : OUTCOMES[i % OUTCOMES.length],
      channel: i % 2 ? 'Email' : 'SMS',
      metadata: { eventId, traceToken: `t-${prefix}-${i}`, createdAt: Date.UTC(2024, 4, 1 + (i % 28), i % 24, i % 60, i % 60) },
    };
    options.decorate?.(i, record);
    let line = JSON.stringify(record);
    if (fate === 'decode') line = line.slice(0, Math.max(1, Math.floor(line.length * (0.2 + 0.6 * random())))); // truncated JSON
    const id = fate === 'decode' ? undefined : eventIdFor('ovo-feedback', eventId);
    const work: WorkRecord = id ? { line, fate, id } : { line, fate };
    if (fate === 'reject') rejected.add(id!);
    if (fate === 'accept') acceptedSoFar.push(work);
    records.push(work);
    counts[fate]++;
  }
  return { records, text: records.map((r) => r.line).join('\n') + '\n', rejected, counts };
}

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface StartedChild {
  child: ChildProcess;
  done: Promise<ChildRun>;
}

export interface CrashCli {
  dir: string;
  config: string;
  state: string;
  input: string;
  /** Starts the built CLI with `args` (the config is added); extra environment variables on top of the secret. */
  start(args: string[], env?: Record<string, string>): StartedChild;
  run(args: string[], env?: Record<string, string>): Promise<ChildRun>;
}

/** Starts the built CLI in `cwd` with `--config configPath` and `args`; `done` resolves once it exited and its output is read. */
export function spawnCli(cwd: string, configPath: string, args: string[], env: Record<string, string>): StartedChild {
  const child = spawn(process.execPath, [builtPath('src/cli/main.js'), '--config', configPath, ...args], {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<ChildRun>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}

/** Writes the input, a copy of the OVO mapping and a config streaming to `aep`; returns a launcher for the built CLI. */
export function crashCli(dir: string, aep: AepLocal, input: string, sink: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): CrashCli {
  mkdirSync(dir, { recursive: true });
  const inputPath = join(dir, 'in.ndjson');
  writeFileSync(inputPath, input);
  copyFileSync(join(process.cwd(), 'mappings', 'ovo-feedback.json'), join(dir, 'ovo-feedback.json'));
  const config = {
    state: './state/state.db',
    sources: [{ type: 'ovo-feedback', id: 'ovo', files: ['./in.ndjson'], mapping: './ovo-feedback.json' }],
    sink: aepLocalRoutedSink(aep, { maxBatchEvents: 100, backoffBaseMs: 10, backoffMaxMs: 100, ...sink }),
    adobe: aepLocalAdobeSection(aep),
    ...extra,
  };
  const configPath = join(dir, 'xdm-feedback.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const start = (args: string[], env: Record<string, string> = {}): StartedChild =>
    spawnCli(dir, configPath, args, { ADOBE_CLIENT_SECRET: aep.credentials.clientSecret, XDM_FEEDBACK_LOG_LEVEL: 'warn', ...env });
  return { dir, config: configPath, state: join(dir, 'state', 'state.db'), input: inputPath, start, run: (args, env) => start(args, env).done };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until the imitation has been quiet (no new accepted events or requests) for `quietMs`. */
export async function quiesce(aep: AepLocal, quietMs: number): Promise<void> {
  const mark = () => {
    const s = aep.stats();
    const requests = Object.values(s.requests).reduce((a, byStatus) => a + Object.values(byStatus).reduce((x, y) => x + y, 0), 0);
    return `${s.accepted}/${requests}`;
  };
  let last = mark();
  let quietSince = Date.now();
  while (Date.now() - quietSince < quietMs) {
    await sleep(10);
    const now = mark();
    if (now !== last) {
      last = now;
      quietSince = Date.now();
    }
  }
}

/** How a run is ended. */
export type KillPlan =
  /** SIGKILL after a delay from spawn (may land in start-up, migrations, reading, sending or committing). */
  | { kind: 'time'; afterMs: number }
  /** SIGKILL once the imitation accepted `events` more events in this run (mid-stream, sends in flight). */
  | { kind: 'progress'; events: number }
  /** The process SIGKILLs itself after the n-th acknowledged unit, before committing it (XDM_FEEDBACK_CRASH_AFTER_ACK). */
  | { kind: 'after-ack'; unit: number }
  /**
   * SIGKILL once the imitation received `count` more requests on routes whose name starts with one of `routes`
   * (e.g. `import.` and `catalog.`: lands between creating, uploading, completing and polling a batch).
   */
  | { kind: 'requests'; routes: string[]; count: number };

export interface KillRecord {
  plan: KillPlan;
  /** Whether the process died by SIGKILL (false: it finished before the kill landed). */
  killed: boolean;
  exit: ChildRun;
  /** Events the imitation accepted during this run. */
  acceptedInRun: number;
  /** `_id`s accepted during this run but not in the ledger after it: acknowledged (or in flight) and not committed. */
  uncommitted: string[];
  /** `_id`s accepted by any run so far and not in the ledger after this one (a resumed batch may be acknowledged in a later run). */
  acceptedNotCommitted: number;
  /** Ledger ids the imitation never accepted (must stay empty: that would be a lost event). */
  ledgerNotAccepted: string[];
}

/** Reads the ledger ids of a state file (read-only, from this process). */
export function ledgerIds(statePath: string): Set<string> {
  const db = new Database(statePath, { readonly: true, fileMustExist: true });
  try {
    return new Set(db.prepare('SELECT id FROM ledger').pluck().all() as string[]);
  } finally {
    db.close();
  }
}

/** Requests the imitation received on routes whose name starts with one of `prefixes`. */
export function requestCount(aep: AepLocal, prefixes: string[]): number {
  let total = 0;
  for (const [route, byStatus] of Object.entries(aep.stats().requests)) {
    if (prefixes.some((p) => route.startsWith(p))) total += Object.values(byStatus).reduce((a, n) => a + n, 0);
  }
  return total;
}

/** Runs `sync` once under `plan`, kills it, waits for the imitation to settle and records what the kill left behind. */
export async function runAndKill(cli: CrashCli, aep: AepLocal, plan: KillPlan, options: { quietMs?: number; args?: string[] } = {}): Promise<KillRecord> {
  const before = aep.acceptedIds().length;
  const env: Record<string, string> = plan.kind === 'after-ack' ? { XDM_FEEDBACK_CRASH_AFTER_ACK: String(plan.unit) } : {};
  const started = cli.start(options.args ?? ['sync'], env);
  let finished = false;
  void started.done.then(() => (finished = true));
  if (plan.kind === 'time') {
    await Promise.race([sleep(plan.afterMs), started.done]);
    if (!finished) started.child.kill('SIGKILL');
  } else if (plan.kind === 'progress') {
    while (!finished && aep.acceptedIds().length - before < plan.events) await sleep(1);
    if (!finished) started.child.kill('SIGKILL');
  } else if (plan.kind === 'requests') {
    const requestsBefore = requestCount(aep, plan.routes);
    while (!finished && requestCount(aep, plan.routes) - requestsBefore < plan.count) await sleep(1);
    if (!finished) started.child.kill('SIGKILL');
  }
  const exit = await started.done;
  await quiesce(aep, options.quietMs ?? 60);
  const ids = aep.acceptedIds();
  const inRun = ids.slice(before);
  let ledger = new Set<string>();
  try {
    ledger = ledgerIds(cli.state);
  } catch {
    // killed before the state file existed
  }
  const all = new Set(ids);
  return {
    plan,
    killed: exit.signal === 'SIGKILL',
    exit,
    acceptedInRun: inRun.length,
    uncommitted: [...new Set(inRun.filter((id) => !ledger.has(id)))],
    acceptedNotCommitted: [...all].filter((id) => !ledger.has(id)).length,
    ledgerNotAccepted: [...ledger].filter((id) => !all.has(id)),
  };
}

export interface DeadLetter {
  stage: string;
  raw: string;
  reason: string;
  errors: string | null;
  eventId: string | null;
}

export function deadLetters(statePath: string): DeadLetter[] {
  const db = new Database(statePath, { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT stage, raw, reason, errors, event_id AS eventId FROM dead_letters').all() as DeadLetter[];
  } finally {
    db.close();
  }
}

export interface Reconciliation {
  /** Input lines whose fate was not met (not accepted, not dead-lettered, not skipped by rule), with why. */
  lost: string[];
  /** Accepted `_id`s that no accept line explains (a skipped, rejected or unknown event was sent). */
  unexpected: string[];
  /** Dead letters per stage. */
  deadLetters: Record<string, number>;
  /** Dead letters beyond one per bad line. */
  extraDeadLetters: number;
  /** Accepted events whose `_id` was accepted before (what AEP Profile folds, the data lake keeps). */
  duplicates: number;
  /** `_id` → times accepted, for those accepted more than once. */
  repeatedIds: Map<string, number>;
  distinctAccepted: number;
  ledgerMatchesAccepted: boolean;
}

/** Matches every input line against the imitation and the state file: 0 lost is the guarantee. */
export function reconcile(workload: Workload, aep: AepLocal, statePath: string): Reconciliation {
  const ids = aep.acceptedIds();
  const times = new Map<string, number>();
  for (const id of ids) times.set(id, (times.get(id) ?? 0) + 1);
  const letters = deadLetters(statePath);
  const byRaw = new Map<string, DeadLetter[]>();
  const byEventId = new Map<string, DeadLetter[]>();
  const perStage: Record<string, number> = {};
  for (const d of letters) {
    perStage[d.stage] = (perStage[d.stage] ?? 0) + 1;
    (byRaw.get(d.raw) ?? byRaw.set(d.raw, []).get(d.raw)!).push(d);
    if (d.eventId) (byEventId.get(d.eventId) ?? byEventId.set(d.eventId, []).get(d.eventId)!).push(d);
  }
  const lost: string[] = [];
  const expectedIds = new Set<string>();
  let badLines = 0;
  workload.records.forEach((r, i) => {
    const where = `line ${i + 1} (${r.fate})`;
    switch (r.fate) {
      case 'accept':
      case 'repeat':
        expectedIds.add(r.id!);
        if (!times.has(r.id!)) lost.push(`${where}: ${r.id} never accepted`);
        break;
      case 'skip':
        if (times.has(r.id!)) lost.push(`${where}: skipped by rule yet sent`);
        if (byRaw.has(r.line)) lost.push(`${where}: skipped by rule yet dead-lettered`);
        break;
      case 'decode':
      case 'map': {
        badLines++;
        const found = (byRaw.get(r.line) ?? []).filter((d) => d.stage === r.fate);
        if (found.length === 0) lost.push(`${where}: no dead letter at stage ${r.fate}`);
        else if (!found.every((d) => d.reason.trim().length > 10)) lost.push(`${where}: dead letter without a readable reason`);
        break;
      }
      case 'reject': {
        badLines++;
        const found = (byEventId.get(r.id!) ?? []).filter((d) => d.stage === 'ingest');
        if (found.length === 0) lost.push(`${where}: rejected by AEP but no ingest dead letter`);
        else if (!found.every((d) => /rejected/i.test(d.reason))) lost.push(`${where}: ingest dead letter without Adobe's reason: ${found[0]!.reason}`);
        if (times.has(r.id!)) lost.push(`${where}: rejected yet accepted`);
      }
    }
  });
  const repeatedIds = new Map([...times].filter(([, n]) => n > 1));
  const ledger = ledgerIds(statePath);
  const distinct = new Set(ids);
  return {
    lost,
    unexpected: [...distinct].filter((id) => !expectedIds.has(id)),
    deadLetters: perStage,
    extraDeadLetters: letters.length - badLines,
    duplicates: ids.length - distinct.size,
    repeatedIds,
    distinctAccepted: distinct.size,
    ledgerMatchesAccepted: ledger.size === distinct.size && [...ledger].every((id) => distinct.has(id)),
  };
}

/** Parses a `--json` answer, failing with the exit code and stderr when stdout is not JSON. */
export function jsonOf<T>(run: ChildRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${run.code}, signal ${run.signal}):\n${run.stdout}\n--- stderr ---\n${run.stderr.slice(0, 4000)}`);
  }
}
