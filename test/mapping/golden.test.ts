// Golden cases: every status of every seed platform, input record → expected MapResult, and every event XDM-valid.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { JsonObject } from '../../src/core/types.js';
import { compileMappingDocument, loadMapping, type MappingDocument, type MappingOptions } from '../../src/mapping/index.js';
import { createValidator } from '../../src/validate/index.js';

const ROOT = join(import.meta.dirname, '..', '..');
const GOLDEN = join(ROOT, 'test', 'fixtures', 'golden');
const SOURCES = ['ovo-feedback', 'ovo-v2', 'crisisworks', 'masstack'] as const;
/** Set UPDATE_GOLDEN=1 to (re)write missing or changed expectations; review the diff before committing. */
const UPDATE = process.env.UPDATE_GOLDEN === '1';

const validator = createValidator();
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as JsonObject;

function casesOf(source: string): string[] {
  return readdirSync(join(GOLDEN, source))
    .filter((f) => f.endsWith('.input.json'))
    .map((f) => f.slice(0, -'.input.json'.length))
    .sort();
}

function optionsOf(source: string, name: string): MappingOptions {
  const path = join(GOLDEN, source, `${name}.options.json`);
  return existsSync(path) ? (readJson(path) as MappingOptions) : {};
}

/** A copy of the mapping whose every status entry is a skip naming its key: tells which status a record hits. */
function statusProbe(source: string) {
  const doc = JSON.parse(readFileSync(join(ROOT, 'mappings', `${source}.json`), 'utf8')) as MappingDocument;
  const statuses = Object.fromEntries(Object.keys(doc.statuses).map((k) => [k, { feedbackStatus: 'skip' as const, why: `«${k}»` }]));
  return compileMappingDocument({ ...doc, statuses, xdm: undefined }, {}, join(ROOT, 'mappings'));
}

for (const source of SOURCES) {
  describe(`golden cases of ${source}`, () => {
    const cases = casesOf(source);

    test.each(cases)(`%s maps to its expected result, and an emitted event is valid XDM`, (name) => {
      const input = readJson(join(GOLDEN, source, `${name}.input.json`));
      const mapper = loadMapping(join(ROOT, 'mappings', `${source}.json`), optionsOf(source, name));
      const result = mapper.map(structuredClone(input));
      const expectedPath = join(GOLDEN, source, `${name}.xdm.json`);
      if (UPDATE) writeFileSync(expectedPath, `${JSON.stringify(result, null, 2)}\n`);
      expect(result).toEqual(readJson(expectedPath));
      if (name.startsWith('invalid-')) expect(result.kind).toBe('invalid');
      if (result.kind === 'event') expect(validator.validate(result.mapped.event)).toBeNull();
    });

    test('the cases cover every status of the mapping file', () => {
      const probe = statusProbe(source);
      const hit = new Set<string>();
      for (const name of cases) {
        const r = probe.map(readJson(join(GOLDEN, source, `${name}.input.json`)));
        const key = r.kind === 'skip' ? /«(.*)»/.exec(r.reason)?.[1] : undefined;
        if (key) hit.add(key);
      }
      const doc = readJson(join(ROOT, 'mappings', `${source}.json`)) as unknown as MappingDocument;
      expect(Object.keys(doc.statuses).filter((k) => !hit.has(k))).toEqual([]);
    });

    test('the cases include a missing required field, an unknown status and a bogus time', () => {
      const reasons = cases
        .filter((n) => n.startsWith('invalid-'))
        .map((n) => (readJson(join(GOLDEN, source, `${n}.xdm.json`)) as { reason: string }).reason);
      expect(reasons.some((r) => r.startsWith('missing '))).toBe(true);
      expect(reasons.some((r) => r.startsWith('unknown status '))).toBe(true);
      expect(reasons.some((r) => r.startsWith('bad time '))).toBe(true);
    });
  });
}
