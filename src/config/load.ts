/** Loads the configuration file (JSON or YAML), applies defaults, validates every section, resolves secrets. */
import { readFileSync, existsSync } from 'node:fs';
import { dirname, resolve, extname } from 'node:path';
import AjvModule, { type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { insecureUrlProblem } from '../adobe/http.js';
import { ConfigError } from '../errors.js';
import { registerSecret } from '../redact.js';
import { topLevelSchema } from './schema.js';
import { sourceConfigSchemas, type SourceConfig } from '../sources/index.js';
import { sinkConfigSchemas, type SinkConfig } from '../sinks/index.js';

const Ajv = AjvModule.default ?? AjvModule;
const addFormats = addFormatsModule.default ?? addFormatsModule;

export interface AdobeAuth {
  imsUrl: string;
  clientId: string;
  clientSecret: string;
  orgId: string;
  sandbox: string;
  scopes: string;
  platformUrl: string;
}

export interface MappingSettings {
  identityNamespace: string;
  deliveredAs: 'delivered' | 'sent';
  timezone: string;
}

export type ConfiguredSource = SourceConfig & { id: string; mapping: string };

export interface Config {
  /** The file it came from (undefined for built-in configurations such as the demo). */
  file?: string;
  /** Relative paths in the file resolve against this folder. */
  baseDir: string;
  state: string;
  mapping: MappingSettings;
  sources: ConfiguredSource[];
  sink: SinkConfig;
  adobe?: AdobeAuth;
  tenantSchema?: string;
  schedule?: { cron: string; timezone: string };
  retentionDays?: number;
}

/** The package root (holds mappings/ and xdm-schemas/), found from this module's location in src/ or dist/src/. */
export function packageRoot(): string {
  let dir = dirname(new URL(import.meta.url).pathname);
  while (!existsSync(resolve(dir, 'package.json')) || !existsSync(resolve(dir, 'mappings'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the xdm-feedback package root');
    dir = parent;
  }
  return dir;
}

/** How much of the configuration a command needs. */
export interface LoadOptions {
  /**
   * Resolve the Adobe client secret (default). Commands that never call Adobe (status, report, dlq list…, preview,
   * validate) pass false: a missing secret then leaves `adobe` out instead of failing, so people who only read the
   * state do not need it. The rest of the file is checked the same way.
   */
  secrets?: boolean;
}

export function readConfigFile(path: string, options: LoadOptions = {}): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}; pass an existing file with --config`);
  }
  let data: unknown;
  try {
    data = ['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${path} is not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message}`);
  }
  return buildConfig(data, { file: path, baseDir: dirname(resolve(path)), ...options });
}

