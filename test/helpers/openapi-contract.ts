/**
 * Checks HTTP requests and responses against Adobe's OpenAPI files (trimmed copies in test/fixtures/openapi/),
 * with AJV. Used by the aep-local tests (answers conform) and the sink tests (the connector's requests conform).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import formatsPlugin from 'ajv-formats';
import YAML from 'yaml';

// ajv-formats is CommonJS; under NodeNext its default export may arrive wrapped.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats = (formatsPlugin as unknown as { default?: AddFormats }).default ?? (formatsPlugin as unknown as AddFormats);

type Node = Record<string, unknown>;
type Headers = Record<string, string | string[] | number | undefined>;

/** A request as seen on the wire. `url` may be absolute or a path with query. */
export interface ContractRequest {
  method: string;
  url: string;
  headers?: Headers;
  /** Parsed JSON, or raw text/bytes (parsed as JSON when the operation declares a JSON body). */
  body?: unknown;
}

export interface ContractResponse {
  status: number;
  headers?: Headers;
  body?: unknown;
}

/** An operation of one of the specs, found by method and path. */
export interface ContractOperation {
  spec: SpecName;
  operationId: string;
  method: string;
  pathTemplate: string;
  pathParams: Record<string, string>;
}

export type SpecName = 'streaming-ingestion' | 'batch-ingestion' | 'catalog' | 'data-access' | 'schema-registry';

/**
 * Documented departures from the spec files. `slip`: a known error of the files (docs/adobe-api.md, "known slips");
 * `adobe-doc`: Adobe's documentation says otherwise; `unconfirmed`: the spec is silent and aep-local makes a choice.
 */
export interface Erratum {
  spec: SpecName;
  operationId: string;
  kind: 'slip' | 'adobe-doc' | 'unconfirmed';
  what: string;
  apply(doc: Node): void;
}

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'openapi');

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function at(doc: Node, ...keys: string[]): Node {
  let node: unknown = doc;
  for (const key of keys) {
    if (!isNode(node) || !(key in node)) throw new Error(`openapi-contract: no ${keys.join('/')} in the spec`);
    node = node[key];
  }
  return node as Node;
}

function operationNode(doc: Node, operationId: string): Node {
  for (const item of Object.values(at(doc, 'paths'))) {
    if (!isNode(item)) continue;
    for (const op of Object.values(item)) if (isNode(op) && op['operationId'] === operationId) return op;
  }
  throw new Error(`openapi-contract: no operation ${operationId}`);
}

/** Adds undeclared statuses (no body schema) to an operation. */
function declare(doc: Node, operationId: string, statuses: number[], description: string): void {
  const responses = at(operationNode(doc, operationId), 'responses');
  for (const status of statuses) responses[String(status)] ??= { description };
}

export const errata: readonly Erratum[] = [
  {
    spec: 'streaming-ingestion',
    operationId: 'sendMessage',
    kind: 'slip',
    what: 'receivedTimeMs is declared int32, but real values are epoch milliseconds (int64)',
    apply: (doc) => {
      at(doc, 'components', 'schemas', 'StreamingIngestionResponse', 'properties', 'receivedTimeMs')['format'] = 'int64';
    },
  },
  {
    spec: 'batch-ingestion',
    operationId: 'createBatch',
    kind: 'slip',
    what: 'the Batch status enum lacks "loading", which Catalog lists and which a new batch reports',
    apply: (doc) => {
      const status = at(doc, 'components', 'schemas', 'Batch', 'properties', 'status');
      status['enum'] = [...(status['enum'] as string[]), 'loading'];
    },
  },
  {
    spec: 'batch-ingestion',
    operationId: 'uploadLargeFilePart',
    kind: 'slip',
    what: 'the chunk is declared multipart/form-data but is sent as raw application/octet-stream bytes',
    apply: (doc) => {
      operationNode(doc, 'uploadLargeFilePart')['requestBody'] = { required: true, content: { 'application/octet-stream': {} } };
    },
  },
  {
    spec: 'batch-ingestion',
    operationId: 'completeBatch',
    kind: 'slip',
    what: 'the 200 declares a JSON Batch body; the answer has no body',
    apply: (doc) => {
      at(operationNode(doc, 'completeBatch'), 'responses')['200'] = { description: 'The batch was signalled complete (no body).' };
    },
  },
  {
    spec: 'batch-ingestion',
    operationId: 'completeLargeFileUpload',
    kind: 'adobe-doc',
    what: 'Adobe\'s batch ingestion guide answers 201 to large-file INITIALIZE and COMPLETE (the file declares only 200)',
    apply: (doc) => {
      const responses = at(operationNode(doc, 'completeLargeFileUpload'), 'responses');
      responses['201'] = responses['200'];
    },
  },
  {
    spec: 'data-access',
    operationId: 'retrieveFailedBatch',
    kind: 'adobe-doc',
    what: 'with ?path= the answer is the failed file itself (JSON Lines bytes), not the listing',
    apply: (doc) => {
      const content = at(operationNode(doc, 'retrieveFailedBatch'), 'responses', '200', 'content');
      content['application/octet-stream'] = {};
    },
  },
  {
    spec: 'data-access',
    operationId: 'retrieveFailedBatch',
    kind: 'unconfirmed',
    what: 'an unknown batch or file is answered 404 (the file declares only 200, 401, 500)',
    apply: (doc) => declare(doc, 'retrieveFailedBatch', [404], 'Not found.'),
  },
  {
    spec: 'streaming-ingestion',
    operationId: 'sendMessage',
    kind: 'unconfirmed',
    what: 'an unknown inlet is answered 404',
    apply: (doc) => declare(doc, 'sendMessage', [404], 'Unknown inlet.'),
  },
  {
    spec: 'streaming-ingestion',
    operationId: 'postBatchOfStreamingMessages',
    kind: 'unconfirmed',
    what: 'an unknown inlet is answered 404',
    apply: (doc) => declare(doc, 'postBatchOfStreamingMessages', [404], 'Unknown inlet.'),
  },
];

