import { appendFileSync, writeFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { createSource } from '../../src/sources/index.js';
import { drain, memoryLogger, records, testContext, undecodable } from '../helpers/source-context.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('xdmf-ndjson-');
let n = 0;
function ndjson(lines: Array<string | Buffer>, name = `feed-${n++}.ndjson`): string {
  const path = join(dir, name);
  writeFileSync(path, Buffer.concat(lines.map((l) => Buffer.concat([Buffer.isBuffer(l) ? l : Buffer.from(l), Buffer.from('\n')]))));
  return path;
}
const line = (i: number): string => JSON.stringify({ id: `m-${i}`, status: 'Delivered', at: 1714550400000 + i });

describe('the ndjson source', () => {
  test('reading half, then resuming from the checkpoint, yields the rest exactly once', async () => {
    const path = ndjson(Array.from({ length: 1200 }, (_, i) => line(i)));
    const source = createSource({ type: 'ndjson', name: 'acme', files: [path], mapping: 'm.json' }, { baseDir: dir });
    const ctx = testContext();
    const first = await drain(source, ctx, 700);
    expect(first).toHaveLength(700);
    const rest = await drain(source, testContext({ checkpoints: ctx.checkpoints }));
    const ids = [...records(first), ...records(rest)].map((r) => r.id);
    expect(ids).toEqual(Array.from({ length: 1200 }, (_, i) => `m-${i}`));
    expect(await drain(source, testContext({ checkpoints: ctx.checkpoints }))).toEqual([]);
  });

  test('items come in batches of at most 500 and each carries the position after it', async () => {
    const path = ndjson(Array.from({ length: 1100 }, (_, i) => line(i)));
    const source = createSource({ type: 'ndjson', name: 'acme', files: [path], mapping: 'm.json' }, { baseDir: dir });
    const sizes: number[] = [];
    let last = '';
    for await (const batch of source.read(testContext())) {
      sizes.push(batch.length);
      last = batch.at(-1)!.position.offset;
    }
    expect(sizes).toEqual([500, 500, 100]);
    expect(source.name).toBe('acme');
    const size = Array.from({ length: 1100 }, (_, i) => line(i).length + 1).reduce((a, b) => a + b, 0);
    expect(JSON.parse(last)).toMatchObject({ offset: size, line: 1100 });
  });

  test('lines appended after a run are read by the next run, and nothing before them again', async () => {
    const path = ndjson([line(1), line(2)]);
    const source = createSource({ type: 'ndjson', name: 'acme', files: [path], mapping: 'm.json' }, { baseDir: dir });
    const ctx = testContext();
    expect(records(await drain(source, ctx)).map((r) => r.id)).toEqual(['m-1', 'm-2']);
    appendFileSync(path, `${line(3)}\n`);
    expect(records(await drain(source, testContext({ checkpoints: ctx.checkpoints }))).map((r) => r.id)).toEqual(['m-3']);
  });

  test('a file that was replaced or truncated since the checkpoint is read again from the start', async () => {
    const path = ndjson(Array.from({ length: 5 }, (_, i) => line(i)));
    const source = createSource({ type: 'ndjson', name: 'acme', files: [path], mapping: 'm.json' }, { baseDir: dir });
    const ctx = testContext();
    await drain(source, ctx);
    writeFileSync(path, `${line(7)}\n`); // shrank
    const { log, lines } = memoryLogger();
    expect(records(await drain(source, testContext({ checkpoints: ctx.checkpoints, log }))).map((r) => r.id)).toEqual(['m-7']);
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, stream: path, msg: expect.stringMatching(/file changed since its checkpoint \(the file shrank from \d+ to \d+ bytes\); reading it again from the start/) }));
    writeFileSync(path, `${JSON.stringify({ id: 'other', pad: 'x'.repeat(300) })}\n${line(8)}\n`); // grew, other first bytes
    expect(records(await drain(source, testContext({ checkpoints: ctx.checkpoints }))).map((r) => r.id)).toEqual(['other', 'm-8']);
  });

  test('malformed lines become undecodable items with the line number and a reason; good lines around them are kept', async () => {
    const path = ndjson([
      line(1),
      '{"id":"m-2","status":',
      '[1,2]',
      '"just a string"',
      'not json',
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
      `{"id":"big","pad":"${'p'.repeat(300)}"}`,
      '',
      line(9),
    ]);
    const source = createSource({ type: 'ndjson', name: 'acme', files: [path], mapping: 'm.json', maxLineBytes: 200 }, { baseDir: dir });
    const items = await drain(source, testContext());
    expect(records(items).map((r) => r.id)).toEqual(['m-1', 'm-9']);
    const bad = undecodable(items);
    expect(bad.map((b) => b.reason)).toEqual([
      'line 2: Unexpected end of JSON input',
      'line 3: not a JSON object (found an array)',
      'line 4: not a JSON object (found a string)',
      expect.stringMatching(/^line 5: Unexpected token/),
      'line 6: not valid UTF-8 text',
      expect.stringMatching(/^line 7: line is 321 bytes long, over the 200-byte limit/),
    ]);
    expect(bad[0]!.raw).toBe('{"id":"m-2","status":');
  });

  test('globs pick files in a stable order and each file is its own stream', async () => {
    const sub = join(dir, 'glob');
    mkdirSync(join(sub, 'deeper'), { recursive: true });
    writeFileSync(join(sub, 'b.ndjson'), `${line(2)}\n`);
    writeFileSync(join(sub, 'a.ndjson'), `${line(1)}\n`);
    writeFileSync(join(sub, 'deeper', 'c.ndjson'), `${line(3)}\n`);
    writeFileSync(join(sub, 'skip.txt'), 'x\n');
    const flat = await drain(createSource({ type: 'ndjson', name: 'acme', files: ['glob/*.ndjson'], mapping: 'm' }, { baseDir: dir }), testContext());
    expect(records(flat).map((r) => r.id)).toEqual(['m-1', 'm-2']);
    expect(new Set(flat.map((i) => i.position.stream))).toEqual(new Set([join(sub, 'a.ndjson'), join(sub, 'b.ndjson')]));
    const deep = await drain(createSource({ type: 'ndjson', name: 'acme', files: ['glob/**/*.ndjson'], mapping: 'm' }, { baseDir: dir }), testContext());
    expect(records(deep).map((r) => r.id)).toEqual(['m-1', 'm-2', 'm-3']);
  });

  test('a named file that does not exist is a configuration error naming it', async () => {
    const source = createSource({ type: 'ndjson', name: 'acme', files: ['missing.ndjson'], mapping: 'm' }, { baseDir: dir });
    await expect(drain(source, testContext())).rejects.toThrow(ConfigError);
    await expect(drain(source, testContext())).rejects.toThrow(/missing\.ndjson" does not exist/);
  });

  test('an aborted signal stops the read between batches', async () => {
    const path = ndjson(Array.from({ length: 3000 }, (_, i) => line(i)));
    const controller = new AbortController();
    const source = createSource({ type: 'ndjson', name: 'acme', files: [path], mapping: 'm' }, { baseDir: dir });
    let seen = 0;
    for await (const batch of source.read(testContext({ signal: controller.signal }))) {
      seen += batch.length;
      controller.abort();
    }
    expect(seen).toBe(500);
  });

  test('decodeRaw decodes a dead letter the way the line was decoded', () => {
    const source = createSource({ type: 'ovo-feedback', files: ['x'] }, { baseDir: dir });
    expect(source.decodeRaw!('{"commId":"c-1","channel":{"com.ovoenergy.comms.model.Channel":"SMS"}}')).toEqual({ commId: 'c-1', channel: 'SMS' });
    expect(source.decodeRaw!('{"commId":')).toBe('Unexpected end of JSON input');
  });
});
