// The status table in docs/mapping.md is generated from the shipped mapping files and must not go stale.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BEGIN_MARKER, END_MARKER, renderStatusTable, SHIPPED_MAPPINGS, staleFiles, withStatusTable } from '../../scripts/status-table.js';
import { builtPath } from '../helpers/built.js';
import { tempDir } from '../helpers/temp.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DOC = join(ROOT, 'docs', 'mapping.md');

/** The generated part of a file: the text between the markers. */
function committedTable(text: string): string {
  const begin = text.indexOf(BEGIN_MARKER);
  const end = text.indexOf(END_MARKER);
  expect(begin, 'the begin marker').toBeGreaterThanOrEqual(0);
  expect(end, 'the end marker').toBeGreaterThan(begin);
  return text.slice(begin + BEGIN_MARKER.length, end).trim() + '\n';
}

/** Rows of one mapping's section: first cell (the status, possibly with its case) → the other cells. */
function rowsOf(table: string, source: string): Map<string, string[]> {
  const section = table.split('#### ').find((s) => s.startsWith(source + ' '))!;
  const rows = new Map<string, string[]>();
  for (const line of section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| status'))) {
    const cells = line.slice(2, -2).split(/(?<!\\) \| /).map((c) => c.trim());
    rows.set(cells[0]!, cells.slice(1));
  }
  return rows;
}

describe('the generated status table', () => {
  it('in docs/mapping.md is exactly what scripts/status-table.ts makes from the mapping files', () => {
    const expected = renderStatusTable(ROOT);
    // On failure: run `npm run build && node dist/scripts/status-table.js` and commit docs/mapping.md.
    expect(committedTable(readFileSync(DOC, 'utf8'))).toBe(expected);
    expect(staleFiles(ROOT)).toEqual([]);
  });

  it('has a row for every status of every seed platform, and one for each of its cases', () => {
    const table = renderStatusTable(ROOT);
    for (const name of SHIPPED_MAPPINGS) {
      const mapping = JSON.parse(readFileSync(join(ROOT, 'mappings', `${name}.json`), 'utf8')) as { statuses: Record<string, { cases?: unknown[] }> };
      const rows = rowsOf(table, name);
      for (const [status, entry] of Object.entries(mapping.statuses)) {
        expect(rows.has(`\`${status}\``), `${name} ${status}`).toBe(true);
        const caseRows = [...rows.keys()].filter((k) => k.startsWith(`↳ \`${status}\` when `));
        expect(caseRows, `${name} ${status} cases`).toHaveLength(entry.cases?.length ?? 0);
      }
    }
  });

  it('says what each status becomes: eventType, feedbackStatus or interaction, failure type and category, exclusion', () => {
    const table = renderStatusTable(ROOT);
    const masstack = rowsOf(table, 'masstack');
    expect(masstack.get('`DEFERRED`')!.slice(0, 4)).toEqual(['message.feedback', '`delay`', 'Soft', 'async']);
    expect(masstack.get('`DROPPED`')!.slice(0, 4)).toEqual(['message.feedback', '`denylist`', 'Hard', 'sync']);
    expect(masstack.get('`REGISTERED`')!.slice(0, 2)).toEqual(['not sent', '`skip`']);
    const ovo = rowsOf(table, 'ovo-feedback');
    expect(ovo.get('`Expired`')!.slice(0, 5)).toEqual(['message.feedback', '`exclude`', '', '', '`expired`']);
    expect(ovo.get('`Failed`')!.slice(0, 4)).toEqual(['message.feedback', '`error`; by code also `denylist`, `duplicate`', 'by `ovo-error-codes` code; unknown: Soft', 'sync']);
    expect(ovo.get('`email:Opened`')!.slice(0, 2)).toEqual(['message.tracking', 'interaction `open`']);
    const v2 = rowsOf(table, 'ovo-v2');
    expect(v2.get('`EmailProgressedV2:Bounced`')!.slice(0, 3)).toEqual(['message.feedback', '`bounce`; by code also `delay`', 'by `smtp` then `mailgun-severity` code; unknown: Hard']);
    const crisisworks = rowsOf(table, 'crisisworks');
    const complaint = [...crisisworks.entries()].find(([k]) => k.startsWith('↳ `Failed` when `Reason` matches'))!;
    expect(complaint[1].slice(0, 2)).toEqual(['message.tracking', 'interaction `spam_complaint`']);
  });

  it('goes stale when a mapping changes, and the script rewrites only what lies between the markers', () => {
    const root = tempDir('xdmf-status-table-');
    cpSync(join(ROOT, 'mappings'), join(root, 'mappings'), { recursive: true });
    mkdirSync(join(root, 'docs'));
    const doc = readFileSync(DOC, 'utf8');
    writeFileSync(join(root, 'docs', 'mapping.md'), doc);
    expect(staleFiles(root)).toEqual([]);

    const file = join(root, 'mappings', 'masstack.json');
    const mapping = JSON.parse(readFileSync(file, 'utf8')) as { statuses: Record<string, { feedbackStatus?: string; why?: string }> };
    mapping.statuses['REJECTED'] = { feedbackStatus: 'delay', why: 'changed' };
    writeFileSync(file, JSON.stringify(mapping));
    expect(staleFiles(root)).toEqual(['docs/mapping.md']);

    const updated = withStatusTable(doc, renderStatusTable(root))!;
    expect(rowsOf(committedTable(updated), 'masstack').get('`REJECTED`')!.slice(0, 2)).toEqual(['message.feedback', '`delay`']);
    const outside = (text: string) => [text.slice(0, text.indexOf(BEGIN_MARKER)), text.slice(text.indexOf(END_MARKER))];
    expect(outside(updated)).toEqual(outside(doc));
    expect(withStatusTable('no markers here', 'x')).toBeUndefined();
  });

  it('the built script checks the committed files and exits 0 when they are current', () => {
    const run = spawnSync(process.execPath, [builtPath('scripts/status-table.js'), '--check'], { encoding: 'utf8', cwd: ROOT });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
