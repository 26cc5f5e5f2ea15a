/** Runs the built CLI as a real child process against a temp config pointing at the local AEP imitation. */
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AepLocal } from '../../src/aep-local/types.js';
import { builtPath } from '../helpers/built.js';
import { aepLocalRoutedSink } from '../helpers/aep-local-config.js';

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Cli {
  dir: string;
  config: string;
  state: string;
  /** Starts the CLI; `done` resolves when it exits. */
  start(args: string[]): { child: ChildProcess; done: Promise<CliRun> };
  run(args: string[]): Promise<CliRun>;
}

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
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'in.ndjson'), input);
  copyFileSync(join(process.cwd(), 'mappings', 'ovo-feedback.json'), join(dir, 'ovo-feedback.json'));
  const config = {
    state: './state/state.db',
    sources: [{ type: 'ovo-feedback', id: 'ovo', files: ['./in.ndjson'], mapping: './ovo-feedback.json' }],
    sink: aepLocalRoutedSink(aep, { maxBatchEvents: 50, backoffBaseMs: 20, backoffMaxMs: 200, ...sinkOverrides }),
    adobe: {
      imsUrl: aep.endpoints.imsTokenUrl,
      clientId: aep.credentials.clientId,
      orgId: aep.credentials.imsOrgId,
      sandbox: aep.credentials.sandboxName,
      platformUrl: aep.endpoints.platformUrl,
    },
  };
  const configPath = join(dir, 'xdm-feedback.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const entry = builtPath('src/cli/main.js');
  const start = (args: string[]) => {
    const child = spawn(process.execPath, [entry, '--config', configPath, '--log-level', 'warn', ...args], {
      cwd: dir,
      env: { ...process.env, ADOBE_CLIENT_SECRET: aep.credentials.clientSecret, XDM_FEEDBACK_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    const done = new Promise<CliRun>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr })));
    return { child, done };
  };
  return { dir, config: configPath, state: join(dir, 'state', 'state.db'), start, run: (args) => start(args).done };
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
