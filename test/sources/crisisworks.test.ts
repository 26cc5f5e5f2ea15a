import { writeFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { createSource } from '../../src/sources/index.js';
import { drain, records, testContext, undecodable } from '../helpers/source-context.js';
import { CRISISWORKS_HEADER, crisisworksFiles } from '../helpers/crisisworks-files.js';

const { csv, source } = crisisworksFiles('xdmf-cw-');
const HEADER = CRISISWORKS_HEADER;

describe('the crisisworks source', () => {
  test('rows become records keyed by the canonical column names, empty cells omitted', async () => {
    const path = csv(`${HEADER}\n48213,Road closure update,+61491570001,SMS,Bounced Temporarily,,,2024-02-01 09:15\n`);
    const items = await drain(source(path), testContext());
    expect(records(items)).toEqual([
      {
        'Delivery ID': '48213',
        Communication: 'Road closure update',
        Recipient: '+61491570001',
        'Delivery Type': 'SMS',
        Status: 'Bounced Temporarily',
        Updated: '2024-02-01 09:15',
      },
    ]);
    expect(items[0]!.raw).toBe(`${HEADER}\n48213,Road closure update,+61491570001,SMS,Bounced Temporarily,,,2024-02-01 09:15`);
  });

  test('BOM, CRLF, quoted fields with commas, quotes and newlines, and blank lines are handled', async () => {
    const path = csv(
      `\ufeff${HEADER}\r\n1,"Flood warning, Example River",a@example.com,Email,Responded,"Need ""urgent"" help, 2 people",,2024-02-01 09:15\r\n\r\n2,Notice,b@example.com,Email,Failed,,"Mailbox full\r\nwill retry",2024-02-01 09:16:30\r\n`,
    );
    const items = await drain(source(path), testContext());
    expect(undecodable(items)).toEqual([]);
    expect(records(items)).toEqual([
      expect.objectContaining({ 'Delivery ID': '1', Communication: 'Flood warning, Example River', Response: 'Need "urgent" help, 2 people' }),
      expect.objectContaining({ 'Delivery ID': '2', Reason: 'Mailbox full\r\nwill retry', Updated: '2024-02-01 09:16:30' }),
    ]);
  });

  test('Excel-saved exports: a sep= line, semicolons, trailing empty columns and empty rows', async () => {
    const path = csv(
      `sep=;\r\nDelivery ID;Communication;Recipient;Delivery Type;Status;Response;Reason;Updated;;\r\n7;Boil water notice;+61491570007;SMS;Delivered;;;2024-02-01 10:00;;\r\n;;;;;;;;;\r\n8;Boil water notice;c@example.com;Email;Read;;;2024-02-01 10:05;;\r\n`,
    );
    const items = await drain(source(path), testContext());
    expect(undecodable(items)).toEqual([]);
    expect(records(items).map((r) => [r['Delivery ID'], r.Status])).toEqual([
      ['7', 'Delivered'],
      ['8', 'Read'],
    ]);
  });

  test('the delimiter is detected from the header line when there is no sep= line', async () => {
    const path = csv(`Delivery ID;Communication;Status;Updated\n9;A, B and C;Sent;2024-02-01 10:00\n`);
    expect(records(await drain(source(path), testContext()))).toEqual([
      { 'Delivery ID': '9', Communication: 'A, B and C', Status: 'Sent', Updated: '2024-02-01 10:00' },
    ]);
  });

  test('renamed columns are mapped onto the canonical names, matching case and spacing loosely', async () => {
    const path = csv(`id,message,to,type,STATUS,answer,why,last  updated,extra\n5,Alert,d@example.com,Email,Sent,,,2024-02-01 11:00,kept\n`);
    const items = await drain(
      source(path, { columns: { deliveryId: 'ID', communication: 'Message', recipient: 'To', deliveryType: 'Type', response: 'Answer', reason: 'Why', updated: 'Last Updated' } }),
      testContext(),
    );
    expect(records(items)).toEqual([
      { 'Delivery ID': '5', Communication: 'Alert', Recipient: 'd@example.com', 'Delivery Type': 'Email', Status: 'Sent', Updated: '2024-02-01 11:00', extra: 'kept' },
    ]);
  });

  test('missing required columns make every row undecodable, naming the missing and the found columns', async () => {
    const path = csv(`ID,Status,When\n1,Sent,2024-02-01\n2,Delivered,2024-02-01\n`);
    const bad = undecodable(await drain(source(path), testContext()));
    expect(bad).toHaveLength(2);
    expect(bad[0]!.reason).toBe(
      'row 1 (line 2): missing required columns "Delivery ID", "Updated"; found columns: "ID", "Status", "When" (set "columns" in the source configuration if the export names them differently)',
    );
  });

  test('rows with the wrong number of fields are undecodable with their row number; the rest are read', async () => {
    const path = csv(`${HEADER}\n1,A,a@example.com,Email,Sent,,,2024-02-01 09:00\n2,B,b@example.com,Email,Sent\n3,C,c@example.com,Email,Sent,,,2024-02-01 09:02,surplus\n4,D,d@example.com,Email,Sent,,,2024-02-01 09:03\n`);
    const items = await drain(source(path), testContext());
    expect(records(items).map((r) => r['Delivery ID'])).toEqual(['1', '4']);
    expect(undecodable(items).map((b) => b.reason)).toEqual(['row 2 (line 3): 5 fields where the header has 8', 'row 3 (line 4): 9 fields where the header has 8']);
  });

  test('an unclosed quote becomes an undecodable row, not a crash; stray quotes inside cells are literal', async () => {
    const path = csv(
      `${HEADER}\n1,He said "hi",a@example.com,Email,Sent,,,2024-02-01 09:00\n2,"B"x,b@example.com,Email,Sent,,,2024-02-01 09:01\n3,"never closed,c@example.com,Email,Sent,,,2024-02-01 09:02\n`,
    );
    const items = await drain(source(path), testContext());
    expect(records(items).map((r) => [r['Delivery ID'], r.Communication])).toEqual([
      ['1', 'He said "hi"'],
      ['2', '"B"x'],
    ]);
    expect(undecodable(items).map((b) => b.reason)).toEqual([expect.stringMatching(/^row 3.*Quote Not Closed/)]);
  });

  test('windows-1252 exports decode with encoding set; without it, the row says it is not UTF-8', async () => {
    const bytes = Buffer.concat([Buffer.from(`${HEADER}\n1,Caf`), Buffer.from([0xe9]), Buffer.from(' closed,a@example.com,Email,Sent,,,2024-02-01 09:00\n')]);
    const path = csv(bytes);
    expect(records(await drain(source(path, { encoding: 'windows-1252' }), testContext()))[0]!.Communication).toBe('Café closed');
    expect(undecodable(await drain(source(path), testContext()))[0]!.reason).toMatch(/not valid UTF-8 .*windows-1252/);
  });

  test('resuming from the checkpoint reads each row once; a new export under the same name is read again', async () => {
    const rows = Array.from({ length: 1100 }, (_, i) => `${i},A,a${i}@example.com,Email,Sent,,,2024-02-01 09:00`);
    const path = csv(`${HEADER}\n${rows.join('\n')}\n`);
    const ctx = testContext();
    const first = await drain(source(path), ctx, 600);
    const rest = await drain(source(path), testContext({ checkpoints: ctx.checkpoints }));
    expect([...records(first), ...records(rest)].map((r) => r['Delivery ID'])).toEqual(rows.map((_, i) => String(i)));
    expect(JSON.parse(first.at(-1)!.position.offset)).toMatchObject({ row: 600, fingerprint: { headBytes: 4096 } });
    expect(await drain(source(path), testContext({ checkpoints: ctx.checkpoints }))).toEqual([]);
    writeFileSync(path, `${HEADER}\n9999,New export,z@example.com,Email,Delivered,,,2024-02-02 09:00\n`);
    expect(records(await drain(source(path), testContext({ checkpoints: ctx.checkpoints }))).map((r) => r['Delivery ID'])).toEqual(['9999']);
  });

  test('decodeRaw decodes a dead letter (header line + row) back into the record', async () => {
    const path = csv(`sep=;\nDelivery ID;Status;Updated\n1;Sent;2024-02-01 09:00\n`);
    const s = source(path);
    const [item] = await drain(s, testContext());
    expect(s.decodeRaw!(item!.raw)).toEqual({ 'Delivery ID': '1', Status: 'Sent', Updated: '2024-02-01 09:00' });
    expect(s.decodeRaw!('Delivery ID;Status\n1;Sent')).toMatch(/missing required column "Updated"/);
  });

  test('the bundled sample report reads without a dead letter and covers every status', async () => {
    const items = await drain(createSource({ type: 'crisisworks', files: ['crisisworks-report.csv'] }, { baseDir: 'examples/data' }), testContext());
    expect(undecodable(items)).toEqual([]);
    const statuses = new Set(records(items).map((r) => r.Status));
    for (const s of ['Pending', 'Sent', 'Not Sent', 'Delivered', 'Bounced Temporarily', 'Failed', 'Read', 'Acknowledged', 'Responded', 'Opted-out']) {
      expect(statuses).toContain(s);
    }
    expect(new Set(records(items).map((r) => r['Delivery Type']))).toEqual(new Set(['Email', 'SMS']));
  });
});
