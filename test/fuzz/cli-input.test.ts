/**
 * Fuzzed input through the built CLI into the local AEP imitation: a sync over seeded damaged OVO lines and a damaged
 * Crisisworks export exits 3, every line is accounted for, every dead letter has a readable reason, and a dlq list
 * shows them; nothing AEP accepted is invalid.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAepLocal } from '../../src/aep-local/index.js';
import type { AepLocal } from '../../src/aep-local/types.js';
import { createValidator } from '../../src/validate/index.js';
import { crashCli, deadLetters, jsonOf } from '../helpers/crash-harness.js';
import { tempDir } from '../helpers/temp.js';
import { readableProblem } from './harness.js';
import { applyEdits, damagedLine, edit, fileOf, lineDamage, randomLine } from './mutate.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SEED = 777;
const dir = tempDir('xdmf-fuzz-cli-');

interface RunJson {
  exitCode: number;
  summaries: Array<{ read: number; sent: number; skipped: number; alreadySent: number; deadLettered: Record<string, number> }>;
}

describe('fuzzed input through the CLI', () => {
  let aep: AepLocal;
  beforeAll(async () => {
    aep = await startAepLocal({ seed: SEED });
  });
  afterAll(async () => {
    await aep?.close();
  });

  it('OVO lines and a Crisisworks export, damaged every way: exit 3, each record settled, readable reasons, only valid events accepted', async () => {
    const samples = readFileSync(join(ROOT, 'examples/data/ovo-feedback.ndjson'), 'utf8')
      .split('\n')
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, never>];
        } catch {
          return [];
        }
      });
    const line = fc.oneof(
      { weight: 6, arbitrary: fc.tuple(fc.nat(), fc.array(edit, { maxLength: 2 }), lineDamage, fc.nat()).map(([i, edits, damage, cut]) => damagedLine(JSON.stringify(applyEdits(samples[i % samples.length]!, edits)), damage, cut)) },
      { weight: 1, arbitrary: randomLine },
    );
    const lines = fc.sample(line, { seed: SEED, numRuns: 400 });
    // Whole one-line records only (the sample also has multi-line quoted cells).
    const csvRows = readFileSync(join(ROOT, 'examples/data/crisisworks-report.csv'), 'utf8')
      .split(/\r?\n/)
      .filter((l) => l && (l.match(/"/g) ?? []).length % 2 === 0);
    const damagedRows = csvRows.slice(1).map((row, i) => (i % 4 === 0 ? row.split(',').slice(0, 3).join(',') : i % 4 === 1 ? `${row},extra,"cells` : i % 4 === 2 ? row.replace(/2024-05-\d\d/, '2024-02-30') : row));
    writeFileSync(join(dir, 'cw.csv'), [csvRows[0], ...damagedRows].join('\r\n') + '\r\n');

    const cli = crashCli(join(dir, 'run'), aep, '', {}, {
      sources: [
        { type: 'ovo-feedback', id: 'ovo', files: ['./fuzzed.ndjson'] },
        { type: 'crisisworks', id: 'cw', files: ['../cw.csv'] },
      ],
    });
    writeFileSync(join(cli.dir, 'fuzzed.ndjson'), fileOf(lines));
    const run = await cli.run(['sync', '--json']);
    expect(run.code, run.stderr).toBe(3);
    const result = jsonOf<RunJson>(run);
    expect(result.summaries).toHaveLength(2);
    let deadTotal = 0;
    let sentTotal = 0;
    for (const s of result.summaries) {
      const dead = Object.values(s.deadLettered).reduce((a, b) => a + b, 0);
      expect(s.sent + s.skipped + s.alreadySent + dead).toBe(s.read);
      deadTotal += dead;
      sentTotal += s.sent;
    }
    expect(result.summaries[0]!.read).toBe(lines.length);
    expect(deadTotal).toBeGreaterThan(50);

    const letters = deadLetters(cli.state);
    expect(letters).toHaveLength(deadTotal);
    for (const d of letters) expect(readableProblem(d.reason), d.reason.slice(0, 200)).toBeUndefined();
    const validator = createValidator();
    const accepted = aep.accepted();
    expect(accepted).toHaveLength(sentTotal);
    for (const a of accepted) expect(validator.validate(a.event as never)).toBeNull();

    // An unclosed quote may join the rows after it into one record (CSV allows multi-line cells); the joined rows
    // are then in that record's dead letter, never silently gone: every row is sent, skipped or in a dead letter.
    const sentProfiles = new Set(accepted.map((a) => JSON.stringify(a.event).match(/"messageProfileID":"([^"]+)"/)?.[1]));
    for (const [i, row] of damagedRows.entries()) {
      const id = row.split(',')[0]!;
      const skipped = csvRows[i + 1]!.includes(',Pending,');
      const inDeadLetter = letters.some((d) => d.raw.includes(row.slice(0, 40)));
      expect(sentProfiles.has(id) || skipped || inDeadLetter, `row ${i + 1}: ${row}`).toBe(true);
    }

    const list = await cli.run(['dlq', 'list', '--json', '--limit', '1000']);
    expect(list.code, list.stderr).toBe(0);
    expect(jsonOf<{ total: number }>(list).total).toBe(deadTotal);
  }, 60_000);
});
