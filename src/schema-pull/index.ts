/**
 * `schema pull`: fetches the tenant's dataset schema from the Schema Registry, converts it to the short form the
 * validator compiles, caches it (default `xdm-schemas/tenant/<altId>.json`) and reports what differs from the bundled
 * schema (tenant fields, a feedbackStatus enum without `delivered`, missing field groups).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import { ConfigError } from '../errors.js';
import { AdobeHttpClient } from '../adobe/http.js';
import { ImsTokenProvider, type TokenProvider } from '../adobe/ims.js';
import { loadDefaultSchema, tenantSchemaToShort } from '../validate/index.js';
import type { SinkConfig } from '../sinks/index.js';
import type { SchemaRefConfig } from '../sinks/adobe-streaming/config.js';
import { PlatformClient } from '../sinks/adobe-batch/platform.js';
import { compareSchemas, describeDifferences, type SchemaDifferences } from './compare.js';
import { altIdOf, datasetSchemaId, fetchTenantSchema } from './fetch.js';

export { compareSchemas, describeDifferences, type SchemaDifferences } from './compare.js';
export { altIdOf, datasetSchemaId, fetchTenantSchema, XED_FULL_ACCEPT } from './fetch.js';
export { mappingSettingsFor, readTenantSchema, type TenantSchema } from './tenant-schema.js';
export { REQUIRED_FIELD_GROUPS, EXPERIENCE_EVENT_CLASS, type RequiredFieldGroup } from './field-groups.js';

/** Where the cached schemas go by default, relative to the working directory. */
export const DEFAULT_CACHE_DIR = 'xdm-schemas/tenant';

export interface SchemaPullOptions {
  /** Pull the schema of this dataset (Catalog → schemaRef). */
  datasetId?: string;
  /** Pull this schema (`meta:altId` or `$id`). */
  schemaId?: string;
  /** Write the converted schema here (one schema only). */
  out?: string;
  /** Folder the default cache path is relative to. @default process.cwd() */
  cwd?: string;
  log: Logger;
  signal?: AbortSignal;
  /** Token source instead of IMS with the adobe section (tests). */
  tokens?: TokenProvider;
}

/** One pulled schema. */
export interface PulledSchema {
  schemaId: string;
  altId: string;
  title?: string;
  version?: string;
  /** Where it came from: the dataset asked for, or the eventTypes of the configured sink that use it. */
  datasetId?: string;
  eventTypes?: string[];
  /** Absolute path of the cached short-form schema. */
  cachedAt: string;
  differences: SchemaDifferences;
  /** `describeDifferences` of the above. */
  notes: string[];
}

export interface SchemaPullResult {
  schemas: PulledSchema[];
  /** What to put in the config so runs validate against the pulled schema, when it is not there yet. */
  configHint?: string;
}

interface Target {
  schemaId?: string;
  datasetId?: string;
  eventTypes?: string[];
}

const refId = (ref: SchemaRefConfig | undefined): string | undefined => (ref === undefined ? undefined : typeof ref === 'string' ? ref : ref.id);

/** The distinct schemas the configured sink sends to, with the eventTypes that use each. */
export function configuredSchemas(sink: SinkConfig): Array<{ schemaId: string; eventTypes: string[] }> {
  const routing = sink.type === 'file' ? sink.envelope : sink;
  const found = new Map<string, string[]>();
  const add = (id: string | undefined, eventType: string) => {
    if (id === undefined) return;
    const list = found.get(id) ?? [];
    list.push(eventType);
    found.set(id, list);
  };
  add(refId(routing?.schemaRef), '*');
  for (const [eventType, target] of Object.entries(routing?.eventTypes ?? {})) add(refId(target.schemaRef), eventType);
  return [...found].map(([schemaId, eventTypes]) => ({ schemaId, eventTypes }));
}

function targetsOf(config: Config, options: SchemaPullOptions): Target[] {
  if (options.schemaId && options.datasetId) throw new ConfigError('schema pull: pass --schema or --dataset, not both');
  if (options.schemaId) return [{ schemaId: options.schemaId }];
  if (options.datasetId) return [{ datasetId: options.datasetId }];
  const configured = configuredSchemas(config.sink);
  if (configured.length > 0) return configured;
  // No schemaRef (e.g. an adobe-batch sink): ask Catalog for the schema of each configured dataset.
  const datasets = configuredDatasets(config.sink);
  if (datasets.length > 0) return datasets.map(({ datasetId, eventTypes }) => ({ datasetId, eventTypes }));
  throw new ConfigError('schema pull: the sink names no schemaRef and no dataset; pass --schema <meta:altId or $id> or --dataset <dataset id>');
}

