import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { readLines, type Line } from '../../src/sources/shared/line-reader.js';
import { tempDir } from '../helpers/temp.js';

const dir = tempDir('xdmf-lines-');
let n = 0;
function file(content: string | Buffer): string {
  const path = join(dir, `f${n++}.txt`);
  writeFileSync(path, content);
  return path;
}

async function all(path: string, options: Parameters<typeof readLines>[1] = {}): Promise<Line[]> {
  const out: Line[] = [];
  for await (const chunk of readLines(path, options)) out.push(...chunk);
  return out;
}

describe('the line reader', () => {
  test('it splits LF and CRLF lines, skips blank ones and reports the byte offset after each line', async () => {
    const path = file('a\r\n\r\nbb\n   \ncc');
    const lines = await all(path);
    expect(lines.map((l) => [l.lineNo, l.text, l.end])).toEqual([
      [1, 'a', 3],
      [3, 'bb', 8],
      [5, 'cc', 14],
    ]);
  });

  test('lines spanning many small chunks come out whole, with multi-byte characters intact', async () => {
    const text = `${'é'.repeat(50)}\n${'x'.repeat(300)}\n€€€\n`;
    const lines = await all(file(text), { chunkBytes: 7 });
    expect(lines.map((l) => l.text)).toEqual(['é'.repeat(50), 'x'.repeat(300), '€€€']);
    expect(lines.at(-1)!.end).toBe(Buffer.byteLength(text));
  });

  test('resuming at a byte offset continues with the right line numbers', async () => {
    const path = file('one\ntwo\nthree\n');
    const lines = await all(path, { start: 4, startLine: 2 });
    expect(lines.map((l) => [l.lineNo, l.text])).toEqual([
      [2, 'two'],
      [3, 'three'],
    ]);
  });

  test('a line with invalid UTF-8 is reported as a problem, and its neighbours are fine', async () => {
    const path = file(Buffer.concat([Buffer.from('ok\n'), Buffer.from([0x61, 0xc3, 0x28, 0x62]), Buffer.from('\nfine\n')]));
    const lines = await all(path);
    expect(lines.map((l) => l.problem)).toEqual([undefined, 'not valid UTF-8 text', undefined]);
    expect(lines[2]!.text).toBe('fine');
  });

  test('over-long lines are reported with their size and only a prefix is kept, whether or not they fit a chunk', async () => {
    const long = 'y'.repeat(5000);
    const path = file(`short\n${long}\nafter\n${'z'.repeat(150)}`);
    for (const chunkBytes of [64, 1 << 20]) {
      const lines = await all(path, { maxLineBytes: 100, chunkBytes });
      expect(lines.map((l) => l.text.slice(0, 5))).toEqual(['short', 'yyyyy', 'after', 'zzzzz']);
      expect(lines[1]!.problem).toContain('5000 bytes long, over the 100-byte limit');
      expect(lines[1]!.text.length).toBeLessThan(1100);
      expect(lines[1]!.end).toBe(6 + 5001);
      expect(lines[3]!.problem).toContain('150 bytes long');
      expect(lines[3]!.end).toBe(6 + 5001 + 6 + 150);
    }
  });

  test('an empty file yields nothing', async () => {
    expect(await all(file(''))).toEqual([]);
  });
});
