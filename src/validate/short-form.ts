/** Converts XDM schemas and instances between the repository's full form (URI keys) and AEP's short form (XED). */

/** A JSON Schema node as found in the XDM repository or produced from it; unknown keywords pass through. */
export interface JsonSchema {
  [keyword: string]: unknown;
  $id?: string;
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  allOf?: JsonSchema[];
  definitions?: Record<string, JsonSchema>;
}

/** Schemas of the XDM repository, keyed by their `$id` (without fragment). */
export type SchemaRegistry = ReadonlyMap<string, JsonSchema>;

/** The `$ref` of the full form's key-pattern guard (`@context`); it has no meaning in the short form. */
export const EXTENSIBLE_CONTEXT_REF = 'https://ns.adobe.com/xdm/common/extensible#/definitions/@context';

/** Keywords that `resolveSchema` drops: structure it inlines, or repository bookkeeping. */
const DROPPED_KEYWORDS = new Set(['$ref', 'allOf', 'definitions', '$id', '$schema']);
/** `meta:*` annotations worth keeping in a short-form schema (the others are repository bookkeeping). */
const KEPT_META = new Set(['meta:xdmType', 'meta:enum']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unionRequired(a: string[] | undefined, b: readonly string[]): string[] {
  return [...new Set([...(a ?? []), ...b])];
}

/** Follows a JSON Pointer fragment (`/definitions/x`) inside a document. */
function pointer(doc: JsonSchema, fragment: string | undefined): JsonSchema {
  let node: unknown = doc;
  for (const raw of (fragment ?? '').split('/').filter(Boolean)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!isObject(node) || !(key in node)) throw new Error(`unresolvable JSON pointer #${fragment ?? ''}`);
    node = node[key];
  }
  if (!isObject(node)) throw new Error(`JSON pointer #${fragment ?? ''} does not point at a schema`);
  return node as JsonSchema;
}

/**
 * Merges `b` into `a` (mutating `a`): union of `properties` (recursively) and `required`;
 * for any other keyword the first one wins.
 */
export function mergeSchemas(a: JsonSchema, b: JsonSchema): JsonSchema {
  for (const [k, v] of Object.entries(b)) {
    if (k === 'properties' && isObject(v)) {
      const props: Record<string, JsonSchema> = (a.properties ??= {});
      for (const [pk, pv] of Object.entries(v as Record<string, JsonSchema>)) {
        const existing = props[pk];
        props[pk] = existing ? mergeSchemas(mergeSchemas({}, existing), pv) : pv;
      }
    } else if (k === 'required' && Array.isArray(v)) {
      a.required = unionRequired(a.required, v as string[]);
    } else if (!(k in a)) {
      a[k] = v;
    }
  }
  return a;
}

/**
 * Inlines every `$ref` (by `$id` through `byId`, or `#pointer` within `root`) and flattens `allOf`,
 * keeping only `meta:xdmType`/`meta:enum` of the `meta:*` annotations. The result is still full form.
 */
export function resolveSchema(node: JsonSchema, root: JsonSchema | null, byId: SchemaRegistry): JsonSchema {
  let out: JsonSchema = {};
  if (node.$ref === EXTENSIBLE_CONTEXT_REF) return out;
  if (node.$ref !== undefined) {
    const hash = node.$ref.indexOf('#');
    const base = hash < 0 ? node.$ref : node.$ref.slice(0, hash);
    const fragment = hash < 0 ? undefined : node.$ref.slice(hash + 1);
    const doc = base ? byId.get(base) : root;
    if (!doc) throw new Error(`unresolved $ref ${node.$ref}`);
    out = resolveSchema(pointer(doc, fragment), doc, byId);
  }
  for (const [k, v] of Object.entries(node)) {
    if (DROPPED_KEYWORDS.has(k) || (k.startsWith('meta:') && !KEPT_META.has(k))) continue;
    if (k === 'properties' && isObject(v)) {
      const props: Record<string, JsonSchema> = { ...out.properties };
      for (const [pk, pv] of Object.entries(v as Record<string, JsonSchema>)) props[pk] = resolveSchema(pv, root, byId);
      out.properties = props;
    } else if ((k === 'items' || k === 'additionalProperties') && isObject(v)) {
      out[k] = resolveSchema(v as JsonSchema, root, byId);
    } else if (k === 'required' && Array.isArray(v)) {
      out.required = unionRequired(out.required, v as string[]);
    } else {
      out[k] = v;
    }
  }
  for (const part of node.allOf ?? []) mergeSchemas(out, resolveSchema(part, root, byId));
  if (out.properties && out.type === undefined) out.type = 'object';
  return out;
}

