/** What a tenant's schema changes for the connector, compared with the bundled short-form schema. */
import { tenantCapabilities } from '../validate/index.js';
import { REQUIRED_FIELD_GROUPS, type RequiredFieldGroup } from './field-groups.js';

type Node = Record<string, unknown>;

/** The differences `schema pull` reports. */
export interface SchemaDifferences {
  /** The tenant's namespace key, e.g. `_acme`. */
  tenantNamespace?: string;
  /** Leaf fields under the tenant namespace (dot paths). The connector does not fill them; AEP accepts events without them unless required. */
  tenantFields: string[];
  /** The tenant's `feedbackStatus` enum, when it has one. */
  feedbackStatuses?: string[];
  /** True when that enum lacks `delivered`: deliveries must be sent as `sent` (`mapping.deliveredAs: sent`). */
  deliveredMissing: boolean;
  /** Enums narrower than the bundled schema's: values the connector may emit that the tenant refuses. */
  narrowerEnums: Array<{ path: string; missing: string[] }>;
  /** Field groups the connector fills that the schema lacks. */
  missingFieldGroups: RequiredFieldGroup[];
  /** Other fields of the bundled schema the tenant's lacks (dot paths, outermost only). */
  missingFields: string[];
  /** Fields the tenant requires that the bundled schema does not (the connector cannot fill them: every event would fail). */
  extraRequired: string[];
}

function isNode(value: unknown): value is Node {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function props(node: unknown): Node {
  return isNode(node) && isNode(node['properties']) ? node['properties'] : {};
}

function stringsOf(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;
}

function at(node: unknown, path: string): unknown {
  let current = node;
  for (const key of path.split('.')) current = props(current)[key];
  return current;
}

function leaves(node: unknown, prefix: string, out: string[]): void {
  const children = props(node);
  const keys = Object.keys(children);
  if (keys.length === 0) {
    const items = isNode(node) ? node['items'] : undefined;
    if (isNode(items) && Object.keys(props(items)).length > 0) return leaves(items, `${prefix}[]`, out);
    out.push(prefix);
    return;
  }
  for (const key of keys) leaves(children[key], `${prefix}.${key}`, out);
}

/** Walks the bundled schema beside the tenant's: missing fields (outermost), narrower enums, extra required fields. */
function walk(bundled: unknown, tenant: unknown, path: string, diff: SchemaDifferences, skip: ReadonlySet<string>): void {
  const bundledEnum = isNode(bundled) ? stringsOf(bundled['enum']) : undefined;
  const tenantEnum = isNode(tenant) ? stringsOf(tenant['enum']) : undefined;
  if (bundledEnum && tenantEnum) {
    const missing = bundledEnum.filter((v) => !tenantEnum.includes(v));
    if (missing.length > 0) diff.narrowerEnums.push({ path, missing });
  }
  const bundledRequired = new Set(isNode(bundled) ? (stringsOf(bundled['required']) ?? []) : []);
  for (const key of isNode(tenant) ? (stringsOf(tenant['required']) ?? []) : []) {
    if (!bundledRequired.has(key)) diff.extraRequired.push(path ? `${path}.${key}` : key);
  }
  const tenantProps = props(tenant);
  for (const [key, child] of Object.entries(props(bundled))) {
    const childPath = path ? `${path}.${key}` : key;
    if (skip.has(childPath)) continue;
    if (!(key in tenantProps)) {
      diff.missingFields.push(childPath);
      continue;
    }
    walk(child, tenantProps[key], childPath, diff, skip);
  }
  const bundledItems = isNode(bundled) ? bundled['items'] : undefined;
  const tenantItems = isNode(tenant) ? tenant['items'] : undefined;
  if (isNode(bundledItems) && isNode(tenantItems)) walk(bundledItems, tenantItems, `${path}[]`, diff, skip);
}

/**
 * Compares a tenant schema (short form, as converted from the registry) with the bundled one. `extendsIds` are the
 * registry's `meta:extends` (class and field groups), when known: a field group counts as missing when its fields
 * are absent, or when `meta:extends` is known and does not name it.
 */
export function compareSchemas(tenant: object, bundled: object, extendsIds?: readonly string[]): SchemaDifferences {
  const caps = tenantCapabilities(tenant);
  const diff: SchemaDifferences = {
    tenantFields: [],
    deliveredMissing: caps.feedbackStatuses !== undefined && !caps.feedbackStatuses.includes('delivered'),
    narrowerEnums: [],
    missingFieldGroups: [],
    missingFields: [],
    extraRequired: [],
  };
  if (caps.tenantNamespace) {
    diff.tenantNamespace = caps.tenantNamespace;
    leaves(props(tenant)[caps.tenantNamespace], caps.tenantNamespace, diff.tenantFields);
  }
  if (caps.feedbackStatuses) diff.feedbackStatuses = caps.feedbackStatuses;
  const skip = new Set<string>();
  for (const group of REQUIRED_FIELD_GROUPS) {
    const absent = at(tenant, group.path) === undefined || (extendsIds !== undefined && !extendsIds.includes(group.id));
    if (absent) {
      diff.missingFieldGroups.push(group);
      skip.add(group.path);
      // The channel context group also brings the SMS and push contexts.
      if (group.path.endsWith('emailChannelContext')) for (const k of ['smsChannelContext', 'pushChannelContext']) skip.add(group.path.replace('emailChannelContext', k));
    }
  }
  walk(bundled, tenant, '', diff, skip);
  return diff;
}

/** Human-readable lines for the differences (empty when the schemas agree). */
export function describeDifferences(diff: SchemaDifferences): string[] {
  const lines: string[] = [];
  if (diff.deliveredMissing) {
    lines.push(
      `feedbackStatus has no "delivered" (allowed: ${diff.feedbackStatuses!.join(', ')}): set mapping.deliveredAs: sent ` +
        '(a run with this tenantSchema does so by itself and logs it)',
    );
  }
  for (const group of diff.missingFieldGroups) {
    lines.push(`missing field group "${group.title}" (${group.id}): needed for ${group.why}; add it to the schema in AEP`);
  }
  for (const e of diff.narrowerEnums) {
    if (diff.deliveredMissing && e.path.endsWith('feedbackStatus') && e.missing.every((v) => ['delivered', 'read', 'unknown'].includes(v))) {
      lines.push(`${e.path} also lacks: ${e.missing.filter((v) => v !== 'delivered').join(', ') || '(only delivered)'}`);
      continue;
    }
    lines.push(`${e.path} refuses values the connector may send: ${e.missing.join(', ')}`);
  }
  if (diff.missingFields.length > 0) lines.push(`fields the connector may fill that the schema lacks: ${diff.missingFields.join(', ')}`);
  if (diff.extraRequired.length > 0) lines.push(`fields the schema requires that the connector does not fill (every event would fail): ${diff.extraRequired.join(', ')}`);
  if (diff.tenantNamespace) {
    lines.push(
      `tenant fields under ${diff.tenantNamespace} (the connector leaves them empty): ${diff.tenantFields.length ? diff.tenantFields.join(', ') : 'none'}`,
    );
  }
  return lines;
}
