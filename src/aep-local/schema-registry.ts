/** Schema Registry: `GET /tenant/schemas/{altId | url-encoded $id}` with a versioned Accept, XDM-1007/XDM-1012 errors. */
import { randomUUID } from 'node:crypto';
import { json, mediaParams, mediaType, type Answer } from './http.js';
import type { LocalCredentials } from './types.js';

/** Identity of the default tenant schema. */
export interface TenantSchemaIdentity {
  id: string;
  altId: string;
  tenantId: string;
  sandboxId: string;
  title: string;
}

type Node = Record<string, unknown>;

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The registry's `meta:xdmType` of a JSON Schema field. */
function xdmTypeOf(node: Node): string {
  const type = node['type'];
  if (type === 'string') return node['format'] === 'date-time' ? 'date-time' : node['format'] === 'date' ? 'date' : 'string';
  if (type === 'integer') return 'int';
  if (type === 'object' && !isNode(node['properties']) && isNode(node['additionalProperties'])) return 'map';
  return typeof type === 'string' ? type : 'object';
}

/** Reshapes a short-form field the way the registry shows it: `meta:xdmType` added, no closed objects. */
function registryField(node: Node): Node {
  const out: Node = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'additionalProperties' && value === false) continue;
    if (key === 'properties' && isNode(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isNode(v) ? registryField(v) : v]));
    } else if ((key === 'items' || key === 'additionalProperties') && isNode(value)) {
      out[key] = registryField(value);
    } else {
      out[key] = value;
    }
  }
  if (out['type'] !== undefined || out['properties'] !== undefined) out['meta:xdmType'] ??= xdmTypeOf(out);
  return out;
}

const CLASS_ID = 'https://ns.adobe.com/xdm/context/experienceevent';
const FIELD_GROUPS = [
  'https://ns.adobe.com/xdm/data/time-series',
  'https://ns.adobe.com/xdm/context/identitymap',
  'https://ns.adobe.com/experience/customerJourneyManagement/message-delivery-feedback',
  'https://ns.adobe.com/experience/customerJourneyManagement/messageexecution',
  'https://ns.adobe.com/experience/customerJourneyManagement/messageprofile',
  'https://ns.adobe.com/experience/customerJourneyManagement/channelContext',
  'https://ns.adobe.com/experience/customerJourneyManagement/message-interaction',
];

/**
 * Wraps the committed short-form schema in the registry metadata of a tenant schema, as AEP answers
 * `xed-full` (resolved short-form `properties` with `meta:xdmField`/`meta:xdmType`, `allOf` references beside them).
 */
export function tenantSchemaFromShortForm(short: object, who: TenantSchemaIdentity, credentials: LocalCredentials, now: number): Node {
  const { $id: _id, $schema: _schema, description: _description, additionalProperties: _closed, ...rest } = short as Node;
  const body = registryField(rest);
  const extendsIds = [CLASS_ID, ...FIELD_GROUPS];
  return {
    $id: who.id,
    'meta:altId': who.altId,
    'meta:resourceType': 'schemas',
    version: '1.0',
    title: who.title,
    description: 'Message delivery feedback and tracking ExperienceEvents (served by aep-local).',
    type: 'object',
    ...body,
    allOf: extendsIds.map(($ref) => ({ $ref, type: 'object', 'meta:xdmType': 'object' })),
    'meta:class': CLASS_ID,
    'meta:abstract': false,
    'meta:extensible': false,
    'meta:extends': extendsIds,
    'meta:containerId': 'tenant',
    'meta:tenantNamespace': `_${who.tenantId}`,
    'meta:sandboxId': who.sandboxId,
    'meta:sandboxType': 'production',
    'meta:immutableTags': ['union'],
    'meta:registryMetadata': {
      'repo:createdDate': now,
      'repo:lastModifiedDate': now,
      'xdm:createdClientId': credentials.clientId,
      'xdm:lastModifiedClientId': credentials.clientId,
      'meta:globalLibVersion': '1.55.1',
    },
    'meta:xdmType': 'object',
    imsOrg: credentials.imsOrgId,
    $schema: 'http://json-schema.org/draft-06/schema#',
  };
}

/** `MM-dd-yyyy HH:mm:ss`, as the registry's error reports show time. */
function reportTime(now: number): string {
  const d = new Date(now);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}-${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

function registryError(status: number, code: string, title: string, message: string, now: number): Answer {
  return json(status, {
    type: `http://ns.adobe.com/aep/errors/${code}`,
    title,
    status,
    report: { registryRequestId: randomUUID(), timestamp: reportTime(now), 'detailed-message': message, 'sub-errors': [] },
    detail: message,
  });
}

const ACCEPT = /^application\/vnd\.adobe\.(xed|xdm)(-full|-notext|-full-notext|-full-desc|-deprecatefield)?\+json$/;

/** Removes `title` (and `description` unless `keepDescriptions`) annotations from every schema node. */
function stripText(node: unknown, keepDescriptions: boolean): unknown {
  if (Array.isArray(node)) return node.map((n) => stripText(n, keepDescriptions));
  if (!isNode(node)) return node;
  const out: Node = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'title' || (key === 'description' && !keepDescriptions)) continue;
    // Keys of `properties` are field names, not annotations: keep them and strip inside.
    out[key] =
      key === 'properties' && isNode(value)
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stripText(v, keepDescriptions)]))
        : stripText(value, keepDescriptions);
  }
  return out;
}

/** `GET .../tenant/schemas/{id}`: the schema in the form the Accept header asks for. */
export function handleSchemaLookup(schemas: readonly Node[], container: string, id: string, accept: string | undefined, now: number): Answer {
  const type = mediaType(accept);
  const match = ACCEPT.exec(type);
  const version = mediaParams(accept).get('version');
  if (!match || version === undefined) {
    const given = (accept ?? '').trim() || '(none)';
    const message = `The supplied Accept header is not valid: ${given} - A valid Accept value should look like application/vnd.adobe.'{xed|xdm'}+json; version=1 (Version should be specified)`;
    return registryError(400, 'XDM-1007-400', 'Accept header invalid', message, now);
  }
  const schema = container === 'tenant' ? schemas.find((s) => s['$id'] === id || s['meta:altId'] === id) : undefined;
  if (!schema || version !== '1') {
    return registryError(404, 'XDM-1012-404', 'Resource Not Found', `Requested resource ${id} with version ${version} is not found`, now);
  }
  const variant = match[2] ?? '';
  let body: unknown = schema;
  if (!variant.startsWith('-full')) {
    // Unresolved forms keep only references (allOf/meta:extends), not the resolved fields.
    const { properties: _properties, required: _required, ...unresolved } = schema;
    body = unresolved;
  }
  if (variant.endsWith('notext')) body = stripText(body, false);
  if (variant === '-full-desc') body = stripText(body, true);
  return json(200, body);
}