/**
 * The short-form path of a key at the event root: `@id` → `_id`, `xdm:timestamp` → `timestamp`,
 * `https://ns.adobe.com/experience/a/b/c` → `_experience.a.b.c`, `https://ns.adobe.com/xdm/channels/x` → `_channels.x`.
 */
export function rootPath(key: string): string[] {
  if (key === '@id' || key === '@type') return ['_' + key.slice(1)];
  if (key.startsWith('xdm:')) return [key.slice(4)];
  const m = /^https?:\/\/ns\.adobe\.com\/(?:xdm\/)?(.+)$/.exec(key);
  if (m?.[1] !== undefined) {
    const segments = m[1].split('/');
    segments[0] = '_' + segments[0];
    return segments;
  }
  return [key];
}

/** The short-form name of a key below the root: only the local name (last URI segment, name after `xdm:`). */
export function nestedName(key: string): string {
  if (key.startsWith('@')) return '_' + key.slice(1);
  if (key.startsWith('xdm:')) return key.slice(4);
  if (/^https?:\/\//.test(key)) return key.split('/').pop() ?? key;
  return key;
}

/** Annotation on a short-form field: the full-form key it came from. */
export const XDM_FIELD = 'meta:xdmField';
/** Annotation on pure-namespace objects (`_experience`, `customerJourneyManagement`) that have no full-form key. */
export const XED_CONVERTED = 'meta:xedConverted';

function namespaceNode(closed: boolean): JsonSchema {
  return { type: 'object', [XED_CONVERTED]: true, properties: {}, ...(closed ? { additionalProperties: false } : {}) };
}

/**
 * Converts a resolved full-form schema to the short form. `closed` adds `additionalProperties: false`
 * to every object with declared properties (maps keep their schema for values).
 */
export function schemaToShort(s: JsonSchema, isRoot: boolean, closed: boolean): JsonSchema {
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(s)) {
    if (k !== 'properties' && k !== 'required' && k !== 'items' && k !== 'additionalProperties') out[k] = v;
  }
  if (s.items) out.items = schemaToShort(s.items, false, closed);
  if (isObject(s.additionalProperties)) out.additionalProperties = schemaToShort(s.additionalProperties, false, closed);
  else if (s.additionalProperties !== undefined) out.additionalProperties = s.additionalProperties;
  if (!s.properties) return out;
  out.type = 'object';
  const properties: Record<string, JsonSchema> = {};
  out.properties = properties;
  if (closed && s.additionalProperties === undefined) out.additionalProperties = false;
  const required = new Set(s.required ?? []);
  for (const [key, sub] of Object.entries(s.properties)) {
    const path = isRoot ? rootPath(key) : [nestedName(key)];
    const isRequired = required.has(key);
    let holder: JsonSchema = out;
    for (const segment of path.slice(0, -1)) {
      const props: Record<string, JsonSchema> = (holder.properties ??= {});
      const next: JsonSchema = (props[segment] ??= namespaceNode(closed));
      if (isRequired) holder.required = unionRequired(holder.required, [segment]);
      holder = next;
    }
    const leaf = path[path.length - 1] ?? key;
    const props: Record<string, JsonSchema> = (holder.properties ??= {});
    if (props[leaf]) throw new Error(`short-name collision: ${path.join('.')}`);
    props[leaf] = { ...schemaToShort(sub, false, closed), [XDM_FIELD]: key };
    if (isRequired) holder.required = unionRequired(holder.required, [leaf]);
  }
  return out;
}

