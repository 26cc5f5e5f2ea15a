/** Command-line flags of `npm run bench`, with defaults and readable errors. */

/** Every case the bench knows, in the order it runs them. */
export const CASES = ['stages', 'floor', 'naive', 'xdm-feedback', 'xdm-feedback-lean', 'xdm-feedback-file', 'xdm-feedback-batch', 'memory'] as const;
export type CaseName = (typeof CASES)[number];

export interface BenchArgs {
  /** Input records of the full-size cases (split over the four sources). */
  records: number;
  seed: number;
  only: CaseName[];
  /** Records the naive connector processes (it is far slower; a subset keeps the run short). */
  naiveRecords: number;
  /** Records of the small run whose peak RSS is compared with the full-size one. */
  memoryRecords: number;
  /** Records the isolated stage measurements use. */
  stageRecords: number;
  /** Whether the local AEP imitation validates every accepted event against the XDM schema (its CPU is not ours). */
  aepValidation: boolean;
  /** DCS concurrency limit of the connector, and the floor's fixed concurrency. */
  concurrency: number;
  /** Where results go (`<date>.jsonl`, `latest.md`); empty to write nothing. */
  resultsDir: string;
  /** Keep the generated inputs and state databases. */
  keep: boolean;
  /** Write a V8 CPU profile of every case child into this folder (`node --cpu-prof`). */
  profileDir?: string;
  /** Rounds of all cases; each case reports its median run and the range (a noisy machine needs several). */
  repeat: number;
}

export const USAGE = `npm run bench [-- options]

  --records N          input records of the full-size cases (default 1000000)
  --seed S             seed of the generated inputs (default 1)
  --only a,b           cases to run: ${CASES.join(', ')}
  --naive-records N    records of the naive per-event connector (default 5000)
  --memory-records N   records of the small run compared for memory (default records/10)
  --stage-records N    records of the isolated stage measurements (default min(records, 200000))
  --aep-validation     let the local AEP imitation validate each event too (default off: Adobe's CPU, not ours)
  --concurrency N      DCS requests in flight (connector max and floor) (default 8)
  --results DIR        where to write <date>.jsonl and latest.md (default bench/results; "" for none)
  --repeat N           run all cases N times, in alternating rounds; each case reports its median run
                       (by events/s) with the range, and ratios use the medians (default 1)
  --keep               keep the generated inputs and state databases
  --profile DIR        write a CPU profile (.cpuprofile) of every case child into DIR; summarise one with
                       node dist/bench/profile-summary.js FILE`;

function count(flag: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (value === undefined || value.trim() === '' || !Number.isInteger(n) || n < min) {
    throw new Error(`${flag} ${value ?? ''}: give a whole number ≥ ${min}`);
  }
  return n;
}

/** Parses the flags; throws an Error with a readable message on bad input. */
export function parseArgs(argv: readonly string[], defaultResultsDir: string): BenchArgs {
  let records = 1_000_000;
  let seed = 1;
  let only: CaseName[] = [...CASES];
  let naiveRecords = 5_000;
  let memoryRecords: number | undefined;
  let stageRecords: number | undefined;
  let aepValidation = false;
  let concurrency = 8;
  let resultsDir = defaultResultsDir;
  let keep = false;
  let profileDir: string | undefined;
  let repeat = 1;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '--records':
        records = count(flag, value(), 1);
        break;
      case '--seed':
        seed = count(flag, value(), 0);
        break;
      case '--only': {
        const names = (value() ?? '').split(',').map((s) => s.trim()).filter(Boolean);
        const unknown = names.filter((n) => !(CASES as readonly string[]).includes(n));
        if (names.length === 0 || unknown.length > 0) throw new Error(`--only ${names.join(',')}: unknown case ${unknown.join(', ') || '(none given)'}; use ${CASES.join(', ')}`);
        only = names as CaseName[];
        break;
      }
      case '--naive-records':
        naiveRecords = count(flag, value(), 1);
        break;
      case '--memory-records':
        memoryRecords = count(flag, value(), 1);
        break;
      case '--stage-records':
        stageRecords = count(flag, value(), 1);
        break;
      case '--aep-validation':
        aepValidation = true;
        break;
      case '--concurrency':
        concurrency = count(flag, value(), 1);
        break;
      case '--results':
        resultsDir = value() ?? '';
        break;
      case '--keep':
        keep = true;
        break;
      case '--repeat':
        repeat = count(flag, value(), 1);
        break;
      case '--profile':
        profileDir = value();
        if (!profileDir) throw new Error('--profile: give a folder');
        break;
      case '--help':
      case '-h':
        throw new Error(USAGE);
      default:
        throw new Error(`unknown flag ${arg}\n\n${USAGE}`);
    }
  }
  return {
    records,
    seed,
    only,
    naiveRecords: Math.min(naiveRecords, records),
    memoryRecords: Math.min(memoryRecords ?? Math.max(1, Math.floor(records / 10)), records),
    stageRecords: Math.min(stageRecords ?? 200_000, records),
    aepValidation,
    concurrency,
    resultsDir,
    keep,
    ...(profileDir ? { profileDir } : {}),
    repeat,
  };
}
