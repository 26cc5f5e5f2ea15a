import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startAepLocal, type AepLocal } from '../../src/aep-local/index.js';
import { buildProgram } from '../../src/cli/program.js';
import { buildConfig, type Config } from '../../src/config/load.js';
import { runConnector } from '../../src/core/run.js';
import { buildValidators, runMappingSettings } from '../../src/core/stages.js';
import type { XdmEvent } from '../../src/core/types.js';
import { ConfigError } from '../../src/errors.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { pullSchemas, renderPull } from '../../src/schema-pull/index.js';
import { tempDir } from '../helpers/temp.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';
import { aepLocalRoutedSink } from '../helpers/aep-local-config.js';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/xdm/tenant-schema.xed-full.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const bounce = JSON.parse(readFileSync(new URL('../fixtures/xdm/email-hard-bounce.json', import.meta.url), 'utf8')) as XdmEvent;
const ALT_ID = fixture['meta:altId'] as string;
const SCHEMA_ID = fixture['$id'] as string;

const root = tempDir('xdmf-schema-pull-');
let aep: AepLocal;
let n = 0;

beforeAll(async () => {
  aep = await startAepLocal({ tenantSchema: fixture, batchProcessingDelayMs: 1 });
});
afterAll(async () => {
  await aep.close();
});

/** A config in a fresh folder, pointing at `platformUrl` (the imitation unless given). */
function configIn(extra: Record<string, unknown> = {}, platformUrl = aep.endpoints.platformUrl, imsUrl = aep.endpoints.imsTokenUrl): { dir: string; config: Config; file: string } {
  const dir = join(root, `c${n++}`);
  mkdirSync(dir, { recursive: true });
  process.env.XDMF_PULL_SECRET = aep.credentials.clientSecret;
  const data = {
    state: './state.db',
    sources: [{ type: 'ovo-feedback', id: 'ovo', files: ['./in.ndjson'] }],
    adobe: {
      imsUrl,
      clientId: aep.credentials.clientId,
      clientSecretEnv: 'XDMF_PULL_SECRET',
      orgId: aep.credentials.imsOrgId,
      sandbox: aep.credentials.sandboxName,
      platformUrl,
    },
    sink: aepLocalRoutedSink(aep, { backoffBaseMs: 10 }),
    ...extra,
  };
  const file = join(dir, 'xdm-feedback.json');
  writeFileSync(file, JSON.stringify(data));
  return { dir, file, config: buildConfig(data, { file, baseDir: dir }) };
}

