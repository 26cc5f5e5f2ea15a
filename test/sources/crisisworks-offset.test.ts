// Crisisworks CSV checkpoints carry the byte offset after the row: a resumed read starts there instead of re-parsing
// the file, old row-only checkpoints still resume, and the offsets are file bytes also for windows-1252 exports.
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { SourceItem } from '../../src/core/types.js';
import { drain, records, testContext, undecodable } from '../helpers/source-context.js';
import { CRISISWORKS_HEADER, crisisworksFiles } from '../helpers/crisisworks-files.js';

const { csv, source } = crisisworksFiles('xdmf-cw-offset-');
const HEADER = CRISISWORKS_HEADER;
const at = (item: SourceItem) => JSON.parse(item.position.offset) as { row: number; offset?: number; line?: number; fingerprint: unknown };
const ids = (items: SourceItem[]) => records(items).map((r) => r['Delivery ID']);
/** A checkpoint map holding `offset` for one file, as a state file would. */
const checkpointAt = (path: string, offset: string) => new Map([[path, offset]]);

/** A CRLF export with a BOM, quoted cells holding CRLF and LF line breaks, delimiters and quotes, and blank lines. */
function trickyRows(count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const reason = i % 3 === 0 ? `"Mailbox full\r\nretry ${i}"` : i % 3 === 1 ? `"Line one\nline ""two"", ${i}"` : '';
    return `${i},"Flood warning, ${i}",r${i}@example.com,Email,Failed,,${reason},2024-02-01 09:${String(i % 60).padStart(2, '0')}`;
  });
}