/** platform.adobe.io's gateway refuses any operation with these statuses (docs/adobe-api.md §3). */
const GATEWAY_STATUSES = [400, 401, 403];

interface LoadedSpec {
  name: SpecName;
  doc: Node;
  basePath: string;
  swagger2: boolean;
}

const SPEC_NAMES: readonly SpecName[] = ['streaming-ingestion', 'batch-ingestion', 'catalog', 'data-access', 'schema-registry'];

function basePathOf(doc: Node): string {
  if (typeof doc['basePath'] === 'string') return doc['basePath'].replace(/\/$/, '');
  const servers = doc['servers'];
  const url = Array.isArray(servers) && isNode(servers[0]) ? String(servers[0]['url']) : '/';
  const path = url.replace(/^(https?:)?\/\/[^/]+/, '');
  return path.replace(/\/$/, '');
}

let loaded: LoadedSpec[] | undefined;
const ajv = new Ajv({ strict: false, allErrors: true, allowUnionTypes: true, validateSchema: false });
addFormats(ajv);

/** Converts an OpenAPI (3.0 or Swagger 2) schema to JSON Schema: `nullable`, refs made absolute, examples dropped. */
function toJsonSchema(node: unknown, spec: LoadedSpec): unknown {
  if (Array.isArray(node)) return node.map((n) => toJsonSchema(n, spec));
  if (!isNode(node)) return node;
  const out: Node = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'example' || key === 'examples' || key === 'xml' || key === 'discriminator' || key.startsWith('x-')) continue;
    if (key === '$ref' && typeof value === 'string') {
      out['$ref'] = `openapi:${spec.name}${value.replace('#/components/schemas/', '#/definitions/')}`;
    } else if (key === 'properties' && isNode(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonSchema(v, spec)]));
    } else {
      out[key] = toJsonSchema(value, spec);
    }
  }
  if (out['nullable'] === true) {
    delete out['nullable'];
    if (typeof out['type'] === 'string') out['type'] = [out['type'], 'null'];
    if (Array.isArray(out['enum'])) out['enum'] = [...(out['enum'] as unknown[]), null];
  }
  return out;
}

function specs(): LoadedSpec[] {
  if (loaded) return loaded;
  loaded = SPEC_NAMES.map((name) => {
    const doc = YAML.parse(readFileSync(join(fixtures, `${name}.yaml`), 'utf8')) as Node;
    for (const erratum of errata) if (erratum.spec === name) erratum.apply(doc);
    const swagger2 = doc['swagger'] !== undefined;
    const spec: LoadedSpec = { name, doc, basePath: basePathOf(doc), swagger2 };
    if (spec.name !== 'streaming-ingestion') {
      for (const item of Object.values(at(doc, 'paths'))) {
        for (const op of Object.values(item as Node)) {
          if (isNode(op) && typeof op['operationId'] === 'string') declare(doc, op['operationId'], GATEWAY_STATUSES, 'Refused by the platform.adobe.io gateway.');
        }
      }
    }
    const definitions = swagger2 ? doc['definitions'] : isNode(doc['components']) ? doc['components']['schemas'] : undefined;
    ajv.addSchema({ $id: `openapi:${name}`, definitions: toJsonSchema(definitions ?? {}, spec) as Node });
    return spec;
  });
  return loaded;
}

