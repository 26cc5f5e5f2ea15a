import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildConfig, readConfigFile } from '../../src/config/load.js';
import { REQUIRED_FIELD_GROUPS } from '../../src/schema-pull/index.js';
import { batchSinkConfig } from '../../src/ops/via.js';

const example = join(process.cwd(), 'examples', 'xdm-feedback.yaml');
const text = readFileSync(example, 'utf8');
const saved = process.env.ADOBE_CLIENT_SECRET;

beforeAll(() => {
  process.env.ADOBE_CLIENT_SECRET = 'example-secret';
});
afterAll(() => {
  if (saved === undefined) delete process.env.ADOBE_CLIENT_SECRET;
  else process.env.ADOBE_CLIENT_SECRET = saved;
});

/** The commented-out `# sink:` alternatives of the example, uncommented. */
function commentedSinks(): unknown[] {
  const blocks: string[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (line !== '# sink:') return;
    const body = ['sink:'];
    for (let j = i + 1; j < lines.length && lines[j]!.startsWith('#   '); j++) body.push(lines[j]!.slice(2));
    blocks.push(body.join('\n'));
  });
  return blocks.map((b) => (parse(b) as { sink: unknown }).sink);
}

describe('examples/xdm-feedback.yaml', () => {
  it('is a valid configuration as shipped', () => {
    const config = readConfigFile(example);
    expect(config.sink.type).toBe('adobe-streaming');
    expect(config.sources.map((s) => s.type)).toEqual(['ovo-feedback', 'crisisworks', 'masstack']);
    expect(config.adobe).toMatchObject({ orgId: '1234567890ABCDEF12345678@AdobeOrg', sandbox: 'prod', platformUrl: 'https://platform.adobe.io' });
    expect(config.schedule).toEqual({ cron: '*/15 * * * *', timezone: 'UTC' });
    expect(batchSinkConfig(config)).toMatchObject({ type: 'adobe-batch', datasetId: '66a1f0c2b3d4e5f60718293a' });
  });

  it('documents alternative sinks that are valid once uncommented', () => {
    const sinks = commentedSinks();
    expect(sinks.map((s) => (s as { type: string }).type)).toEqual(['adobe-batch', 'file']);
    const data = parse(text) as Record<string, unknown>;
    for (const sink of sinks) {
      expect(() => buildConfig({ ...data, sink }, { file: example, baseDir: join(process.cwd(), 'examples') })).not.toThrow();
    }
  });
});

describe('docs/adobe-setup.md', () => {
  const doc = readFileSync(join(process.cwd(), 'docs', 'adobe-setup.md'), 'utf8');

  it('names every field group the connector checks for, by title and $id', () => {
    for (const group of REQUIRED_FIELD_GROUPS) {
      expect(doc).toContain(group.title);
      expect(doc).toContain(group.id);
    }
  });

  it('links the example configuration', () => {
    expect(doc).toContain('](../examples/xdm-feedback.yaml)');
  });
});
