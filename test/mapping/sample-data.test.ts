// The bundled sample data of every seed platform, read by its real source, maps to valid XDM through the shipped mappings.
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { loadMapping } from '../../src/mapping/index.js';
import { createSource, type SourceConfig } from '../../src/sources/index.js';
import { createValidator } from '../../src/validate/index.js';
import { drain, testContext } from '../helpers/source-context.js';

const ROOT = join(import.meta.dirname, '..', '..');
const validator = createValidator();

const SAMPLES: Array<{ config: SourceConfig }> = [
  { config: { type: 'ovo-feedback', files: ['examples/data/ovo-feedback.ndjson'] } },
  { config: { type: 'ovo-v2', files: ['examples/data/ovo-v2.ndjson'] } },
  { config: { type: 'crisisworks', files: ['examples/data/crisisworks-report.csv'] } },
  { config: { type: 'masstack', files: ['examples/data/masstack-export.json'] } },
];

describe('the bundled sample data', () => {
  test.each(SAMPLES)('of $config.type maps to valid XDM events and skips only', async ({ config }) => {
    const source = createSource(config, { baseDir: ROOT });
    const items = await drain(source, testContext());
    await source.close?.();
    const mapper = loadMapping(join(ROOT, 'mappings', `${config.type}.json`), { source: config.type });
    const problems: string[] = [];
    const statuses = new Set<string>();
    let events = 0;
    for (const item of items) {
      if (item.kind !== 'record') continue;
      const result = mapper.map(item.record);
      if (result.kind === 'invalid') problems.push(`${item.raw.slice(0, 80)} → ${result.reason}`);
      if (result.kind === 'event') {
        events++;
        statuses.add(result.mapped.outcome.status);
        const errors = validator.validate(result.mapped.event);
        if (errors) problems.push(`${result.mapped.sourceEventId}: ${errors.join('; ')}`);
      }
    }
    expect(problems).toEqual([]);
    expect(events).toBeGreaterThan(10);
    expect(statuses.size).toBeGreaterThan(3);
  });
});