describe('crisisworks byte-offset checkpoints', () => {
  test('each checkpoint holds the row, the byte offset just after its line terminator and the line it ended on', async () => {
    const rows = trickyRows(7);
    const head = `\ufeff${HEADER}\r\n`;
    // A blank line between rows, and the last row without a line terminator.
    const body = rows.map((r, i) => (i === 3 ? `${r}\r\n\r\n` : i === rows.length - 1 ? r : `${r}\r\n`));
    const path = csv(head + body.join(''));
    const items = await drain(source(path), testContext());
    expect(undecodable(items)).toEqual([]);
    // After the row's own terminator: the blank line after row 4 belongs to the next row's stretch.
    const rowEnd = (i: number) => Buffer.byteLength(head + body.slice(0, i).join('') + rows[i]! + (i === rows.length - 1 ? '' : '\r\n'));
    expect(items.map((i) => ({ row: at(i).row, offset: at(i).offset }))).toEqual(rows.map((_, i) => ({ row: i + 1, offset: rowEnd(i) })));
    const lines = items.map((i) => at(i).line);
    expect(lines.every((l, k) => typeof l === 'number' && (k === 0 || l > lines[k - 1]!))).toBe(true);
    expect(at(items.at(-1)!).offset).toBe(readFileSync(path).length);
  });

  test('resuming from the middle of a CRLF export with quoted multi-line cells gives exactly the remaining rows once', async () => {
    const rows = trickyRows(40);
    const path = csv(`\ufeff${HEADER}\r\n${rows.join('\r\n')}\r\n`);
    const full = await drain(source(path), testContext());
    for (const cut of [1, 2, 3, 17, 39, 40]) {
      const ctx = testContext();
      const first = await drain(source(path), ctx, cut);
      const rest = await drain(source(path), testContext({ checkpoints: ctx.checkpoints }));
      expect([...first, ...rest]).toEqual(full);
    }
  });

  test('a resumed read starts at the offset: rows before it are not parsed again', async () => {
    const rows = Array.from({ length: 300 }, (_, i) => `${1000 + i},Notice,a${i}@example.com,Email,Sent,,,2024-02-01 09:00`);
    const path = csv(`${HEADER}\n${rows.join('\n')}\n`);
    const ctx = testContext();
    const first = await drain(source(path), ctx, 250);
    expect(at(first.at(-1)!)).toMatchObject({ row: 250, offset: expect.any(Number) });
    // Same size and same first 4096 bytes, but rows 200-210 blanked out: a read that re-parsed the file and skipped
    // 250 rows would now skip into the unread part.
    const bytes = readFileSync(path);
    const from = bytes.indexOf(`\n${1000 + 199},`) + 1;
    const to = bytes.indexOf(`\n${1000 + 210},`) + 1;
    expect(from).toBeGreaterThan(4096);
    bytes.fill('\n', from, to);
    writeFileSync(path, bytes);
    const rest = await drain(source(path), testContext({ checkpoints: ctx.checkpoints }));
    expect(ids(rest)).toEqual(rows.slice(250).map((_, i) => String(1250 + i)));
    expect(at(rest[0]!).row).toBe(251);
  });

  test('an old row-only checkpoint still resumes by skipping rows, and the read then records byte offsets', async () => {
    const rows = trickyRows(20);
    const path = csv(`${HEADER}\r\n${rows.join('\r\n')}\r\n`);
    const full = await drain(source(path), testContext());
    const { fingerprint } = at(full[9]!);
    const old = `{"fingerprint":${JSON.stringify(fingerprint)},"row":10}`;
    const ctx = testContext({ checkpoints: checkpointAt(path, old) });
    const rest = await drain(source(path), ctx);
    expect(rest).toEqual(full.slice(10));
    expect(at(rest[0]!)).toMatchObject({ row: 11, offset: at(full[10]!).offset });
  });

  test('row and line numbers of dead letters after a resume are those of a full read', async () => {
    const path = csv(
      `sep=;\r\nDelivery ID;Status;Updated\r\n1;Sent;2024-02-01 09:00\r\n2;"two\nlines";2024-02-01 09:01\r\n\r\n3;Sent\r\n4;Sent;2024-02-01 09:03;extra\r\n5;Sent;2024-02-01 09:04\r\n`,
    );
    const full = await drain(source(path), testContext());
    expect(undecodable(full).map((u) => u.reason)).toEqual([
      'row 3 (line 7): 2 fields where the header has 3',
      'row 4 (line 8): 4 fields where the header has 3',
    ]);
    for (const cut of [1, 2, 3]) {
      const ctx = testContext();
      await drain(source(path), ctx, cut);
      expect(await drain(source(path), testContext({ checkpoints: ctx.checkpoints }))).toEqual(full.slice(cut));
    }
  });

  test('an unclosed quote at the end is checkpointed at the end of the file; rows appended later are read', async () => {
    const path = csv(`${HEADER}\n1,A,a@example.com,Email,Sent,,,2024-02-01 09:00\n2,"never closed,b@example.com,Email,Sent\n`);
    const ctx = testContext();
    const first = await drain(source(path), ctx);
    expect(undecodable(first).map((u) => u.reason)).toEqual([expect.stringMatching(/^row 2 .*Quote Not Closed/)]);
    expect(at(first.at(-1)!)).toMatchObject({ row: 2, offset: readFileSync(path).length });
    expect(await drain(source(path), testContext({ checkpoints: ctx.checkpoints }))).toEqual([]);
    appendFileSync(path, '3,C,c@example.com,Email,Sent,,,2024-02-01 09:02\n');
    const more = await drain(source(path), ctx);
    expect(ids(more)).toEqual(['3']);
    expect(at(more[0]!).row).toBe(3);
  });

  test('rows appended after a full read are read alone and numbered on; a shrunk file is read from the start', async () => {
    const path = csv(`${HEADER}\r\n1,A,a@example.com,Email,Sent,,,2024-02-01 09:00\r\n`);
    const ctx = testContext();
    await drain(source(path), ctx);
    appendFileSync(path, '2,B,b@example.com,Email,Sent,,,2024-02-01 09:01\r\n3,C,c@example.com,Email,Sent,,,2024-02-01 09:02');
    const more = await drain(source(path), ctx);
    expect(ids(more)).toEqual(['2', '3']);
    expect(more.map((i) => at(i).row)).toEqual([2, 3]);
    expect(at(more.at(-1)!).offset).toBe(readFileSync(path).length);
    writeFileSync(path, `${HEADER}\r\n9,Z,z@example.com,Email,Sent,,,2024-02-02 09:00\r\n`);
    expect(ids(await drain(source(path), ctx))).toEqual(['9']);
  });

  test('a windows-1252 export checkpoints file bytes and resumes to the same records as a full read', async () => {
    // 0x80 is the euro sign, 0x93/0x94 curly quotes, 0xe9 é: one byte each in the file, more in UTF-8.
    const cp = (s: string) => Buffer.from(s, 'latin1');
    const rows = Array.from({ length: 12 }, (_, i) =>
      Buffer.concat([cp(`${i},Caf`), Buffer.from([0xe9]), cp(` ${i},x${i}@example.com,Email,Failed,,"Fee `), Buffer.from([0x80]), cp(`5\r\n`), Buffer.from([0x93]), cp('ok'), Buffer.from([0x94]), cp(`",2024-02-01 09:00\r\n`)]),
    );
    const head = cp(`${HEADER}\r\n`);
    const path = csv(Buffer.concat([head, ...rows]));
    const full = await drain(source(path, { encoding: 'windows-1252' }), testContext());
    expect(records(full)[0]).toMatchObject({ Communication: 'Café 0', Reason: 'Fee €5\r\n\u201cok\u201d' });
    expect(full[0]!.raw).toBe(`${HEADER}\r\n0,Café 0,x0@example.com,Email,Failed,,"Fee €5\r\n\u201cok\u201d",2024-02-01 09:00`);
    let offset = head.length;
    expect(full.map((i) => at(i).offset)).toEqual(rows.map((r) => (offset += r.length)));
    for (const cut of [1, 5, 11]) {
      const ctx = testContext();
      await drain(source(path, { encoding: 'windows-1252' }), ctx, cut);
      expect(await drain(source(path, { encoding: 'windows-1252' }), testContext({ checkpoints: ctx.checkpoints }))).toEqual(full.slice(cut));
    }
  });

  test('a UTF-16 export (decoded by csv-parse after its BOM) keeps row-only checkpoints and resumes by row', async () => {
    const rows = Array.from({ length: 6 }, (_, i) => `${i},Sent,2024-02-01 09:0${i}`);
    const path = csv(Buffer.from(`\ufeffDelivery ID,Status,Updated\r\n${rows.join('\r\n')}\r\n`, 'utf16le'));
    const ctx = testContext();
    const first = await drain(source(path), ctx, 2);
    expect(at(first[1]!)).toEqual({ fingerprint: expect.anything(), row: 2 });
    expect(ids(await drain(source(path), testContext({ checkpoints: ctx.checkpoints })))).toEqual(['2', '3', '4', '5']);
  });

  test('a resume across the reader chunk boundary of a large export gives every row once', async () => {
    const rows = trickyRows(15000);
    const path = csv(`${HEADER}\r\n${rows.join('\r\n')}\r\n`);
    expect(readFileSync(path).length).toBeGreaterThan(1024 * 1024);
    const ctx = testContext();
    const first = await drain(source(path), ctx, 11000);
    const rest = await drain(source(path), testContext({ checkpoints: ctx.checkpoints }));
    expect([...ids(first), ...ids(rest)]).toEqual(rows.map((_, i) => String(i)));
  });

  test('property: for any export and any cut, the read so far and the resumed read make up the full read', async () => {
    const cell = fc.oneof(
      fc.constantFrom('', 'plain', 'a,b', 'say "hi"', 'two\r\nlines', 'two\nlines', 'é ü', '  '),
      fc.string({ maxLength: 6 }),
    );
    const quote = (c: string) => (/[",\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.array(cell, { minLength: 1, maxLength: 4 }), fc.boolean()), { minLength: 1, maxLength: 12 }),
        fc.constantFrom('\n', '\r\n'),
        fc.boolean(),
        fc.nat(),
        async (rowSpecs, eol, finalEol, cutSeed) => {
          const lines = rowSpecs.map(([cells, blankAfter], i) => `${i},S,${cells.map(quote).join(',')}${blankAfter ? eol : ''}`);
          const path = csv(`Delivery ID,Status,Updated,a,b,c,d\n`.replace('\n', eol) + lines.join(eol) + (finalEol ? eol : ''));
          const full = await drain(source(path), testContext());
          const cut = full.length === 0 ? 0 : cutSeed % (full.length + 1);
          const ctx = testContext();
          const first = await drain(source(path), ctx, cut);
          const rest = await drain(source(path), testContext({ checkpoints: ctx.checkpoints }));
          expect([...first, ...rest]).toEqual(full);
        },
      ),
      { numRuns: 60 },
    );
  });
});