const compiled = new Map<unknown, ValidateFunction>();
function validatorFor(schema: unknown, spec: LoadedSpec): ValidateFunction {
  let fn = compiled.get(schema);
  if (!fn) {
    fn = ajv.compile(toJsonSchema(schema, spec) as Node);
    compiled.set(schema, fn);
  }
  return fn;
}

function schemaErrors(schema: unknown, value: unknown, spec: LoadedSpec, where: string): string[] {
  const validate = validatorFor(schema, spec);
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e) => `${where}${e.instancePath || ''}: ${e.message ?? e.keyword} ${e.params ? JSON.stringify(e.params) : ''}`.trim());
}

function resolveRef<T>(spec: LoadedSpec, node: T): T {
  if (isNode(node) && typeof node['$ref'] === 'string') {
    const ref = node['$ref'];
    const target = ref.slice(2).split('/').reduce<unknown>((o, k) => (isNode(o) ? o[k] : undefined), spec.doc);
    if (target === undefined) throw new Error(`openapi-contract: unresolved ${ref} in ${spec.name}`);
    return target as T;
  }
  return node;
}

function splitUrl(url: string): { path: string; query: URLSearchParams } {
  const parsed = new URL(url, 'http://contract.invalid');
  return { path: parsed.pathname, query: parsed.searchParams };
}

/** Matches a path to a template; a `{filePath}` parameter may span several segments. */
function matchTemplate(template: string, segments: string[]): Record<string, string> | undefined {
  const parts = template.split('/').filter(Boolean);
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const segment = segments[i];
    if (segment === undefined) return undefined;
    const param = /^\{(.+)\}$/.exec(part)?.[1];
    if (param === 'filePath' && i === parts.length - 1) {
      params[param] = segments.slice(i).map(decodeURIComponent).join('/');
      return params;
    }
    if (param) params[param] = decodeURIComponent(segment);
    else if (part !== segment) return undefined;
  }
  return segments.length === parts.length ? params : undefined;
}

/** The operation a request addresses, or undefined when no trimmed spec declares it. */
export function findOperation(method: string, url: string): ContractOperation | undefined {
  const { path } = splitUrl(url);
  const lower = method.toLowerCase();
  for (const spec of specs()) {
    if (spec.basePath && !path.startsWith(spec.basePath + '/')) continue;
    const segments = path.slice(spec.basePath.length).split('/').filter(Boolean);
    for (const [template, item] of Object.entries(at(spec.doc, 'paths'))) {
      const op = isNode(item) ? item[lower] : undefined;
      if (!isNode(op)) continue;
      const pathParams = matchTemplate(template, segments);
      if (pathParams) return { spec: spec.name, operationId: String(op['operationId']), method: lower, pathTemplate: template, pathParams };
    }
  }
  return undefined;
}

function specOf(op: ContractOperation): LoadedSpec {
  return specs().find((s) => s.name === op.spec)!;
}

function opNode(op: ContractOperation): { node: Node; item: Node } {
  const item = at(specOf(op).doc, 'paths', op.pathTemplate);
  return { node: item[op.method] as Node, item };
}

function headerValue(headers: Headers | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  const value = key === undefined ? undefined : headers[key];
  return Array.isArray(value) ? value[0] : value === undefined ? undefined : String(value);
}

const mediaTypeOf = (value: string | undefined) => (value ?? '').split(';')[0]!.trim().toLowerCase();

