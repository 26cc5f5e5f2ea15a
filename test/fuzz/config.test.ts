/**
 * Broken configuration files: random mutations of a valid YAML/JSON configuration (keys deleted, renamed, given
 * wrong types or out-of-range values; text truncated or mangled) are rejected with a ConfigError — exit code 2 from
 * the CLI — whose message names the key; never a crash with a stack trace.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { readConfigFile } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { loadMapping } from '../../src/mapping/index.js';
import { createSink } from '../../src/sinks/index.js';
import { createSource } from '../../src/sources/index.js';
import { builtPath } from '../helpers/built.js';
import { tempDir } from '../helpers/temp.js';
import { checkProperty } from './harness.js';
import { nastyValue } from './mutate.js';

const SEED = 1234567;
const RUNS = process.env.SOAK === '1' ? 2000 : 300;
const dir = tempDir('xdmf-fuzz-config-');
mkdirSync(join(dir, 'in'), { recursive: true });
writeFileSync(join(dir, 'in', 'ovo.ndjson'), '');
writeFileSync(join(dir, 'in', 'cw.csv'), 'Delivery ID,Status,Updated\n');
writeFileSync(join(dir, 'in', 'ms.json'), '[]');
process.env.ADOBE_CLIENT_SECRET ??= 'fuzz-client-secret';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A valid configuration using most sections (loopback URLs; nothing is contacted). */
const VALID: { [key: string]: Json } = {
  state: './state/state.db',
  mapping: { identityNamespace: 'CRMID', deliveredAs: 'delivered', timezone: 'Europe/London' },
  sources: [
    { type: 'ovo-feedback', id: 'ovo', files: ['./in/ovo.ndjson'] },
    { type: 'crisisworks', files: ['./in/cw.csv'], delimiter: ',', encoding: 'utf-8' },
    { type: 'masstack', files: ['./in/ms.json'] },
  ],
  adobe: {
    imsUrl: 'http://127.0.0.1:9/ims/token/v3',
    clientId: 'abc123',
    orgId: '0123456789ABCDEF01234567@AdobeOrg',
    sandbox: 'prod',
    platformUrl: 'http://127.0.0.1:9',
  },
  sink: {
    type: 'adobe-streaming',
    dcsUrl: 'http://127.0.0.1:9',
    inletId: '9f2c4b7a1e8d3c6f',
    flowId: '4e1a7c9b-2d5f-4a8e-b3c6-0f9d2e7a5b14',
    datasetId: '66a1f0c2b3d4e5f60718293a',
    schemaRef: 'https://ns.adobe.com/mytenant/schemas/5a4f',
    maxBatchEvents: 500,
    retryDeadlineMs: 60000,
    concurrency: { min: 1, max: 4, initial: 2 },
  },
  schedule: { cron: '*/15 * * * *', timezone: 'UTC' },
  retentionDays: 90,
};

/** YAML text; JSON (a YAML subset) when the document nests too deep for the YAML writer. */
function yamlOf(doc: Json): string {
  try {
    return toYaml(doc);
  } catch {
    return JSON.stringify(doc);
  }
}

/** Everything `sync` builds from a configuration before it reads a record; throws what `sync` would report. */
function loadLikeSync(path: string): void {
  const config = readConfigFile(path);
  createSink(config.sink, { log: silentLogger, ...(config.adobe ? { auth: config.adobe } : {}) });
  for (const source of config.sources) {
    createSource(source, { baseDir: config.baseDir });
    loadMapping(source.mapping, { source: source.type, ...config.mapping });
  }
}

interface Mutation {
  /** Key names from the top, e.g. ['sink', 'concurrency', 'max'] ('0' for array items). */
  path: string[];
  op: 'delete' | 'set' | 'rename';
  value: Json;
}

const mutation: fc.Arbitrary<{ walk: number[]; op: Mutation['op']; value: Json }> = fc.record({
  walk: fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
  op: fc.constantFrom('delete', 'set', 'set', 'set', 'rename'),
  value: fc.oneof(nastyValue, fc.constantFrom<Json>(-5, 0, 1.5, 99999999, 'nope', 'https://', '@AdobeOrg', 'ovo-v2', 'file', 'adobe-batch', 'Mars/Olympus')),
});

