/** Runs the built CLI as a real child process against a temp config pointing at the local AEP imitation. */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AepLocal } from '../../src/aep-local/types.js';
import { crashCli, type ChildRun as CliRun, type CrashCli as Cli } from '../helpers/crash-harness.js';

export type { CliRun, Cli };

/** Writes `count` OVO unified feedback records (every one an outcome: Pending → sent, Delivered → delivered). */
export function ovoRecords(count: number, options: { prefix?: string; day?: (i: number) => number; month?: number } = {}): string {
  const prefix = options.prefix ?? 'c';
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const day = options.day ? options.day(i) : 1 + (i % 10);
    lines.push(
      JSON.stringify({
        commId: `${prefix}-${i}`,
        commDescription: 'Payment reminder',
        customer: { customerId: String(100000 + i) },
        status: i % 3 ? 'Delivered' : 'Pending',
        description: null,
        email: null,
        channel: i % 2 ? 'Email' : 'SMS',
        metadata: { eventId: `${prefix}-${i}-feedback`, traceToken: `t-${prefix}-${i}`, createdAt: Date.UTC(2024, options.month ?? 4, day, i % 24, i % 60) },
      }),
    );
  }
  return lines.join('\n') + '\n';
}

/** Creates a folder with an input file, a mapping copy and a config sending to `aep` through the streaming sink. */
export function makeCli(dir: string, aep: AepLocal, input: string, sinkOverrides: Record<string, unknown> = {}): Cli {
  return crashCli(dir, aep, input, { maxBatchEvents: 50, backoffBaseMs: 20, backoffMaxMs: 200, ...sinkOverrides });
}

/** Parses a `--json` answer (the last JSON document on stdout). */
export function jsonOf<T = Record<string, unknown>>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${run.code}):\n${run.stdout}\n--- stderr ---\n${run.stderr}`);
  }
}

/** Removes a status entry from the copied mapping (simulates a mapping bug) or restores the original. */
export function breakMapping(cli: Cli, status: string): void {
  const path = join(cli.dir, 'ovo-feedback.json');
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { statuses: Record<string, unknown> };
  delete doc.statuses[status];
  writeFileSync(path, JSON.stringify(doc, null, 2));
}

export function fixMapping(cli: Cli): void {
  copyFileSync(join(process.cwd(), 'mappings', 'ovo-feedback.json'), join(cli.dir, 'ovo-feedback.json'));
}

/** Polls until `check` is true (or fails after `timeoutMs`). */
export async function until(check: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
