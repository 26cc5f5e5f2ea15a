// `backfill` through the built CLI: --dry-run writes the envelopes and leaves the state and Adobe untouched; on a
// terminal a progress bar with percentage, rate and ETA is drawn (under a pseudo-terminal from `script`).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAepLocal } from '../../src/aep-local/index.js';
import type { AepLocal } from '../../src/aep-local/types.js';
import { builtPath } from '../helpers/built.js';
import { tempDir } from '../helpers/temp.js';
import { jsonOf, makeCli, ovoRecords, type Cli } from './cli-harness.js';

const root = tempDir('xdmf-backfill-cli-');
const window = ['backfill', '--from', '2024-05-01', '--to', '2024-06-01'];
const hasScript = spawnSync('script', ['--version']).status === 0;

let aep: AepLocal;
beforeAll(async () => {
  aep = await startAepLocal();
});
afterAll(async () => {
  await aep?.close();
});

const ledgerCount = (cli: Cli) => {
  if (!existsSync(cli.state)) return 0;
  const db = new Database(cli.state, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM ledger').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('backfill --dry-run', () => {
  it('writes the exact envelopes to the file, sends nothing and moves no checkpoint; the real backfill then sends everything', async () => {
    const cli = makeCli(join(root, 'dry'), aep, ovoRecords(60, { prefix: 'dry' }));
    aep.reset();
    const dry = await cli.run([...window, '--dry-run', 'window.ndjson', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(jsonOf<{ sink: string; summaries: Array<{ read: number; sent: number }> }>(dry)).toMatchObject({ sink: 'file', summaries: [{ read: 60, sent: 60 }] });
    const lines = readFileSync(join(cli.dir, 'window.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { header: Record<string, unknown>; body: { xdmEntity: { _id: string } } });
    expect(lines).toHaveLength(60);
    expect(lines[0]!.header).toMatchObject({ flowId: aep.flowId, imsOrgId: aep.credentials.imsOrgId });
    expect(new Set(lines.map((l) => l.body.xdmEntity._id)).size).toBe(60);
    expect(aep.accepted()).toHaveLength(0);
    expect(ledgerCount(cli)).toBe(0);

    const real = await cli.run([...window, '--json']);
    expect(real.code, real.stderr).toBe(0);
    expect(jsonOf<{ summaries: Array<{ read: number; sent: number }> }>(real).summaries[0]).toMatchObject({ read: 60, sent: 60 });
    expect(new Set(aep.acceptedIds())).toEqual(new Set(lines.map((l) => l.body.xdmEntity._id)));
    expect(ledgerCount(cli)).toBe(60);
  });

  it('writes xdm-feedback-dry-run.ndjson when no file is named', async () => {
    const cli = makeCli(join(root, 'dry-default'), aep, ovoRecords(5, { prefix: 'dd' }));
    const dry = await cli.run([...window, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(readFileSync(join(cli.dir, 'xdm-feedback-dry-run.ndjson'), 'utf8').trim().split('\n')).toHaveLength(5);
  });
});

describe.skipIf(!hasScript)('backfill progress on a terminal', () => {
  it('draws a progress bar with percentage, bytes, records, rate and ETA', async () => {
    const cli = makeCli(join(root, 'tty'), aep, ovoRecords(1200, { prefix: 'tty' }));
    const command = [process.execPath, builtPath('src/cli/main.js'), '--config', cli.config, '--log-level', 'warn', ...window].map((a) => `'${a}'`).join(' ');
    const run = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('script', ['-qec', command, '/dev/null'], {
        cwd: cli.dir,
        env: { ...process.env, ADOBE_CLIENT_SECRET: aep.credentials.clientSecret },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      child.on('close', (code) => resolve({ code, out }));
    });
    expect(run.code, run.out).toBe(0);
    // cli-progress redraws the line in place; its last drawing shows the whole input read.
    expect(run.out).toMatch(/[█░]+ 100% \| [\d.]+ KiB of [\d.]+ KiB \| 1200 records, \d+ rec\/s \| sent 1200, dead 0 \| ETA \d+s/);
    expect(run.out).toContain('\x1b[?25l'); // hides the cursor while drawing: a real terminal bar, not log lines
    expect(run.out).not.toMatch(/"msg":"progress"/);
  }, 30_000);
});