/** The distinct datasets the configured sink sends to, with the eventTypes that use each. */
export function configuredDatasets(sink: SinkConfig): Array<{ datasetId: string; eventTypes: string[] }> {
  const routing = sink.type === 'file' ? sink.envelope : sink;
  const found = new Map<string, string[]>();
  const add = (id: string | undefined, eventType: string) => {
    if (id !== undefined) found.set(id, [...(found.get(id) ?? []), eventType]);
  };
  add(routing?.datasetId, '*');
  for (const [eventType, target] of Object.entries(routing?.eventTypes ?? {})) add(target.datasetId, eventType);
  return [...found].map(([datasetId, eventTypes]) => ({ datasetId, eventTypes }));
}

/** Pulls, converts, caches and compares the tenant schema(s). */
export async function pullSchemas(config: Config, options: SchemaPullOptions): Promise<SchemaPullResult> {
  const adobe = config.adobe;
  if (!adobe) throw new ConfigError('schema pull: the adobe section is missing (clientId, orgId, sandbox; secret in ADOBE_CLIENT_SECRET)');
  const targets = targetsOf(config, options);
  if (options.out && targets.length > 1) {
    throw new ConfigError(`schema pull --out: the sink uses ${targets.length} schemas; choose one with --schema or --dataset`);
  }
  const cwd = options.cwd ?? process.cwd();
  const http = new AdobeHttpClient({ requestTimeoutMs: 30_000 });
  try {
    const tokens = options.tokens ?? new ImsTokenProvider(adobe, { http });
    const client = new PlatformClient({
      http,
      tokens,
      identity: { clientId: adobe.clientId, orgId: adobe.orgId, sandbox: adobe.sandbox },
      log: options.log,
      retryDeadlineMs: 60_000,
    });
    const platformUrl = adobe.platformUrl.replace(/\/+$/, '');
    const bundled = loadDefaultSchema();
    const pulled: PulledSchema[] = [];
    for (const target of targets) {
      const schemaId = target.schemaId ?? (await datasetSchemaId(client, platformUrl, target.datasetId!, options.signal));
      const registry = await fetchTenantSchema(client, platformUrl, schemaId, options.signal);
      let short;
      try {
        short = tenantSchemaToShort(registry);
      } catch (error) {
        throw new ConfigError(`schema ${schemaId}: ${(error as Error).message}`);
      }
      const altId = altIdOf(registry, schemaId);
      const cachedAt = resolve(cwd, options.out ?? (targets.length === 1 && config.tenantSchema ? config.tenantSchema : `${DEFAULT_CACHE_DIR}/${altId}.json`));
      mkdirSync(dirname(cachedAt), { recursive: true });
      writeFileSync(cachedAt, JSON.stringify(short, null, 2) + '\n');
      const extendsIds = Array.isArray(registry['meta:extends']) ? registry['meta:extends'].filter((v): v is string => typeof v === 'string') : undefined;
      const differences = compareSchemas(short, bundled, extendsIds);
      const entry: PulledSchema = { schemaId: typeof registry['$id'] === 'string' ? registry['$id'] : schemaId, altId, cachedAt, differences, notes: describeDifferences(differences) };
      if (typeof registry['title'] === 'string') entry.title = registry['title'];
      if (typeof registry['version'] === 'string') entry.version = registry['version'];
      if (target.datasetId) entry.datasetId = target.datasetId;
      if (target.eventTypes) entry.eventTypes = target.eventTypes;
      options.log.info({ schema: entry.schemaId, cachedAt }, 'tenant schema pulled');
      pulled.push(entry);
    }
    const result: SchemaPullResult = { schemas: pulled };
    const main = pulled.find((p) => p.eventTypes?.includes('message.feedback') || p.eventTypes?.includes('*')) ?? pulled[0]!;
    if (!config.tenantSchema || resolve(config.tenantSchema) !== main.cachedAt) {
      const base = config.file ? dirname(resolve(config.file)) : cwd;
      result.configHint = `tenantSchema: ${relative(base, main.cachedAt) || main.cachedAt}`;
    }
    return result;
  } finally {
    http.close();
  }
}

/** The human-readable report of a pull. */
export function renderPull(result: SchemaPullResult, cwd: string = process.cwd()): string {
  const out: string[] = [];
  for (const s of result.schemas) {
    const used = s.datasetId ? ` (dataset ${s.datasetId})` : s.eventTypes ? ` (used for ${s.eventTypes.map((t) => (t === '*' ? 'the default dataset' : t)).join(', ')})` : '';
    out.push(`${s.title ?? s.altId}${s.version ? ` v${s.version}` : ''}${used}`);
    out.push(`  $id      ${s.schemaId}`);
    out.push(`  altId    ${s.altId}`);
    out.push(`  cached   ${relative(cwd, s.cachedAt) || s.cachedAt}`);
    if (s.notes.length === 0) out.push('  no differences from the bundled schema that matter to the connector');
    else for (const note of s.notes) out.push(`  - ${note}`);
    out.push('');
  }
  if (result.configHint) out.push(`To validate runs against it, add to the config:\n  ${result.configHint}`);
  return out.join('\n').trimEnd();
}