function mutate(doc: { [key: string]: Json }, m: { walk: number[]; op: Mutation['op']; value: Json }): { doc: { [key: string]: Json }; applied: Mutation } {
  const copy = JSON.parse(JSON.stringify(doc)) as { [key: string]: Json }; // structuredClone recurses too deep
  let target: { [key: string]: Json } | Json[] = copy;
  const path: string[] = [];
  for (let depth = 0; depth < m.walk.length; depth++) {
    const keys: string[] = Array.isArray(target) ? target.map((_, i) => String(i)) : Object.keys(target);
    if (keys.length === 0) break;
    const key: string = keys[m.walk[depth]! % keys.length]!;
    path.push(key);
    const next: Json | undefined = (target as Record<string, Json>)[key];
    if (depth === m.walk.length - 1 || next === null || typeof next !== 'object') {
      const t = target as Record<string, Json>;
      if (m.op === 'delete') {
        if (Array.isArray(target)) target.splice(Number(key), 1);
        else delete t[key];
      } else if (m.op === 'rename' && !Array.isArray(target)) {
        t[`${key}X`] = t[key]!;
        delete t[key];
        path[path.length - 1] = `${key}X`;
      } else t[key] = m.value;
      break;
    }
    target = next;
  }
  return { doc: copy, applied: { path, op: m.op, value: m.value } };
}

/** Where a key is named in a message: `sink.concurrency.max`, `sources[0].files`, or `"inletId"` (missing/unknown). */
function namesKey(message: string, m: Mutation): boolean {
  if (/ is not valid (YAML|JSON): .*(line|position)/.test(message)) return true; // the parser gave up first: it names the place
  const named = m.path.filter((p) => !/^\d+$/.test(p));
  const last = named.at(-1);
  if (last === undefined) return true; // an array item replaced: the list is named by its parent below
  // Deleting or renaming names the key itself; a bad value names the key or, for a wrong shape, its parent.
  return named.slice(-2).some((k) => message.includes(k));
}

