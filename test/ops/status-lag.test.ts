// `status` lag of a JSON array export (MasStack): fully read means 0 bytes left, although the reader checkpoints
// after the last element and the closing `]` follows; an element added after it is shown as left to read.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildConfig } from '../../src/config/load.js';
import { runConnector } from '../../src/core/run.js';
import { silentLogger } from '../../src/log.js';
import { buildStatus, openStateReadOnly } from '../../src/ops/status.js';
import { renderStatus } from '../../src/ops/status-text.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('xdmf-status-lag-');

const element = (i: number) => ({ id: `s-${i}`, channel: 'SMS', status: 'DELIVERED', statusTime: `2024-05-10T10:${String(i).padStart(2, '0')}:00Z`, terminatingNumber: '+34600000000' });

describe('status lag of a JSON array export', () => {
  it('shows nothing left once every element is read, and the bytes of an element added later', async () => {
    const file = join(dir, 'export.json');
    writeFileSync(file, JSON.stringify([element(1), element(2), element(3)], null, 2) + '\n');
    const config = buildConfig(
      { state: join(dir, 'state.db'), sources: [{ type: 'masstack', files: [file] }], sink: { type: 'file', path: join(dir, 'out.ndjson') } },
      { baseDir: dir },
    );
    expect((await runConnector(config, { command: 'sync', log: silentLogger })).summaries[0]).toMatchObject({ read: 3, sent: 3 });

    const status = async () => {
      const db = openStateReadOnly(config.state);
      try {
        return await buildStatus(db, config.state, { config });
      } finally {
        db.close();
      }
    };
    const read = (await status()).lag.find((l) => l.stream === file)!;
    expect(read.file!.size).toBeGreaterThan(read.file!.offset!); // the closing bracket is after the checkpoint …
    expect(read.file!.bytesLeft).toBe(0); // … and is not input left to read
    expect(renderStatus(await status())).toMatch(/export\.json\s.*\s0 B of /);

    // Another element before the closing bracket: those bytes are left to read.
    const text = readFileSync(file, 'utf8');
    const added = `,\n  ${JSON.stringify(element(4))}\n]\n`;
    writeFileSync(file, text.slice(0, text.lastIndexOf(']')).trimEnd() + added);
    const grown = (await status()).lag.find((l) => l.stream === file)!;
    expect(grown.file!.bytesLeft).toBeGreaterThan(JSON.stringify(element(4)).length);
  });
});