/** Turns a string parameter into the type its schema declares, as a server would. */
function coerce(value: string, schema: Node): unknown {
  if (schema['type'] === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  if (schema['type'] === 'integer' || schema['type'] === 'number') return value.trim() !== '' && Number.isFinite(Number(value)) ? Number(value) : value;
  return value;
}

function asJson(body: unknown): { ok: true; value: unknown } | { ok: false } {
  if (typeof body === 'string' || Buffer.isBuffer(body) || body instanceof Uint8Array) {
    try {
      return { ok: true, value: JSON.parse(Buffer.from(body as string).toString('utf8')) };
    } catch {
      return { ok: false };
    }
  }
  return { ok: true, value: body };
}

function isEmptyBody(body: unknown): boolean {
  return body === undefined || body === null || body === '' || ((Buffer.isBuffer(body) || body instanceof Uint8Array) && body.length === 0);
}

/** Violations of a request against its operation (empty = conforms). */
export function checkRequest(req: ContractRequest): string[] {
  const op = findOperation(req.method, req.url);
  if (!op) return [`no operation in the trimmed Adobe specs for ${req.method.toUpperCase()} ${splitUrl(req.url).path}`];
  const spec = specOf(op);
  const { node, item } = opNode(op);
  const { query } = splitUrl(req.url);
  const problems: string[] = [];
  const params = [...((item['parameters'] as unknown[]) ?? []), ...((node['parameters'] as unknown[]) ?? [])].map((p) => resolveRef(spec, p) as Node);
  for (const param of params) {
    const name = String(param['name']);
    const where = String(param['in']);
    const schema = (spec.swagger2 ? param : (param['schema'] as Node | undefined)) ?? {};
    if (where === 'body') {
      if (param['required'] === true && isEmptyBody(req.body)) problems.push(`body: required`);
      else if (!isEmptyBody(req.body)) {
        const parsed = asJson(req.body);
        if (!parsed.ok) problems.push('body: is not JSON');
        else problems.push(...schemaErrors(param['schema'], parsed.value, spec, 'body'));
      }
      continue;
    }
    let raw: string | undefined;
    if (where === 'header') raw = headerValue(req.headers, name);
    else if (where === 'query') raw = query.get(name) ?? undefined;
    else if (where === 'path') raw = op.pathParams[name];
    else continue;
    if (raw === undefined) {
      if (param['required'] === true) problems.push(`${where} ${name}: required`);
      continue;
    }
    const value = where === 'header' && name.toLowerCase() === 'content-type' ? mediaTypeOf(raw) : raw;
    const check = { ...schema };
    for (const key of ['name', 'in', 'required', 'description']) delete check[key];
    problems.push(...schemaErrors(check, coerce(value, check), spec, `${where} ${name}`));
  }
  const requestBody = resolveRef(spec, node['requestBody']) as Node | undefined;
  if (requestBody) {
    if (isEmptyBody(req.body)) {
      if (requestBody['required'] === true) problems.push('body: required');
    } else {
      const content = (requestBody['content'] as Node | undefined) ?? {};
      const type = mediaTypeOf(headerValue(req.headers, 'content-type'));
      const media = content[type] as Node | undefined;
      if (!media) problems.push(`body: Content-Type ${type || '(none)'} is not one of ${Object.keys(content).join(', ')}`);
      else if (media['schema'] !== undefined) {
        const parsed = asJson(req.body);
        if (!parsed.ok) problems.push('body: is not JSON');
        else problems.push(...schemaErrors(media['schema'], parsed.value, spec, 'body'));
      }
    }
  }
  return problems;
}

/** Violations of a response to `req` (empty = conforms). */
export function checkResponse(req: ContractRequest, res: ContractResponse): string[] {
  const op = findOperation(req.method, req.url);
  if (!op) return [`no operation in the trimmed Adobe specs for ${req.method.toUpperCase()} ${splitUrl(req.url).path}`];
  const spec = specOf(op);
  const responses = opNode(op).node['responses'] as Node;
  const declared = resolveRef(spec, (responses[String(res.status)] ?? responses['default']) as Node | undefined);
  if (!declared) return [`status ${res.status} is not declared by ${op.operationId} (declared: ${Object.keys(responses).join(', ')})`];
  const problems: string[] = [];
  for (const [name, h] of Object.entries((declared['headers'] as Node | undefined) ?? {})) {
    const raw = headerValue(res.headers, name);
    if (raw === undefined) continue;
    const hNode = h as Node;
    const schema = (spec.swagger2 ? hNode : (hNode['schema'] as Node | undefined)) ?? {};
    const check = { ...schema };
    delete check['description'];
    problems.push(...schemaErrors(check, coerce(raw, check), spec, `header ${name}`));
  }
  if (isEmptyBody(res.body)) return problems;
  let schema: unknown;
  if (spec.swagger2) schema = declared['schema'];
  else {
    const content = declared['content'] as Node | undefined;
    if (!content || Object.keys(content).length === 0) return problems; // the spec says nothing about this body
    const type = mediaTypeOf(headerValue(res.headers, 'content-type')) || 'application/json';
    const media = content[type] as Node | undefined;
    if (!media) return [...problems, `body: Content-Type ${type} is not one of ${Object.keys(content).join(', ')}`];
    schema = media['schema'];
  }
  if (schema === undefined) return problems;
  const parsed = asJson(res.body);
  if (!parsed.ok) return [...problems, 'body: is not JSON'];
  return [...problems, ...schemaErrors(schema, parsed.value, spec, 'body')];
}

function fail(kind: string, req: ContractRequest, problems: string[]): never {
  throw new Error(`${kind} ${req.method.toUpperCase()} ${splitUrl(req.url).path} breaks Adobe's OpenAPI contract:\n  - ${problems.join('\n  - ')}`);
}

/** Throws with every violation when the request does not conform. */
export function assertRequestConforms(req: ContractRequest): void {
  const problems = checkRequest(req);
  if (problems.length > 0) fail('request', req, problems);
}

/** Throws with every violation when the response does not conform. */
export function assertResponseConforms(req: ContractRequest, res: ContractResponse): void {
  const problems = checkResponse(req, res);
  if (problems.length > 0) fail('response to', req, problems);
}
