/** Turns a tenant schema from AEP's Schema Registry (xed-full) into a JSON Schema AJV compiles, and reads what it allows. */
import type { JsonSchema } from './short-form.js';

/** `meta:*` annotations kept on fields: they document where a short key came from and what XDM type it has. */
const KEPT_FIELD_META = new Set(['meta:xdmField', 'meta:xdmType', 'meta:xedConverted', 'meta:enum']);
/** `meta:*` annotations kept at the root: what `tenantCapabilities` and humans need to recognise the schema. */
const KEPT_ROOT_META = new Set(['meta:altId', 'meta:class', 'meta:tenantNamespace']);
/** Registry bookkeeping (not JSON Schema) dropped everywhere. */
const DROPPED = new Set(['$schema', 'definitions', 'allOf', 'imsOrg', 'version', 'refs']);

export interface TenantConversionOptions {
  /**
   * Reject keys the schema does not define (`additionalProperties: false` on every object with properties),
   * as AEP's streaming validation does ("extraneous key [x] is not permitted"). Default true.
   */
  closed?: boolean;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function convert(node: Record<string, unknown>, isRoot: boolean, closed: boolean): JsonSchema {
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(node)) {
    if (DROPPED.has(k)) continue;
    if (k.startsWith('meta:')) {
      if (KEPT_FIELD_META.has(k) || (isRoot && KEPT_ROOT_META.has(k))) out[k] = v;
      continue;
    }
    if (k === 'properties' && isObject(v)) {
      const props: Record<string, JsonSchema> = {};
      for (const [pk, pv] of Object.entries(v)) if (isObject(pv)) props[pk] = convert(pv, false, closed);
      out.properties = props;
    } else if ((k === 'items' || k === 'additionalProperties') && isObject(v)) {
      out[k] = convert(v, false, closed);
    } else if (k === '$ref') {
      // A resolved (xed-full) answer should hold no references; one that remains cannot be compiled offline.
      continue;
    } else {
      out[k] = v;
    }
  }
  if (out.properties) {
    out.type ??= 'object';
    if (closed && out.additionalProperties === undefined) out.additionalProperties = false;
  }
  return out;
}

/**
 * Converts what AEP's Schema Registry answers to `GET /tenant/schemas/{id}` with
 * `Accept: application/vnd.adobe.xed-full+json; version=1` (resolved, short keys, `meta:xdmField`/`meta:xdmType`)
 * into a short-form JSON Schema for `createValidator({ schema })`. Enums, formats, `required` and the tenant's
 * `_<tenant>` fields are kept; registry bookkeeping (`meta:registryMetadata`, `allOf`, `imsOrg`…) is dropped.
 */
export function tenantSchemaToShort(registrySchema: object, options: TenantConversionOptions = {}): JsonSchema {
  if (!isObject(registrySchema)) throw new Error('tenant schema: expected a JSON object');
  if (!isObject(registrySchema['properties'])) {
    throw new Error(
      'tenant schema: no "properties"; fetch it resolved with Accept: application/vnd.adobe.xed-full+json; version=1',
    );
  }
  return convert(registrySchema, true, options.closed ?? true);
}

/** What a tenant schema allows that the connector must adapt to. */
export interface TenantCapabilities {
  /** The hard enum of `messageDeliveryfeedback.feedbackStatus`, or undefined when the field is free text or absent. */
  feedbackStatuses: string[] | undefined;
  /** The tenant's namespace key (e.g. `_acme`), when the schema has one. */
  tenantNamespace?: string;
}

/** Root keys starting with `_` that belong to Adobe, not to a tenant. */
const ADOBE_ROOT_KEYS = new Set(['_id', '_type', '_experience', '_repo', '_channels', '_acp_system_metadata']);

function child(node: unknown, key: string): unknown {
  if (!isObject(node)) return undefined;
  const props = node['properties'];
  return isObject(props) ? props[key] : undefined;
}

/**
 * Reads a short-form schema (converted or straight from the registry) for what the connector must adapt to:
 * a `feedbackStatus` enum lacking `delivered` means deliveries must be sent as `sent`.
 */
export function tenantCapabilities(shortSchema: object): TenantCapabilities {
  let node: unknown = shortSchema;
  for (const key of ['_experience', 'customerJourneyManagement', 'messageDeliveryfeedback', 'feedbackStatus']) {
    node = child(node, key);
  }
  const statusEnum = isObject(node) && Array.isArray(node['enum']) ? node['enum'] : undefined;
  const feedbackStatuses = statusEnum?.filter((v): v is string => typeof v === 'string');
  const caps: TenantCapabilities = { feedbackStatuses };
  const declared = isObject(shortSchema) ? shortSchema['meta:tenantNamespace'] : undefined;
  if (typeof declared === 'string' && declared) caps.tenantNamespace = declared;
  else if (isObject(shortSchema) && isObject(shortSchema['properties'])) {
    const found = Object.keys(shortSchema['properties']).find((k) => k.startsWith('_') && !ADOBE_ROOT_KEYS.has(k));
    if (found !== undefined) caps.tenantNamespace = found;
  }
  return caps;
}