/**
 * Builds the short-form schema of a composition (class + field groups given by `$id`): resolves and merges
 * them, then converts to the short form. `closed` (default true) rejects undefined keys everywhere.
 */
export function shortSchema(byId: SchemaRegistry, rootIds: readonly string[], $id: string, closed = true): JsonSchema {
  const merged: JsonSchema = {};
  for (const id of rootIds) mergeSchemas(merged, resolveSchema({ $ref: id }, null, byId));
  return { $id, ...schemaToShort(merged, true, closed) };
}

type Json = unknown;

/** Converts a short-form instance to the full form, driven by the `meta:xdmField` annotations of a short schema. */
export function instanceToFull(inst: Json, sch: JsonSchema | undefined): Json {
  if (Array.isArray(inst)) return inst.map((x) => instanceToFull(x, sch?.items));
  if (!isObject(inst) || !sch) return inst;
  if (!sch.properties) {
    const values = isObject(sch.additionalProperties) ? sch.additionalProperties : undefined;
    return Object.fromEntries(Object.entries(inst).map(([k, v]) => [k, instanceToFull(v, values)]));
  }
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(inst)) {
    const p = sch.properties[k];
    if (!p) out[k] = v;
    else if (p[XED_CONVERTED] === true) Object.assign(out, instanceToFull(v, p));
    else out[String(p[XDM_FIELD] ?? k)] = instanceToFull(v, p);
  }
  return out;
}

/** Where a full-form key lands in the short form: the path below the current object and the schema there. */
interface ShortTarget {
  path: string[];
  schema: JsonSchema;
}

/** Full-form key → short target for one object level, looking through namespace-only (`xedConverted`) objects. */
function fullKeyIndex(sch: JsonSchema): Map<string, ShortTarget> {
  const index = new Map<string, ShortTarget>();
  const visit = (node: JsonSchema, prefix: string[]): void => {
    for (const [name, p] of Object.entries(node.properties ?? {})) {
      if (p[XED_CONVERTED] === true) visit(p, [...prefix, name]);
      else index.set(String(p[XDM_FIELD] ?? name), { path: [...prefix, name], schema: p });
    }
  };
  visit(sch, []);
  return index;
}

function setPath(target: Record<string, Json>, path: readonly string[], value: Json): void {
  let holder = target;
  for (const segment of path.slice(0, -1)) {
    const next = holder[segment];
    if (isObject(next)) holder = next;
    else {
      const created: Record<string, Json> = {};
      holder[segment] = created;
      holder = created;
    }
  }
  const leaf = path[path.length - 1];
  if (leaf !== undefined) holder[leaf] = value;
}

/**
 * Converts a full-form instance (e.g. an Adobe example) to the short form, driven by the `meta:xdmField`
 * annotations of a short schema. Keys the schema does not know are converted by the naming rules alone
 * (`rootPath` at the root, `nestedName` below), so a closed schema then reports them as undefined fields.
 */
export function instanceToShort(inst: Json, sch: JsonSchema | undefined, isRoot = true): Json {
  if (Array.isArray(inst)) return inst.map((x) => instanceToShort(x, sch?.items, false));
  if (!isObject(inst)) return inst;
  if (sch && !sch.properties && isObject(sch.additionalProperties)) {
    const values = sch.additionalProperties;
    return Object.fromEntries(Object.entries(inst).map(([k, v]) => [k, instanceToShort(v, values, false)]));
  }
  const index = sch ? fullKeyIndex(sch) : new Map<string, ShortTarget>();
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(inst)) {
    const target = index.get(k);
    if (target) setPath(out, target.path, instanceToShort(v, target.schema, false));
    else setPath(out, isRoot ? rootPath(k) : [nestedName(k)], instanceToShort(v, undefined, false));
  }
  return out;
}
