// The CLI surface: every command's --help is complete, and every command that prints results prints valid JSON
// with --json (the built CLI as a child process, the local AEP imitation over loopback, a real SQLite state).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAepLocal } from '../../src/aep-local/index.js';
import type { AepLocal } from '../../src/aep-local/types.js';
import { buildProgram } from '../../src/cli/program.js';
import { builtPath } from '../helpers/built.js';
import { tempDir } from '../helpers/temp.js';
import { jsonOf, makeCli, ovoRecords, type Cli } from '../ops/cli-harness.js';

/** Every command and subcommand, as the words that name it (`['dlq', 'list']`). */
function commands(cmd: Command, path: string[] = []): Array<{ path: string[]; command: Command }> {
  return cmd.commands.flatMap((sub) => [{ path: [...path, sub.name()], command: sub }, ...commands(sub, [...path, sub.name()])]);
}

const all = commands(buildProgram());
const GLOBAL_FLAGS = ['--config <file>', '--state <file>', '--log-level <level>', '--json'];

describe('--help', () => {
  it('covers the commands the README lists', () => {
    const names = all.map((c) => c.path.join(' '));
    for (const name of ['sync', 'schedule', 'backfill', 'preview', 'validate', 'status', 'dlq list', 'dlq show', 'dlq replay', 'dlq export', 'dlq prune', 'report', 'schema pull', 'aep-local', 'demo']) {
      expect(names).toContain(name);
    }
  });

  it.each(all.map((c) => [c.path.join(' '), c.command] as const))('%s: a description, every option explained, the global options listed', (_name, command) => {
    const help = command.helpInformation();
    expect(command.description().length).toBeGreaterThan(20);
    expect(help).toContain(command.description().slice(0, 40).split(/\s+/).slice(0, 3).join(' '));
    for (const option of command.options) expect(option.description, `${option.flags} has no description`).not.toBe('');
    expect(help).toContain('Global Options:');
    for (const flag of GLOBAL_FLAGS) expect(help).toContain(flag);
    // Commander prints a default of `false` for flags declared with one; it tells the reader nothing.
    expect(help).not.toContain('(default: false)');
  });

  it('the built CLI prints help and exits 0 for the program and a nested command; an unknown command exits 2', () => {
    const entry = builtPath('src/cli/main.js');
    const top = spawnSync(process.execPath, [entry, '--help'], { encoding: 'utf8' });
    expect(top.status).toBe(0);
    expect(top.stdout).toMatch(/^Usage: xdm-feedback \[options\] \[command\]/);
    expect(top.stdout).toMatch(/Exit codes: 0 ok, 1 fatal error, 2 bad configuration or arguments, 3 finished with dead letters\./);
    const nested = spawnSync(process.execPath, [entry, 'dlq', 'replay', '--help'], { encoding: 'utf8' });
    expect(nested.status).toBe(0);
    expect(nested.stdout).toMatch(/^Usage: xdm-feedback dlq replay \[options\]/);
    expect(nested.stdout).toContain('Global Options:');
    const unknown = spawnSync(process.execPath, [entry, 'synk'], { encoding: 'utf8' });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'synk'/);
    // No command at all is a usage error too: the help goes to stderr, exit 2.
    const bare = spawnSync(process.execPath, [entry], { encoding: 'utf8' });
    expect(bare.status).toBe(2);
    expect(bare.stderr).toMatch(/^Usage: xdm-feedback \[options\] \[command\]/);
    expect(spawnSync(process.execPath, [entry, 'dlq'], { encoding: 'utf8' }).status).toBe(2);
  });

  it('with --json, argument errors and a missing command are JSON on stdout too (exit 2), without the help', () => {
    const entry = builtPath('src/cli/main.js');
    const cases: Array<[string[], string]> = [
      [['sync', '--bogus', '--json'], "unknown option '--bogus'"],
      [['report', '--json'], "required option '--html <file>' not specified"],
      [['synk', '--json'], "unknown command 'synk' (Did you mean sync?)"],
      [['--json'], 'no command given; see --help for the commands'],
      [['dlq', '--json'], 'no command given; see --help for the commands'],
    ];
    for (const [args, error] of cases) {
      const run = spawnSync(process.execPath, [entry, ...args], { encoding: 'utf8' });
      expect(run.status, args.join(' ')).toBe(2);
      expect(JSON.parse(run.stdout), args.join(' ')).toEqual({ error, exitCode: 2 });
      expect(run.stderr, args.join(' ')).not.toContain('Usage:');
    }
  });
});

