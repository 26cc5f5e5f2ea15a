// The XDM schema is compiled by AJV once per run, not per source, unit or event: a run over two sources and
// several units each compiles it once (and once more, lazily, for the all-errors explanation of invalid events).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildConfig } from '../../src/config/load.js';
import { runConnector } from '../../src/core/run.js';
import { silentLogger } from '../../src/log.js';
import { tempDir } from '../helpers/temp.js';

const XDM_SCHEMA_ID = 'urn:xdm-feedback:schemas:message-feedback:short';
const dir = tempDir('xdmf-compile-');

/** OVO unified records, all outcomes (Pending → sent, Delivered → delivered). */
function ovo(count: number, prefix: string): string {
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify({
      commId: `${prefix}-${i}`,
      customer: { customerId: String(300000 + i) },
      status: i % 2 ? 'Delivered' : 'Pending',
      channel: i % 2 ? 'Email' : 'SMS',
      metadata: { eventId: `${prefix}-${i}-fb`, traceToken: `t-${i}`, createdAt: Date.UTC(2024, 4, 1, 0, i % 60) },
    }),
  ).join('\n') + '\n';
}

describe('XDM validation', () => {
  afterEach(() => vi.restoreAllMocks());

  it('compiles the XDM schema once per run, whatever the number of sources, units and events', async () => {
    writeFileSync(join(dir, 'a.ndjson'), ovo(1300, 'a')); // three units of up to 500
    writeFileSync(join(dir, 'b.ndjson'), ovo(1100, 'b'));
    const config = buildConfig(
      {
        state: join(dir, 'state.db'),
        sources: [
          { type: 'ovo-feedback', id: 'a', files: ['./a.ndjson'] },
          { type: 'ovo-feedback', id: 'b', files: ['./b.ndjson'] },
        ],
        sink: { type: 'file', path: join(dir, 'out.ndjson') },
      },
      { baseDir: dir },
    );
    const compile = vi.spyOn(Ajv.prototype, 'compile');
    const xdmCompiles = () => compile.mock.calls.filter(([schema]) => (schema as { $id?: string }).$id === XDM_SCHEMA_ID).length;

    const result = await runConnector(config, { command: 'sync', log: silentLogger });
    expect(result.exitCode).toBe(0);
    expect(result.summaries.map((s) => s.sent)).toEqual([1300, 1100]);
    expect(xdmCompiles()).toBe(1);

    // The next run compiles it again, once.
    writeFileSync(join(dir, 'a.ndjson'), ovo(1300, 'a') + ovo(600, 'a2'));
    await runConnector(config, { command: 'sync', log: silentLogger });
    expect(xdmCompiles()).toBe(2);
  });
});
