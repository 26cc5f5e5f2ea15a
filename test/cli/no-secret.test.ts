// Commands that only read the state or the input (status, dlq list/show/export/prune, report, preview, validate)
// work without the Adobe client secret; the ones that call Adobe still refuse to start without it (exit 2).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAepLocal } from '../../src/aep-local/index.js';
import type { AepLocal } from '../../src/aep-local/types.js';
import { builtPath } from '../helpers/built.js';
import { tempDir } from '../helpers/temp.js';
import { makeCli, ovoRecords, type Cli } from '../ops/cli-harness.js';

const root = tempDir('xdmf-no-secret-');
let aep: AepLocal;
let cli: Cli;

/** The built CLI with the test's config and an environment without ADOBE_CLIENT_SECRET. */
function withoutSecret(args: string[]) {
  const { ADOBE_CLIENT_SECRET: _gone, ...env } = process.env;
  const run = spawnSync(process.execPath, [builtPath('src/cli/main.js'), '--config', cli.config, '--log-level', 'warn', ...args], { cwd: cli.dir, env, encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

beforeAll(async () => {
  aep = await startAepLocal();
  cli = makeCli(join(root, 'cli'), aep, ovoRecords(20) + 'not json\n');
  const first = await cli.run(['sync']); // with the secret: fills the state, one dead letter
  expect(first.code, first.stderr).toBe(3);
});
afterAll(async () => {
  await aep?.close();
});

describe('without ADOBE_CLIENT_SECRET', () => {
  it.each([
    [['status']],
    [['dlq', 'list']],
    [['dlq', 'show', '1']],
    [['dlq', 'export', '--out', 'dead.ndjson']],
    [['dlq', 'prune', '--older-than', '30', '--dry-run']],
    [['report', '--html', 'report.html']],
  ])('%j reads the state and exits 0', (args) => {
    const run = withoutSecret(args);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });

  it('preview and validate read and map the input, exiting by their verdicts', () => {
    const preview = withoutSecret(['preview', '-n', '3', '--json']);
    expect(preview.code, preview.stderr).toBe(0);
    expect(JSON.parse(preview.stdout)).toHaveLength(3);
    expect(withoutSecret(['sync', '--dry-run', 'dry.ndjson']).code).toBe(2); // a dry run still checks the whole config
    expect(existsSync(join(cli.dir, 'report.html'))).toBe(true);
    const validate = withoutSecret(['validate', 'report.html']);
    expect(validate.code).toBe(3); // not NDJSON of events: every line invalid, but no complaint about the secret
    expect(validate.stdout).not.toMatch(/secret/);
  });

  it.each([[['sync']], [['dlq', 'replay']], [['schema', 'pull']], [['backfill', '--from', '2024-05-01', '--to', '2024-06-01']]])(
    '%j, which calls Adobe, refuses to start and names the variable (exit 2)',
    (args) => {
      const run = withoutSecret(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/adobe: the client secret is missing; set the environment variable ADOBE_CLIENT_SECRET/);
    },
  );
});