describe('--json on every command that prints results', () => {
  const root = tempDir('xdmf-json-');
  let aep: AepLocal;
  let cli: Cli;
  /** Runs the command with --json, checks the exit code and returns the parsed document. */
  const json = async <T = Record<string, unknown>>(args: string[], code = 0): Promise<T> => {
    const run = await cli.run([...args, '--json']);
    expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(code);
    return jsonOf<T>(run);
  };

  beforeAll(async () => {
    aep = await startAepLocal({ batchProcessingDelayMs: 20 });
    // 20 good records and one line that is not JSON (a dead letter at stage decode).
    cli = makeCli(join(root, 'cli'), aep, ovoRecords(20) + '{"commId": broken\n');
  });
  afterAll(async () => {
    await aep?.close();
  });

  it('preview, sync --dry-run and validate', async () => {
    const rows = await json<Array<{ verdict: string; xdm?: { _id: string } }>>(['preview', '-n', '3']);
    expect(rows).toHaveLength(3);
    expect(rows.every((r) => r.verdict === 'valid' && typeof r.xdm?._id === 'string')).toBe(true);

    const dry = await json<{ exitCode: number; summaries: Array<{ read: number; sent: number }> }>(['sync', '--dry-run', 'dry.ndjson'], 3);
    expect(dry.exitCode).toBe(3);
    expect(dry.summaries[0]).toMatchObject({ read: 21, sent: 20 });
    expect(existsSync(join(cli.dir, 'dry.ndjson'))).toBe(true);

    expect(await json(['validate', 'dry.ndjson'])).toEqual({ events: 20, invalid: 0, verdicts: [] });
    writeFileSync(join(cli.dir, 'bad.ndjson'), '{"_id":"x"}\nnot json\n');
    const bad = await json<{ events: number; invalid: number; verdicts: Array<{ line: number; errors: string[] }> }>(['validate', 'bad.ndjson'], 3);
    expect(bad).toMatchObject({ events: 2, invalid: 2 });
    expect(bad.verdicts.map((v) => v.line)).toEqual([1, 2]);
    expect(await json(['validate', 'missing.ndjson'], 2)).toEqual({ error: 'validate: no file at missing.ndjson', exitCode: 2 });
  });

  it('sync, status, dlq list/show/export/replay/prune, backfill and report', async () => {
    const sync = await json<{ exitCode: number; runId: number; summaries: Array<{ sent: number }> }>(['sync'], 3);
    expect(sync).toMatchObject({ exitCode: 3, summaries: [{ sent: 20 }] });

    const status = await json<{ runs: Array<{ id: number }>; ledger: { total: number }; deadLetters: { open: number } }>(['status']);
    expect(status.runs.map((r) => r.id)).toContain(sync.runId);
    expect(status.ledger.total).toBe(20);
    expect(status.deadLetters.open).toBe(1);

    const list = await json<{ total: number; deadLetters: Array<{ id: number; stage: string }> }>(['dlq', 'list']);
    expect(list.total).toBe(1);
    expect(list.deadLetters[0]!.stage).toBe('decode');
    const id = String(list.deadLetters[0]!.id);
    expect(await json(['dlq', 'show', id])).toMatchObject({ id: Number(id), stage: 'decode', raw: '{"commId": broken' });
    expect(await json(['dlq', 'show', '999999'], 2)).toMatchObject({ exitCode: 2, error: expect.stringContaining('no dead letter with this id') });
    expect(await json(['dlq', 'export', '--out', 'dead.csv', '--format', 'csv'])).toMatchObject({ written: 1, format: 'csv' });
    expect(readFileSync(join(cli.dir, 'dead.csv'), 'utf8')).toContain('broken');
    expect(await json(['dlq', 'replay'], 3)).toMatchObject({ replayed: 1, exitCode: 3 }); // still not JSON: fails again
    expect(await json(['dlq', 'prune', '--older-than', '30', '--dry-run'])).toMatchObject({ dryRun: true });

    const backfill = await json<{ sink: string; summaries: Array<{ read: number; alreadySent: number }> }>(['backfill', '--from', '2024-05-01', '--to', '2024-06-01'], 3);
    expect(backfill.sink).toBe('adobe-streaming');
    expect(backfill.summaries[0]).toMatchObject({ read: 21, alreadySent: 20 });

    const report = await json<{ file: string; totals: Record<string, number> }>(['report', '--html', 'report.html']);
    expect(existsSync(report.file)).toBe(true);
  });

  it('schema pull', async () => {
    const pulled = await json<{ schemas: Array<{ cachedAt: string }> }>(['schema', 'pull', '--out', join(cli.dir, 'tenant.json')]);
    expect(pulled.schemas.length).toBeGreaterThan(0);
    expect(existsSync(join(cli.dir, 'tenant.json'))).toBe(true);
  });

  it('errors are JSON too: a missing configuration and a bad argument exit 2 with {error, exitCode}', async () => {
    const entry = builtPath('src/cli/main.js');
    const noConfig = spawnSync(process.execPath, [entry, 'sync', '--json'], { cwd: root, encoding: 'utf8' });
    expect(noConfig.status).toBe(2);
    expect(JSON.parse(noConfig.stdout)).toEqual({ error: expect.stringMatching(/^no configuration: pass --config <file>/), exitCode: 2 });
    expect(await json(['preview', '-n', 'all'], 2)).toEqual({ error: '--count all: give a whole number of records, 1 or more', exitCode: 2 });
    expect(await json(['backfill', '--from', '2024-06-01', '--to', '2024-05-01'], 2)).toMatchObject({ exitCode: 2 });
  });
});
