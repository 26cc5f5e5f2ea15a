// The worked example of docs/mapping.md: a fictional AcmeSMS NDJSON feed added with a mapping file and no code.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { MapResult } from '../../src/core/types.js';
import { loadMapping, validateMapping, validateMappingFile } from '../../src/mapping/index.js';
import { createSource } from '../../src/sources/index.js';
import { createValidator } from '../../src/validate/index.js';
import { builtPath } from '../helpers/built.js';
import { decodedOnly, drain, testContext } from '../helpers/source-context.js';
import { tempDir } from './helpers.js';

const EXAMPLE = join(import.meta.dirname, '..', 'fixtures', 'mappings', 'acme-sms');
const MAPPING = join(EXAMPLE, 'acme-sms.mapping.json');
const EXPECTED = join(EXAMPLE, 'acme-sms.expected.json');

async function mapExample(): Promise<MapResult[]> {
  const source = createSource({ type: 'ndjson', name: 'acme-sms', files: ['acme-sms.ndjson'], mapping: MAPPING }, { baseDir: EXAMPLE });
  const items = await drain(source, testContext());
  await source.close?.();
  const mapper = loadMapping(MAPPING, { source: 'acme-sms' });
  return decodedOnly(items).map((item) => (item.kind === 'record' ? mapper.map(item.record) : { kind: 'invalid', reason: item.reason }));
}

describe('the AcmeSMS example', () => {
  test('its mapping file is valid', () => {
    expect(validateMappingFile(MAPPING)).toEqual([]);
  });

  test('the mapping shown in docs/mapping.md is valid too', () => {
    const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'mapping.md'), 'utf8');
    const block = /\*\*2\. Write the mapping\*\*[\s\S]*?```json\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(block).toBeDefined();
    expect(validateMapping(JSON.parse(block!), EXAMPLE)).toEqual([]);
  });

  test('its sample feed maps to the expected results, every event valid XDM', async () => {
    const results = await mapExample();
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(EXPECTED, `${JSON.stringify(results, null, 2)}\n`);
    expect(results).toEqual(JSON.parse(readFileSync(EXPECTED, 'utf8')));
    const validator = createValidator();
    for (const r of results) if (r.kind === 'event') expect(validator.validate(r.mapped.event)).toBeNull();
    expect(results.map((r) => (r.kind === 'event' ? r.mapped.outcome.status : r.kind))).toEqual([
      'skip', 'sent', 'delivered', 'delay', 'delay', 'bounce', 'bounce', 'denylist', 'click', 'unsubscribe', 'bounce', 'invalid',
    ]);
  });

  test('the unknown AcmeSMS error code is counted as a classifier fallback', async () => {
    const source = createSource({ type: 'ndjson', name: 'acme-sms', files: ['acme-sms.ndjson'], mapping: MAPPING }, { baseDir: EXAMPLE });
    const items = await drain(source, testContext());
    const mapper = loadMapping(MAPPING);
    for (const item of items) if (item.kind === 'record') mapper.map(item.record);
    expect(mapper.stats?.()).toEqual({ 'classifier.acme-errors.fallback': 1, 'classifier.acme-errors.fallback.E999': 1 });
  });

  const cli = existsSync(join(process.cwd(), 'dist', 'src', 'cli', 'main.js')) ? test : test.skip;

  cli('the documented preview and sync commands work on it', () => {
    const dir = tempDir();
    cpSync(EXAMPLE, dir, { recursive: true });
    const main = builtPath('src/cli/main.js');
    // Run from the example's folder, as the docs do (the file sink's path is taken relative to the working directory).
    const preview = spawnSync(process.execPath, [main, 'preview', '--config', 'xdm-feedback.yaml', '-n', '12', '--json'], { encoding: 'utf8', cwd: dir });
    expect(preview.status, preview.stderr).toBe(3); // the last line has an unknown status
    const rows = JSON.parse(preview.stdout) as Array<{ verdict: string }>;
    expect(rows.map((r) => r.verdict)).toEqual(['skip', ...Array<string>(10).fill('valid'), 'unmappable']);

    const sync = spawnSync(process.execPath, [main, 'sync', '--config', 'xdm-feedback.yaml'], { encoding: 'utf8', cwd: dir });
    expect(sync.status, sync.stderr).toBe(3); // completed, one dead letter
    const sent = readFileSync(join(dir, 'out', 'acme-sms.xdm.ndjson'), 'utf8').trim().split('\n');
    expect(sent).toHaveLength(10);
  });
});
