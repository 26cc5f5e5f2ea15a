// Mapping-file checks: fixtures {mapping, expectError} in valid/ and invalid/, the shipped files, and load errors.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { loadMapping, validateMapping, validateMappingFile } from '../../src/mapping/index.js';
import { tempDir, writeFile } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'mappings');

interface Fixture {
  mapping: unknown;
  expectError?: string;
}

const fixtures = (['valid', 'invalid'] as const).flatMap((kind) =>
  readdirSync(join(FIXTURES, kind))
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ kind, name: f, fixture: JSON.parse(readFileSync(join(FIXTURES, kind, f), 'utf8')) as Fixture })),
);

describe('mapping fixtures', () => {
  test.each(fixtures)('$kind/$name is judged as expected', ({ kind, fixture }) => {
    const problems = validateMapping(fixture.mapping);
    if (kind === 'valid') {
      expect(fixture.expectError).toBeUndefined();
      expect(problems).toEqual([]);
    } else {
      expect(fixture.expectError).toBeTypeOf('string');
      expect(problems.join('\n')).toContain(fixture.expectError);
    }
  });
});

describe('shipped mapping files', () => {
  const files = readdirSync(join(ROOT, 'mappings')).filter((f) => f.endsWith('.json') && f !== 'mapping.schema.json');

  test('there is one for every seed platform', () => {
    expect(files.sort()).toEqual(['crisisworks.json', 'masstack.json', 'ovo-feedback.json', 'ovo-v2.json']);
  });

  test.each(files)('%s is valid', (file) => {
    expect(validateMappingFile(join(ROOT, 'mappings', file))).toEqual([]);
  });
});

describe('loading a mapping file', () => {
  test('a broken file fails with a ConfigError naming the file, the JSON path and the fix', () => {
    const dir = tempDir();
    const path = writeFile(dir, 'x.json', {
      source: 'x',
      fields: { sourceEventId: { '@path': 'id' }, status: { '@path': 's' }, time: { '@path': 't' }, messageId: { '@path': 'm' }, channel: 'email' },
      statuses: { Delivered: { feedbackStatus: 'deliverd' } },
    });
    let error: unknown;
    try {
      loadMapping(path);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/x\.json: \/statuses\/Delivered\/feedbackStatus: must be one of error, exclude, .* — use one of the XDM feedbackStatus values or "skip"/);
  });

  test('a file that is not JSON fails with a ConfigError saying so', () => {
    const dir = tempDir();
    const path = writeFile(dir, 'broken.json', '{ "source": ');
    expect(() => loadMapping(path)).toThrow(/broken\.json: not valid JSON/);
  });

  test('a missing file fails with a ConfigError naming it', () => {
    expect(() => loadMapping('/nonexistent/nowhere.json')).toThrow(ConfigError);
    expect(validateMappingFile('/nonexistent/nowhere.json')[0]).toMatch(/nowhere\.json: cannot read the file \(ENOENT\)/);
  });

  test('an unknown time zone is a ConfigError that names it', () => {
    expect(() => loadMapping(join(ROOT, 'mappings', 'crisisworks.json'), { timezone: 'Mars/Olympus' })).toThrow(/timezone "Mars\/Olympus" is not an IANA time zone/);
  });

  test('a classifiers/ folder next to the mapping is searched before the bundled classifiers', () => {
    const dir = tempDir();
    writeFile(dir, 'classifiers/smtp.json', { name: 'smtp', default: { type: 'soft', why: 'local override' } });
    const path = writeFile(dir, 'm.json', {
      source: 'm',
      fields: { sourceEventId: { '@path': 'id' }, status: { '@path': 's' }, time: { '@path': 't' }, messageId: { '@path': 'id' }, channel: 'email' },
      statuses: { Bounced: { feedbackStatus: 'bounce', failure: { classifier: 'smtp', reason: { '@path': 'r' } } } },
    });
    const result = loadMapping(path).map({ id: '1', s: 'Bounced', t: '2024-01-01T00:00:00Z', r: '550 5.1.1 unknown' });
    expect(result.kind).toBe('event');
    // The local smtp classifier has no extract patterns and no codes: the bundled one would have said Hard.
    expect(JSON.stringify(result)).toContain('"type":"Soft"');
  });

  test('a broken classifier file is reported with its own path', () => {
    const dir = tempDir();
    writeFile(dir, 'classifiers/acme.json', { name: 'acme', codes: { '1': { type: 'hard' } }, default: { why: 'x' } });
    const path = writeFile(dir, 'm.json', {
      source: 'm',
      fields: { sourceEventId: { '@path': 'id' }, status: { '@path': 's' }, time: { '@path': 't' }, messageId: { '@path': 'id' }, channel: 'email' },
      statuses: { Failed: { feedbackStatus: 'error', failure: { classifier: 'acme' } } },
    });
    expect(validateMappingFile(path).join('\n')).toMatch(/classifiers\/acme\.json: \/codes\/1: missing required key "why"/);
  });
});
