// The demo (`npm start` runs `xdm-feedback demo` after building): the built CLI, the bundled samples of every
// platform, the in-process local AEP imitation and a real SQLite file; run twice, the second run sends nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { builtPath } from '../helpers/built.js';
import { tempDir } from '../helpers/temp.js';

const ROOT = join(import.meta.dirname, '..', '..');

function demo(cwd: string, ...args: string[]) {
  const run = spawnSync(process.execPath, [builtPath('src/cli/main.js'), 'demo', ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 60_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** The row of `source` in the summary table: read, sent, skipped, already sent, dead-lettered. */
function row(stdout: string, source: string): number[] {
  const line = stdout.split('\n').find((l) => l.startsWith(source + ' '));
  if (!line) throw new Error(`no row for ${source} in:\n${stdout}`);
  return line.trim().split(/\s+/).slice(1, 6).map(Number);
}

const nonBlankLines = (file: string) => readFileSync(join(ROOT, 'examples', 'data', file), 'utf8').split('\n').filter((l) => l.trim() !== '').length;

describe('the demo (npm start)', () => {
  it('syncs every bundled platform into the local AEP, prints the summary tables, and sends nothing on the second run', () => {
    const cwd = tempDir('xdmf-demo-');
    const first = demo(cwd);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^xdm-feedback demo — local AEP imitation at http:\/\/127\.0\.0\.1:\d+, state in /);

    // One row per platform; every record read is sent, skipped (a non-outcome) or dead-lettered.
    const ovo = row(first.stdout, 'ovo-feedback');
    expect(ovo[0]).toBe(nonBlankLines('ovo-feedback.ndjson'));
    expect(ovo[0]).toBeGreaterThanOrEqual(200);
    expect(ovo[4]).toBeGreaterThan(0); // the deliberately malformed lines
    expect(row(first.stdout, 'ovo-v2')[0]).toBe(nonBlankLines('ovo-v2.ndjson'));
    const csvRows = parse(readFileSync(join(ROOT, 'examples', 'data', 'crisisworks-report.csv')), { bom: true, columns: true, skip_empty_lines: true });
    expect(row(first.stdout, 'crisisworks')[0]).toBe(csvRows.length);
    expect(row(first.stdout, 'masstack')[0]).toBeGreaterThan(0);
    for (const source of ['ovo-feedback', 'ovo-v2', 'crisisworks', 'masstack']) {
      const [read, sent, skipped, already, dead] = row(first.stdout, source);
      expect(sent, source).toBeGreaterThan(0);
      expect(already, source).toBe(0);
      expect(sent! + skipped! + dead!, source).toBe(read);
    }

    // By status, by channel, dead letters by stage, what the imitation accepted, and what a scheduler would see.
    expect(first.stdout).toMatch(/sent by feedbackStatus \/ interaction\s+events/);
    for (const status of ['sent', 'delivered', 'bounce', 'delay', 'error', 'exclude', 'denylist', 'open', 'click']) {
      expect(first.stdout, status).toMatch(new RegExp(`^${status}\\s+\\d+$`, 'm'));
    }
    expect(first.stdout).toMatch(/^email\s+\d+$/m);
    expect(first.stdout).toMatch(/^sms\s+\d+$/m);
    expect(first.stdout).toMatch(/^direct-mail\s+\d+$/m);
    expect(first.stdout).toMatch(/^decode\s+\d+$/m);
    const sentTotal = ['ovo-feedback', 'ovo-v2', 'crisisworks', 'masstack'].reduce((a, s) => a + row(first.stdout, s)[1]!, 0);
    const accepted = [...first.stdout.matchAll(/^(?:feedback|tracking) dataset \w+\s+(\d+)$/gm)].reduce((a, m) => a + Number(m[1]), 0);
    expect(accepted).toBe(sentTotal);
    expect(first.stdout).toMatch(/would exit 3 \(finished with dead letters/);

    // The state is a real SQLite file under ./.xdm-feedback, holding every sent _id.
    const statePath = join(cwd, '.xdm-feedback', 'state.db');
    expect(existsSync(statePath)).toBe(true);
    const db = new Database(statePath, { readonly: true });
    try {
      expect((db.prepare('SELECT count(*) AS n FROM ledger').get() as { n: number }).n).toBe(sentTotal);
    } finally {
      db.close();
    }

    const second = demo(cwd);
    expect(second.code, second.stderr).toBe(0);
    for (const source of ['ovo-feedback', 'ovo-v2', 'crisisworks', 'masstack']) expect(row(second.stdout, source).slice(0, 2), source).toEqual([0, 0]);
    expect(second.stdout).toContain('The local AEP received nothing new: every event was already in the ledger from an earlier run.');
  }, 60_000);

  it('prints the same facts as JSON with --json', () => {
    const cwd = tempDir('xdmf-demo-json-');
    const run = demo(cwd, '--json');
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as {
      exitCode: number;
      summaries: Array<{ source: string; read: number; sent: number }>;
      accepted: number;
      acceptedByDataset: Record<string, number>;
    };
    expect(result.summaries.map((s) => s.source)).toEqual(['ovo-feedback', 'ovo-v2', 'crisisworks', 'masstack']);
    const sent = result.summaries.reduce((a, s) => a + s.sent, 0);
    expect(result.accepted).toBe(sent);
    expect(Object.values(result.acceptedByDataset).reduce((a, n) => a + n, 0)).toBe(sent);
    expect(result.exitCode).toBe(3);
  }, 60_000);
});