describe('schema pull against the local AEP imitation', () => {
  it('pulls the schema the sink names, caches the short form under xdm-schemas/tenant and reports what differs', async () => {
    const { dir, config } = configIn();
    const result = await pullSchemas(config, { log: silentLogger, cwd: dir });
    expect(result.schemas).toHaveLength(1);
    const [pulled] = result.schemas;
    expect(pulled).toMatchObject({
      schemaId: SCHEMA_ID,
      altId: ALT_ID,
      title: 'ACME Message Feedback Events',
      eventTypes: ['message.feedback', 'message.tracking'],
      cachedAt: join(dir, 'xdm-schemas', 'tenant', `${ALT_ID}.json`),
    });
    expect(pulled!.differences).toMatchObject({
      tenantNamespace: '_acme',
      deliveredMissing: true,
      feedbackStatuses: ['error', 'exclude', 'sent', 'bounce', 'delay', 'duplicate', 'denylist'],
      missingFieldGroups: [],
      extraRequired: [],
    });
    expect(pulled!.differences.tenantFields).toEqual(
      expect.arrayContaining(['_acme.feedbackSource', '_acme.providerMessageId', '_acme.costMicros', '_acme.campaign.code', '_acme.campaign.region']),
    );
    const cached = JSON.parse(readFileSync(pulled!.cachedAt, 'utf8'));
    expect(cached).toMatchObject({ $id: SCHEMA_ID, 'meta:tenantNamespace': '_acme', properties: { _acme: expect.any(Object) } });
    expect(JSON.stringify(cached)).not.toContain('meta:registryMetadata');
    expect(result.configHint).toBe(`tenantSchema: xdm-schemas/tenant/${ALT_ID}.json`);

    const text = renderPull(result, dir);
    expect(text).toContain('feedbackStatus has no "delivered"');
    expect(text).toContain('set mapping.deliveredAs: sent');
    expect(text).toContain('tenant fields under _acme');
    expect(text).toContain(`tenantSchema: xdm-schemas/tenant/${ALT_ID}.json`);
  });

  it('pulls a named schema by meta:altId or by $id, into --out or the configured tenantSchema path', async () => {
    const { dir, config } = configIn({ tenantSchema: './schemas/tenant.json' });
    const byAlt = await pullSchemas(config, { log: silentLogger, cwd: dir, schemaId: ALT_ID });
    expect(byAlt.schemas[0]!.cachedAt).toBe(join(dir, 'schemas', 'tenant.json'));
    expect(byAlt.configHint).toBeUndefined(); // already configured
    const byId = await pullSchemas(config, { log: silentLogger, cwd: dir, schemaId: SCHEMA_ID, out: 'elsewhere/acme.json' });
    expect(byId.schemas[0]!.cachedAt).toBe(join(dir, 'elsewhere', 'acme.json'));
    expect(existsSync(join(dir, 'elsewhere', 'acme.json'))).toBe(true);
  });

  it('names the fix when the schema is not in the registry', async () => {
    const { dir, config } = configIn();
    const pull = pullSchemas(config, { log: silentLogger, cwd: dir, schemaId: '_acme.schemas.nope' });
    await expect(pull).rejects.toThrow(ConfigError);
    await expect(pullSchemas(config, { log: silentLogger, cwd: dir, schemaId: '_acme.schemas.nope' })).rejects.toThrow(
      /schema _acme.schemas.nope is not in the tenant container of this sandbox \(Resource Not Found: Requested resource _acme.schemas.nope with version 1 is not found\)/,
    );
  });

  it('prints the result as JSON from the command line', async () => {
    const { dir, file } = configIn();
    const out: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      out.push(String(chunk));
      return true;
    });
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      await buildProgram().parseAsync(['node', 'xdm-feedback', '--config', file, '--json', '--log-level', 'silent', 'schema', 'pull', '--schema', ALT_ID]);
    } finally {
      process.chdir(cwd);
      write.mockRestore();
    }
    expect(process.exitCode).toBe(0);
    const printed = JSON.parse(out.join(''));
    expect(printed.schemas[0]).toMatchObject({ altId: ALT_ID, differences: { deliveredMissing: true, tenantNamespace: '_acme' } });
    expect(printed.schemas[0].notes[0]).toMatch(/^feedbackStatus has no "delivered"/);
  });
});

describe('schema pull --dataset (Catalog → schemaRef → Schema Registry)', () => {
  let server: ScriptedServer;
  beforeAll(async () => {
    server = await startScriptedServer();
  });
  afterAll(() => server.close());

  it('reads the dataset\'s schemaRef from Catalog, asks the registry for the resolved form, and spots a missing field group', async () => {
    const datasetId = '5e5a3ba4c1f0b2a7d9e81c3f';
    const withoutInteraction = structuredClone(fixture) as Record<string, any>;
    delete withoutInteraction.properties._experience.properties.customerJourneyManagement.properties.messageInteraction;
    withoutInteraction['meta:extends'] = (withoutInteraction['meta:extends'] as string[]).filter((id) => !id.endsWith('message-interaction'));
    server.route('/data/foundation/catalog/dataSets/', { body: { [datasetId]: { name: 'Feedback', schemaRef: { id: SCHEMA_ID, contentType: 'application/vnd.adobe.xed-full+json;version=1' } } } });
    server.route('/data/foundation/schemaregistry/', { body: withoutInteraction });
    const { dir, config } = configIn({}, server.url);
    const result = await pullSchemas(config, { log: silentLogger, cwd: dir, datasetId });
    expect(result.schemas[0]).toMatchObject({ datasetId, schemaId: SCHEMA_ID });
    expect(result.schemas[0]!.differences.missingFieldGroups.map((g) => g.title)).toEqual(['Adobe CJM ExperienceEvent - Message interaction details']);
    expect(result.schemas[0]!.notes).toEqual(expect.arrayContaining([expect.stringMatching(/^missing field group "Adobe CJM ExperienceEvent - Message interaction details" .* needed for message.tracking events/)]));

    const [catalog] = server.requestsTo('/data/foundation/catalog/dataSets/');
    expect(catalog!.headers).toMatchObject({ 'x-api-key': aep.credentials.clientId, 'x-gw-ims-org-id': aep.credentials.imsOrgId, 'x-sandbox-name': 'prod', authorization: expect.stringMatching(/^Bearer /) });
    const [registry] = server.requestsTo('/data/foundation/schemaregistry/');
    expect(registry!.url).toBe(`/data/foundation/schemaregistry/tenant/schemas/${encodeURIComponent(SCHEMA_ID)}`);
    expect(registry!.headers['accept']).toBe('application/vnd.adobe.xed-full+json; version=1');
  });

  it('asks Catalog for the schema of each configured dataset when the sink names no schemaRef (an adobe-batch sink)', async () => {
    const datasetId = '5e5a3ba4c1f0b2a7d9e81c40';
    server.route(`/data/foundation/catalog/dataSets/${datasetId}`, { body: { [datasetId]: { schemaRef: { id: SCHEMA_ID } } } });
    server.route('/data/foundation/schemaregistry/', { body: fixture });
    const { dir, config } = configIn({ sink: { type: 'adobe-batch', datasetId } }, server.url);
    const result = await pullSchemas(config, { log: silentLogger, cwd: dir });
    expect(result.schemas).toEqual([expect.objectContaining({ datasetId, eventTypes: ['*'], altId: ALT_ID })]);
  });
});

