/**
 * Runs fuzzed input through the real pipeline in-process (source → decode → map → history/ledger → validate → file
 * sink → commit, on a real in-memory SQLite state) with a hang guard, and checks what it settled.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { expect } from 'vitest';
import { runPipeline, totalDeadLettered, type RunSummary } from '../../src/core/pipeline.js';
import type { Mapper, Source } from '../../src/core/types.js';
import { silentLogger } from '../../src/log.js';
import { FileSink } from '../../src/sinks/file/index.js';
import { openDb } from '../../src/store/db.js';
import { StateStore, type DeadLetterRow } from '../../src/store/state.js';
import { createValidator } from '../../src/validate/index.js';

const validator = createValidator();

export interface Settled {
  summary: RunSummary;
  deadLetters: DeadLetterRow[];
  /** The XDM events the sink wrote. */
  sent: Array<Record<string, unknown>>;
}

/** Fails a run that takes longer than this: a hang is a bug like a crash. */
export const HANG_MS = 10_000;

/** Runs `source` through the whole pipeline into a file sink; rejects on a crash or a hang. */
export async function settle(source: Source, mapper: Mapper, sourceKey = 'fuzz'): Promise<Settled> {
  const dir = mkdtempSync(join(tmpdir(), 'xdmf-fuzz-run-'));
  const db = openDb(':memory:');
  try {
    const store = new StateStore(db);
    const sink = new FileSink({ type: 'file', path: join(dir, 'out.ndjson') });
    const runId = store.startRun('fuzz', sourceKey, sink.name);
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the pipeline hung for more than ${HANG_MS} ms`)), HANG_MS);
    });
    let summary: RunSummary;
    try {
      summary = await Promise.race([
        runPipeline({ runId, source, sourceKey, mapper, validators: [validator], sink, store, log: silentLogger }),
        hang,
      ]);
    } finally {
      clearTimeout(timer);
      await sink.close();
      await source.close?.();
    }
    let text = '';
    try {
      text = readFileSync(join(dir, 'out.ndjson'), 'utf8');
    } catch {
      // nothing was sent
    }
    const sent = text
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    return { summary, deadLetters: store.deadLetters(), sent };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A reason a person can act on: a sentence of reasonable length, no stack trace, no `[object Object]`, no bare
 * `undefined`/`NaN` standing in for a value, and not the whole (possibly huge) input echoed back.
 */
export function readableProblem(reason: string): string | undefined {
  if (reason.trim().length < 8) return 'too short';
  if (reason.length > 2000) return `too long (${reason.length} characters)`;
  if (/\n\s+at .+:\d+:\d+/.test(reason)) return 'contains a stack trace';
  if (/\[object \w+\]/.test(reason)) return 'contains [object …]';
  if (/(^|[\s:=(])(undefined|NaN)([\s,;.)]|$)/.test(reason)) return 'contains undefined/NaN as a value';
  if (!/[a-z]{3,}/i.test(reason)) return 'no words';
  return undefined;
}

/** The checks every fuzzed run must pass: accounting adds up, every dead letter has a readable reason, sent events are valid. */
export function expectSettled(result: Settled, expectedRead?: number): void {
  const { summary, deadLetters, sent } = result;
  if (expectedRead !== undefined) expect(summary.read).toBe(expectedRead);
  expect(summary.sent + summary.skipped + summary.alreadySent + totalDeadLettered(summary)).toBe(summary.read);
  expect(deadLetters).toHaveLength(totalDeadLettered(summary));
  expect(sent).toHaveLength(summary.sent);
  for (const d of deadLetters) {
    const problem = readableProblem(d.reason);
    expect(problem, `stage ${d.stage}: ${d.reason.slice(0, 300)}`).toBeUndefined();
    expect(['decode', 'map', 'validate', 'ingest']).toContain(d.stage);
  }
  for (const event of sent) {
    const entity = (event.body as { xdmEntity?: Record<string, unknown> } | undefined)?.xdmEntity ?? event;
    expect(validator.validate(entity as never), JSON.stringify(entity).slice(0, 300)).toBeNull();
  }
}

/** Shortens a counterexample for the failure message (huge generated strings would flood the output). */
function brief(value: unknown): string {
  const text = JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer') {
      const s = Buffer.from((v as { data: number[] }).data).toString('utf8');
      return s.length > 300 ? `${s.slice(0, 300)}…(${s.length} chars)` : s;
    }
    return typeof v === 'string' && v.length > 300 ? `${v.slice(0, 300)}…(${v.length} chars)` : v;
  });
  return text.length > 4000 ? `${text.slice(0, 4000)}…` : text;
}

/** Runs a property with a fixed seed; on failure throws the cause with a shortened counterexample. */
export async function checkProperty<T>(property: fc.IAsyncPropertyWithHooks<T> | fc.IPropertyWithHooks<T>, params: fc.Parameters<T>): Promise<void> {
  const details = await fc.check(property as fc.IAsyncProperty<T>, { ...params, endOnFailure: true });
  if (!details.failed) return;
  const error = details.errorInstance;
  const cause = error instanceof Error ? (error.name === 'AssertionError' ? error.message : `${error.message}\n${(error.stack ?? '').split('\n').slice(1, 8).join('\n')}`) : String(error);
  throw new Error(`property failed (seed ${details.seed}, path ${details.counterexamplePath}): ${cause.slice(0, 3000)}\ncounterexample: ${brief(details.counterexample)}`);
}
