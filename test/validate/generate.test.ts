import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  generateMessageFeedbackSchema,
  loadSourceSchemas,
  MESSAGE_FEEDBACK_PARTS,
} from '../../src/validate/generate.js';
import { loadDefaultSchema } from '../../src/validate/index.js';
import { ROOT, SOURCE_DIR } from './fixtures.js';

const committedText = readFileSync(join(ROOT, 'xdm-schemas/message-feedback.schema.json'), 'utf8');

function filesBelow(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesBelow(path) : [path];
  });
}

describe('the generated message-feedback schema', () => {
  it('is exactly what the generator produces from xdm-schemas/source (regenerated in memory)', () => {
    const regenerated = generateMessageFeedbackSchema(SOURCE_DIR);
    expect(JSON.parse(committedText)).toEqual(JSON.parse(JSON.stringify(regenerated)));
    expect(committedText).toBe(canonicalJson(regenerated));
  });

  it('is the schema loadDefaultSchema returns', () => {
    expect(loadDefaultSchema()).toEqual(JSON.parse(committedText));
  });

  it('is deterministic: sorted keys, two-space indent and a trailing newline', () => {
    const a = canonicalJson(generateMessageFeedbackSchema(SOURCE_DIR));
    const b = canonicalJson(generateMessageFeedbackSchema(SOURCE_DIR));
    expect(a).toBe(b);
    expect(a.endsWith('}\n')).toBe(true);
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: 0 } })).toBe('{\n  "a": {\n    "c": 0,\n    "d": [\n      2,\n      1\n    ]\n  },\n  "b": 1\n}\n');
  });

  it('places every field group under _experience.customerJourneyManagement and keeps the required fields', () => {
    const schema = loadDefaultSchema() as any;
    expect(schema.required).toEqual(expect.arrayContaining(['_id', 'timestamp', '_experience']));
    const cjm = schema.properties._experience.properties.customerJourneyManagement;
    expect(Object.keys(cjm.properties)).toEqual(
      expect.arrayContaining([
        'messageDeliveryfeedback',
        'messageExecution',
        'messageProfile',
        'emailChannelContext',
        'smsChannelContext',
        'pushChannelContext',
        'messageInteraction',
      ]),
    );
    expect(cjm.required).toEqual(expect.arrayContaining(['messageExecution', 'messageProfile']));
    expect(cjm.properties.messageExecution.required).toEqual(['messageExecutionID']);
    expect(cjm.properties.messageProfile.required).toEqual(['channel']);
    expect(cjm.properties.messageProfile.properties.channel.required).toEqual(['_id']);
    expect(schema.properties._id.format).toBe('uri-reference');
    expect(schema.properties.timestamp.format).toBe('date-time');
    expect(schema.additionalProperties).toBe(false);
  });
});

describe('the official source files', () => {
  it('hold every schema of the composition and the whole $ref closure', () => {
    const byId = loadSourceSchemas(SOURCE_DIR);
    for (const id of MESSAGE_FEEDBACK_PARTS) expect(byId.has(id), id).toBe(true);
    const refs = new Set<string>();
    (function collect(node: unknown): void {
      if (Array.isArray(node)) node.forEach(collect);
      else if (node && typeof node === 'object') {
        for (const [k, v] of Object.entries(node)) {
          if (k === '$ref' && typeof v === 'string' && !v.startsWith('#')) refs.add(v.split('#')[0] ?? v);
          collect(v);
        }
      }
    })([...byId.values()]);
    for (const ref of refs) expect(byId.has(ref), ref).toBe(true);
  });

  it('are exactly the files listed in SOURCE.md, which records repository, commit and licence', () => {
    const sourceMd = readFileSync(join(SOURCE_DIR, 'SOURCE.md'), 'utf8');
    expect(sourceMd).toContain('adobe/xdm');
    expect(sourceMd).toContain('4a4fc5f8dd175cd81f2419b85130a6fc25053890');
    expect(sourceMd).toContain('CC BY 4.0');
    const listed = [...sourceMd.matchAll(/^- `([^`]+\.json)`$/gm)].map((m) => m[1]).sort();
    const present = filesBelow(SOURCE_DIR)
      .map((p) => relative(SOURCE_DIR, p))
      .filter((p) => p.endsWith('.json'))
      .sort();
    expect(listed).toEqual(present);
  });
});
