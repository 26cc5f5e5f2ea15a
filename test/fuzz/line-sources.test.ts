/**
 * Fuzzed NDJSON input for every line-based source (OVO unified and v2, a mapping-file-only ndjson feed, MasStack
 * exports) through the real source, mapping, history, validator, file sink and SQLite state: never a crash or a
 * hang; every line is read once and settled; every dead letter carries a readable reason.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadMapping } from '../../src/mapping/index.js';
import { createSource, type SourceConfig } from '../../src/sources/index.js';
import { tempDir } from '../helpers/temp.js';
import { checkProperty, expectSettled, settle } from './harness.js';
import { applyEdits, damagedLine, edit, fileOf, lineDamage, randomLine } from './mutate.js';

const ROOT = join(import.meta.dirname, '..', '..');
const SEED = 8675309;
const RUNS = process.env.SOAK === '1' ? 1000 : 100;
const dir = tempDir('xdmf-fuzz-lines-');

interface Case {
  name: string;
  config: (file: string) => SourceConfig;
  mapping: string;
  /** Mapping source name (part of every _id). */
  source: string;
  samples: Array<Record<string, never>>;
}

const linesOf = (path: string) =>
  readFileSync(join(ROOT, path), 'utf8')
    .split('\n')
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as Record<string, never>]; // the samples hold a few broken lines on purpose
      } catch {
        return [];
      }
    });

const CASES: Case[] = [
  {
    name: 'ovo-feedback',
    config: (file) => ({ type: 'ovo-feedback', files: [file] }),
    mapping: 'mappings/ovo-feedback.json',
    source: 'ovo-feedback',
    samples: linesOf('examples/data/ovo-feedback.ndjson'),
  },
  {
    name: 'ovo-v2',
    config: (file) => ({ type: 'ovo-v2', files: [file] }),
    mapping: 'mappings/ovo-v2.json',
    source: 'ovo-v2',
    samples: linesOf('examples/data/ovo-v2.ndjson'),
  },
  {
    name: 'ndjson (a feed added with a mapping file only)',
    config: (file) => ({ type: 'ndjson', name: 'acme-sms', files: [file], mapping: 'x' }) as SourceConfig,
    mapping: 'test/fixtures/mappings/acme-sms/acme-sms.mapping.json',
    source: 'acme-sms',
    samples: linesOf('test/fixtures/mappings/acme-sms/acme-sms.ndjson'),
  },
  {
    name: 'masstack (NDJSON export)',
    config: (file) => ({ type: 'masstack', files: [file] }),
    mapping: 'mappings/masstack.json',
    source: 'masstack',
    samples: JSON.parse(readFileSync(join(ROOT, 'examples/data/masstack-export.json'), 'utf8')) as Array<Record<string, never>>,
  },
];

/** Lines the line reader yields: not empty, not whitespace-only (spaces/tabs first). */
function nonBlank(lines: Buffer[]): number {
  return lines.filter((b) => {
    const t = b.toString('utf8').replace(/\r$/, '');
    if (t === '') return false;
    const first = t.charCodeAt(0);
    return !((first === 32 || first === 9) && t.trim() === '');
  }).length;
}

describe('fuzzed NDJSON lines through the real pipeline', () => {
  for (const c of CASES) {
    it(`${c.name}: mutated, truncated, invalid UTF-8, huge, deep and random lines are each settled, never a crash or a hang`, async () => {
      const mapper = loadMapping(join(ROOT, c.mapping), { source: c.source });
      const line = fc.oneof(
        { weight: 6, arbitrary: fc.tuple(fc.nat(), fc.array(edit, { maxLength: 3 }), lineDamage, fc.nat()).map(([i, edits, damage, cut]) => damagedLine(JSON.stringify(applyEdits(c.samples[i % c.samples.length]!, edits)), damage, cut)) },
        { weight: 1, arbitrary: randomLine },
      );
      let run = 0;
      let deadLettered = 0;
      let sent = 0;
      await checkProperty(
        fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 12 }), async (lines) => {
          const file = join(dir, `${c.source}-${run++}.ndjson`);
          // A MasStack export whose first character is "[" is a JSON array, not NDJSON: lead with a good line.
          if (c.source === 'masstack') lines = [Buffer.from(JSON.stringify(c.samples[1])), ...lines];
          writeFileSync(file, fileOf(lines));
          const source = createSource(c.config(file), { baseDir: dir });
          const result = await settle(source, mapper, c.source);
          expectSettled(result, nonBlank(lines));
          deadLettered += result.deadLetters.length;
          sent += result.sent.length;
        }),
        { seed: SEED, numRuns: RUNS },
      );
      // The generators really reach both outcomes.
      expect(deadLettered).toBeGreaterThan(RUNS / 2);
      expect(sent).toBeGreaterThan(RUNS / 2);
    }, 120_000);
  }
});

describe('a huge value quoted in a reason', () => {
  it('is cut in the middle: the reason stays a readable sentence with its hint, the raw line keeps the whole input', async () => {
    const status = 'x'.repeat(200_000);
    const file = join(dir, 'huge-status.ndjson');
    const record = { commId: 'c-1', status, channel: 'Email', customer: { customerId: '1' }, metadata: { eventId: 'e-1', traceToken: 't', createdAt: 1714552020000 } };
    writeFileSync(file, JSON.stringify(record) + '\n');
    const mapper = loadMapping(join(ROOT, 'mappings/ovo-feedback.json'), { source: 'ovo-feedback' });
    const result = await settle(createSource({ type: 'ovo-feedback', files: [file] }, { baseDir: dir }), mapper, 'ovo-feedback');
    expect(result.deadLetters).toHaveLength(1);
    const [letter] = result.deadLetters;
    expect(letter!.reason.length).toBeLessThanOrEqual(1000);
    expect(letter!.reason).toMatch(/^unknown status 'x+…\[\d+ characters cut\]…x+' for /);
    expect(letter!.raw).toBe(JSON.stringify(record));
  });
});
