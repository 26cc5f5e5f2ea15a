// `status` and the backfill size estimate of a Crisisworks CSV export: its checkpoint has a byte offset next to the
// row, so the bytes left are known like an NDJSON file's; a row-only checkpoint of an older version still shows its row.
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/load.js';
import { runConnector } from '../../src/core/run.js';
import { silentLogger } from '../../src/log.js';
import { bytesRead, sourceFiles } from '../../src/ops/estimate.js';
import { buildStatus, openStateReadOnly } from '../../src/ops/status.js';
import { renderStatus } from '../../src/ops/status-text.js';
import { openDb } from '../../src/store/db.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('xdmf-status-csv-');

describe('status of a Crisisworks CSV export', () => {
  it('shows the bytes left to read, counts only the unread part for the estimate, and still reads old row-only checkpoints', async () => {
    const file = join(dir, 'report.csv');
    const sample = readFileSync('examples/data/crisisworks-report.csv', 'utf8').replace(/\r?\n/g, '\r\n');
    writeFileSync(file, sample);
    const config = buildConfig(
      { state: join(dir, 'state.db'), sources: [{ type: 'crisisworks', files: [file] }], sink: { type: 'file', path: join(dir, 'out.ndjson') } },
      { baseDir: dir },
    );
    const sync = async () => (await runConnector(config, { command: 'sync', log: silentLogger })).summaries[0];
    const status = async () => {
      const db = openStateReadOnly(config.state);
      try {
        return (await buildStatus(db, config.state, { config })).lag.find((l) => l.stream === file)!;
      } finally {
        db.close();
      }
    };
    const done = async () => {
      const db = openDb(config.state);
      try {
        return bytesRead(db, (await sourceFiles(config.sources, dir, (id) => id))!);
      } finally {
        db.close();
      }
    };

    const rows = (await sync())!.read;
    expect(rows).toBeGreaterThan(50);
    const size = statSync(file).size;
    const read = await status();
    expect(read.file).toMatchObject({ offset: size, size, bytesLeft: 0 });
    expect(read.position).toBe(`byte ${size}, row ${rows}`);
    expect(await done()).toBe(size);

    const added = '48999,Late notice,+61491570999,SMS,Delivered,,,2024-05-07 09:00\r\n';
    appendFileSync(file, added);
    expect((await status()).file).toMatchObject({ offset: size, bytesLeft: Buffer.byteLength(added) });
    expect(await done()).toBe(size);
    const db = openStateReadOnly(config.state);
    try {
      expect(renderStatus(await buildStatus(db, config.state, { config }))).toMatch(new RegExp(`report\\.csv\\s.*\\s${Buffer.byteLength(added)} B of `));
    } finally {
      db.close();
    }

    expect(await sync()).toMatchObject({ read: 1, sent: 1 });
    expect((await status()).file).toMatchObject({ offset: statSync(file).size, bytesLeft: 0 });

    // A checkpoint written before byte offsets were kept: the row is shown, the bytes left are unknown, and the
    // next sync resumes after that row.
    const rw = openDb(config.state);
    try {
      const { position } = rw.prepare('SELECT position FROM checkpoints WHERE stream = ?').get(file) as { position: string };
      const { fingerprint } = JSON.parse(position) as { fingerprint: unknown };
      rw.prepare('UPDATE checkpoints SET position = ? WHERE stream = ?').run(`{"fingerprint":${JSON.stringify(fingerprint)},"row":${rows - 2}}`, file);
    } finally {
      rw.close();
    }
    const old = await status();
    expect(old.position).toBe(`row ${rows - 2}`);
    expect(old.file?.bytesLeft).toBeUndefined();
    expect(await done()).toBe(0);
    expect(await sync()).toMatchObject({ read: 3 });
    expect((await status()).file).toMatchObject({ offset: statSync(file).size, bytesLeft: 0 });
  });
});