function describe(errors: ErrorObject[] | null | undefined, prefix: string, where: string): string {
  const lines = (errors ?? []).map((e) => {
    const key = `${prefix}${e.instancePath.replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.')}`;
    const params = e.params as Record<string, unknown>;
    if (e.keyword === 'additionalProperties') return `${key || '(top level)'}: unknown key "${String(params.additionalProperty)}" — remove it or check its spelling`;
    if (e.keyword === 'required') return `${key || '(top level)'}: missing required key "${String(params.missingProperty)}"`;
    if (e.keyword === 'enum') return `${key}: must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    return `${key || '(top level)'}: ${e.message ?? 'is invalid'}`;
  });
  return `${where}: ${[...new Set(lines)].join('; ')}`;
}

/** Validates raw configuration data (from a file, or built in code) and returns a resolved Config. */
export function buildConfig(data: unknown, origin: { file?: string; baseDir: string } & LoadOptions): Config {
  const where = origin.file ?? 'configuration';
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
  addFormats(ajv);
  if (!ajv.validate(topLevelSchema, data)) throw new ConfigError(describe(ajv.errors, '', where));
  const raw = data as Record<string, any>;

  const sources: ConfiguredSource[] = (raw.sources as Array<Record<string, any>>).map((s, i) => {
    const schema = (sourceConfigSchemas as Record<string, object>)[s.type];
    if (!schema) {
      throw new ConfigError(`${where}: sources[${i}].type: unknown source type "${s.type}"; use one of ${Object.keys(sourceConfigSchemas).join(', ')}`);
    }
    const { id, mapping, ...rest } = s;
    if (!ajv.validate(schema, rest)) throw new ConfigError(describe(ajv.errors, `sources[${i}]`, where));
    return {
      ...(rest as SourceConfig),
      id: id ?? s.type,
      mapping: resolveMapping(mapping ?? defaultMappingFor(rest as Record<string, unknown>), origin.baseDir),
    } as ConfiguredSource;
  });
  const ids = sources.map((s) => s.id);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) throw new ConfigError(`${where}: sources: two sources share the id "${dup}"; give each an "id"`);

  const sinkSchema = (sinkConfigSchemas as Record<string, object>)[raw.sink.type];
  if (!sinkSchema) {
    throw new ConfigError(`${where}: sink.type: unknown sink type "${raw.sink.type}"; use one of ${Object.keys(sinkConfigSchemas).join(', ')}`);
  }
  if (!ajv.validate(sinkSchema, raw.sink)) throw new ConfigError(describe(ajv.errors, 'sink', where));

  const config: Config = {
    baseDir: origin.baseDir,
    state: resolve(origin.baseDir, raw.state ?? './.xdm-feedback/state.db'),
    mapping: {
      identityNamespace: raw.mapping?.identityNamespace ?? 'CRMID',
      deliveredAs: raw.mapping?.deliveredAs ?? 'delivered',
      timezone: raw.mapping?.timezone ?? 'UTC',
    },
    sources,
    sink: resolveSinkPaths(raw.sink as SinkConfig, origin.baseDir),
  };
  if (origin.file) config.file = origin.file;
  const withSecrets = origin.secrets !== false;
  if (raw.adobe && (withSecrets || hasSecret(raw.adobe, origin.baseDir))) config.adobe = resolveAdobeAuth(raw.adobe, where, origin.baseDir);
  if (raw.tenantSchema) config.tenantSchema = resolve(origin.baseDir, raw.tenantSchema);
  if (raw.schedule) config.schedule = { cron: raw.schedule.cron, timezone: raw.schedule.timezone ?? 'UTC' };
  if (raw.retentionDays) config.retentionDays = raw.retentionDays;
  checkEndpoints(config, raw, where);
  if (config.sink.type !== 'file' && !config.adobe && (withSecrets || !raw.adobe)) {
    throw new ConfigError(`${where}: adobe: missing; the ${config.sink.type} sink needs the adobe section (clientId, orgId, sandbox; secret in ADOBE_CLIENT_SECRET)`);
  }
  return config;
}

/** Paths in the sink section are relative to the config file, like every other path in it. */
function resolveSinkPaths(sink: SinkConfig, baseDir: string): SinkConfig {
  if (sink.type === 'file') return { ...sink, path: resolve(baseDir, sink.path) };
  if (sink.type === 'adobe-batch' && sink.stagingDir) return { ...sink, stagingDir: resolve(baseDir, sink.stagingDir) };
  return sink;
}

function defaultMappingFor(source: Record<string, unknown>): string {
  if (source.type === 'ndjson') {
    if (typeof source.mapping === 'string') return source.mapping;
    throw new ConfigError('sources: an ndjson source needs a "mapping" file; see docs/mapping.md');
  }
  return resolve(packageRoot(), 'mappings', `${String(source.type)}.json`);
}

function resolveMapping(path: string, baseDir: string): string {
  const fromBase = resolve(baseDir, path);
  if (existsSync(fromBase)) return fromBase;
  const fromPackage = resolve(packageRoot(), path);
  return existsSync(fromPackage) ? fromPackage : fromBase;
}

/** Every Adobe endpoint of the file must be https (plain http only to a loopback address): tokens never travel in clear. */
function checkEndpoints(config: Config, raw: Record<string, any>, where: string): void {
  const urls: Array<[string, unknown]> = [
    ['adobe.imsUrl', raw.adobe?.imsUrl],
    ['adobe.platformUrl', raw.adobe?.platformUrl],
    ['sink.dcsUrl', config.sink.type === 'adobe-streaming' ? config.sink.dcsUrl : undefined],
    ['sink.platformUrl', config.sink.type === 'adobe-batch' ? config.sink.platformUrl : undefined],
  ];
  for (const [key, url] of urls) {
    if (typeof url !== 'string') continue;
    const problem = insecureUrlProblem(url);
    if (problem) throw new ConfigError(`${where}: ${key}: ${problem}`);
  }
}

/** Whether the Adobe client secret the section names is there (without reading it into the config). */
function hasSecret(adobe: Record<string, any>, baseDir: string): boolean {
  if (adobe.clientSecretFile) return existsSync(resolve(baseDir, adobe.clientSecretFile));
  return Boolean(process.env[adobe.clientSecretEnv ?? 'ADOBE_CLIENT_SECRET']);
}

function resolveAdobeAuth(adobe: Record<string, any>, where: string, baseDir: string): AdobeAuth {
  let clientSecret: string | undefined;
  if (adobe.clientSecretFile) {
    try {
      clientSecret = readFileSync(resolve(baseDir, adobe.clientSecretFile), 'utf8').trim();
    } catch (error) {
      throw new ConfigError(`${where}: adobe.clientSecretFile: cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'}); check the path`);
    }
  } else {
    const envName = adobe.clientSecretEnv ?? 'ADOBE_CLIENT_SECRET';
    clientSecret = process.env[envName];
    if (!clientSecret) {
      throw new ConfigError(`${where}: adobe: the client secret is missing; set the environment variable ${envName} or name a file in adobe.clientSecretFile`);
    }
  }
  if (!clientSecret) throw new ConfigError(`${where}: adobe.clientSecretFile: the file is empty`);
  registerSecret(clientSecret);
  return {
    imsUrl: adobe.imsUrl ?? 'https://ims-na1.adobelogin.com/ims/token/v3',
    clientId: adobe.clientId,
    clientSecret,
    orgId: adobe.orgId,
    sandbox: adobe.sandbox ?? 'prod',
    scopes: adobe.scopes ?? 'openid,AdobeID,read_organizations,additional_info.projectedProductContext,session',
    platformUrl: adobe.platformUrl ?? 'https://platform.adobe.io',
  };
}