describe('runs with a pulled tenant schema', () => {
  /** OVO records: Delivered ones map to "delivered", which the tenant's enum lacks. */
  const records = (count: number) =>
    Array.from({ length: count }, (_, i) =>
      JSON.stringify({
        commId: `t-${i}`,
        commDescription: 'Payment reminder',
        customer: { customerId: String(200000 + i) },
        status: i % 2 ? 'Delivered' : 'Pending',
        channel: 'Email',
        metadata: { eventId: `t-${i}-feedback`, traceToken: `tt-${i}`, createdAt: Date.UTC(2024, 4, 2, 10, i % 60) },
      }),
    ).join('\n') + '\n';

  async function pulledConfig(): Promise<{ dir: string; config: Config }> {
    const { dir, config } = configIn();
    const result = await pullSchemas(config, { log: silentLogger, cwd: dir });
    return { dir, config: { ...config, tenantSchema: result.schemas[0]!.cachedAt } };
  }

  it('validates against the tenant schema alone: its _acme fields pass, "delivered" does not', async () => {
    const { config } = await pulledConfig();
    const validators = buildValidators(config);
    expect(validators).toHaveLength(1);
    const withTenantFields = { ...bounce, _acme: { feedbackSource: 'ovo-feedback', campaign: { code: 'X', region: 'au' } } } as XdmEvent;
    expect(validators[0]!.validate(withTenantFields)).toBeNull();
    const delivered = structuredClone(bounce) as any;
    delivered._experience.customerJourneyManagement.messageDeliveryfeedback.feedbackStatus = 'delivered';
    delete delivered._experience.customerJourneyManagement.messageDeliveryfeedback.messageFailure;
    expect(validators[0]!.validate(delivered)).toEqual([expect.stringContaining('feedbackStatus: must be equal to one of the allowed values')]);
    // Without a tenant schema the bundled schema refuses tenant fields.
    expect(buildValidators({}).map((v) => v.validate(withTenantFields))).toEqual([['/_acme: is not a field of the schema (misspelt or undefined key)']]);
  });

  it('sends deliveries as "sent" by itself, says so in the log, and AEP accepts every event', async () => {
    const { dir, config } = await pulledConfig();
    writeFileSync(join(dir, 'in.ndjson'), records(20));
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) }) });
    expect(runMappingSettings(config).deliveredAs).toBe('sent');
    aep.reset();
    const result = await runConnector(config, { command: 'sync', log });
    expect(result.error).toBeUndefined();
    expect(result.exitCode).toBe(0);
    expect(result.summaries[0]).toMatchObject({ read: 20, sent: 20, byStatus: { sent: 20 } });
    expect(aep.acceptedIds()).toHaveLength(20);
    expect(lines.some((l) => l.includes('the tenant schema has no \\"delivered\\" feedbackStatus: deliveries are sent as \\"sent\\"'))).toBe(true);
    const db = new Database(config.state, { readonly: true });
    expect(db.prepare('SELECT count(*) FROM dead_letters').pluck().get()).toBe(0);
    db.close();
  });

  it('keeps "delivered" when the tenant schema allows it', async () => {
    const { dir, config } = configIn();
    const cachedAt = join(dir, 'bundled-like.json');
    // The imitation's default schema (no tenant fixture) keeps the full enum.
    const plain = await startAepLocal();
    try {
      const { config: plainConfig } = configIn({}, plain.endpoints.platformUrl, plain.endpoints.imsTokenUrl);
      await pullSchemas(plainConfig, { log: silentLogger, cwd: dir, schemaId: plain.datasets[0]!.schemaRef.id, out: cachedAt });
    } finally {
      await plain.close();
    }
    expect(runMappingSettings({ ...config, tenantSchema: cachedAt }).deliveredAs).toBe('delivered');
  });
});