describe('broken configuration files', () => {
  it('a valid configuration loads (the base of every mutation)', () => {
    const path = join(dir, 'valid.yaml');
    writeFileSync(path, toYaml(VALID));
    expect(() => loadLikeSync(path)).not.toThrow();
  });

  it('random mutations are rejected with a ConfigError naming the key, or accepted when still valid; never a crash', async () => {
    let run = 0;
    let rejected = 0;
    await checkProperty(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 2 }), fc.boolean(), (mutations, asYaml) => {
        let doc = VALID;
        const applied: Mutation[] = [];
        for (const m of mutations) {
          const next = mutate(doc, m);
          doc = next.doc;
          applied.push(next.applied);
        }
        const path = join(dir, `c-${run++}.${asYaml ? 'yaml' : 'json'}`);
        writeFileSync(path, asYaml ? yamlOf(doc) : JSON.stringify(doc, null, 2));
        let error: unknown;
        try {
          loadLikeSync(path);
        } catch (e) {
          error = e;
        }
        if (error === undefined) return;
        rejected++;
        expect(error, String((error as Error).stack)).toBeInstanceOf(ConfigError);
        const message = (error as Error).message;
        expect(message).not.toMatch(/\n\s+at .+:\d+:\d+/);
        expect(message).not.toMatch(/\[object \w+\]/);
        expect(applied.some((m) => namesKey(message, m)), `${JSON.stringify(applied).slice(0, 400)} → ${message.slice(0, 400)}`).toBe(true);
      }),
      { seed: SEED, numRuns: RUNS },
    );
    expect(rejected).toBeGreaterThan(RUNS / 2);
  });

  it('mangled text (truncated, tabs, unbalanced brackets, duplicate keys, binary) is rejected with a ConfigError', async () => {
    const yaml = toYaml(VALID);
    const json = JSON.stringify(VALID, null, 2);
    let run = 0;
    await checkProperty(
      fc.property(fc.boolean(), fc.nat(), fc.constantFrom('truncate', 'tab', 'bracket', 'duplicate', 'binary', 'empty', 'list'), (asYaml, at, how) => {
        const text = asYaml ? yaml : json;
        const cut = 1 + (at % (text.length - 1));
        const mangled =
          how === 'truncate'
            ? text.slice(0, cut)
            : how === 'tab'
              ? text.replace(/\n {2}/, '\n\t')
              : how === 'bracket'
                ? `${text.slice(0, cut)}{[${text.slice(cut)}`
                : how === 'duplicate'
                  ? asYaml
                    ? `${text}sink: {}\n`
                    : text.replace(/^\{/, '{"sink": 1,')
                  : how === 'binary'
                    ? '\u0000\u00ff\u0001' + text.slice(0, cut)
                    : how === 'empty'
                      ? ''
                      : '- a\n- b\n';
        const path = join(dir, `m-${run++}.${asYaml ? 'yaml' : 'json'}`);
        writeFileSync(path, mangled);
        let error: unknown;
        try {
          loadLikeSync(path);
        } catch (e) {
          error = e;
        }
        if (error === undefined) return; // a cut that leaves a valid document (e.g. an optional tail)
        expect(error, String((error as Error).stack)).toBeInstanceOf(ConfigError);
        expect((error as Error).message).toMatch(/not valid (JSON|YAML)|configuration|\.(yaml|json)/);
      }),
      { seed: SEED, numRuns: Math.ceil(RUNS / 3) },
    );
  });

  it('through the CLI: exit code 2 and a message naming the key, on stderr and in --json', () => {
    const entry = builtPath('src/cli/main.js');
    const cases: Array<[string, (d: { [key: string]: Json }) => void, RegExp]> = [
      ['sink.maxBatchEvents', (d) => ((d.sink as Record<string, Json>).maxBatchEvents = 'lots'), /sink\.maxBatchEvents: must be integer/],
      ['sink.inletId missing', (d) => delete (d.sink as Record<string, Json>).inletId, /sink: missing required key "inletId"/],
      ['adobe.orgId', (d) => ((d.adobe as Record<string, Json>).orgId = 'nope'), /adobe\.orgId/],
      ['sources[1].encoding', (d) => (((d.sources as Json[])[1] as Record<string, Json>).encoding = 'ebcdic'), /sources\[1\]\.encoding: must be one of/],
      ['unknown top-level key', (d) => (d.retries = 3), /unknown key "retries"/],
      ['sink.concurrency', (d) => ((d.sink as Record<string, Json>).concurrency = { min: 5, max: 2 }), /sink\.concurrency: max \(2\) is below min \(5\)/],
      ['mapping.deliveredAs', (d) => ((d.mapping as Record<string, Json>).deliveredAs = 'maybe'), /mapping\.deliveredAs: must be one of "delivered", "sent"/],
    ];
    for (const [name, change, expected] of cases) {
      const doc = structuredClone(VALID);
      change(doc);
      const path = join(dir, `cli-${name.replace(/\W+/g, '-')}.yaml`);
      writeFileSync(path, toYaml(doc));
      const human = spawnSync(process.execPath, [entry, 'sync', '--config', path], { cwd: dir, encoding: 'utf8', env: { ...process.env, ADOBE_CLIENT_SECRET: 'x' } });
      // Errors found while loading go to stderr; those found when the run builds its sink end the summary on stdout.
      const said = human.stderr + human.stdout;
      expect(human.status, `${name}: ${said}`).toBe(2);
      expect(said, name).toMatch(expected);
      expect(said).not.toMatch(/\n\s+at /);
      const machine = spawnSync(process.execPath, [entry, 'sync', '--json', '--config', path], { cwd: dir, encoding: 'utf8', env: { ...process.env, ADOBE_CLIENT_SECRET: 'x' } });
      expect(machine.status).toBe(2);
      expect(JSON.parse(machine.stdout)).toMatchObject({ exitCode: 2, error: expect.stringMatching(expected) });
    }
  }, 60_000);
});
