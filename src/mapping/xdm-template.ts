/**
 * Compiles a mapping's `xdm` section against the short-form XDM schema: unknown fields are load errors, and each
 * value is coerced to its field's type at run time (a wrong-typed value is left out rather than failing the event).
 */
import type { JsonObject, JsonValue } from '../core/types.js';
import { loadDefaultSchema } from '../validate/index.js';
import { asString, compileExpression, escapePointer, objectOf, type CompileScope, type Evaluate } from './expressions.js';
import { validEmail } from './identity.js';
import type { TimeParser } from './time.js';

/** The parts of a JSON Schema node this module reads. */
interface SchemaNode {
  type?: string | string[];
  format?: string;
  enum?: JsonValue[];
  properties?: Record<string, SchemaNode>;
  additionalProperties?: boolean | SchemaNode;
  items?: SchemaNode;
}

let defaultSchema: SchemaNode | undefined;

/** The committed short-form message-feedback schema, read once. */
function schema(): SchemaNode {
  return (defaultSchema ??= loadDefaultSchema() as SchemaNode);
}

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isDirective(v: JsonValue): boolean {
  return isObject(v) && Object.keys(v).some((k) => k.startsWith('@'));
}

function typeOf(node: SchemaNode): string | undefined {
  return Array.isArray(node.type) ? node.type.find((t) => t !== 'null') : node.type;
}

/** A converter of one value to what the schema node accepts, or undefined (left out). */
type Coerce = (v: JsonValue | undefined) => JsonValue | undefined;

function coercerFor(node: SchemaNode | undefined, time: TimeParser): Coerce | undefined {
  if (!node) return undefined;
  switch (typeOf(node)) {
    case 'string': {
      const allowed = node.enum ? new Set(node.enum.map(String)) : undefined;
      if (node.format === 'date-time') {
        return (v) => {
          const r = time.parse(v);
          return r.ok ? r.iso : undefined;
        };
      }
      if (node.format === 'email') return (v) => validEmail(asString(v));
      return (v) => {
        const s = asString(v);
        return s !== undefined && allowed && !allowed.has(s) ? undefined : s;
      };
    }
    case 'integer':
      return (v) => {
        const n = typeof v === 'number' ? v : Number(asString(v) ?? Number.NaN);
        return Number.isInteger(n) ? n : undefined;
      };
    case 'number':
      return (v) => {
        const n = typeof v === 'number' ? v : Number(asString(v) ?? Number.NaN);
        return Number.isFinite(n) ? n : undefined;
      };
    case 'boolean':
      return (v) => {
        if (typeof v === 'boolean') return v;
        const s = asString(v)?.toLowerCase();
        return s === 'true' ? true : s === 'false' ? false : undefined;
      };
    case 'array': {
      const item = coercerFor(node.items, time);
      return (v) => {
        if (!Array.isArray(v)) return undefined;
        const out = item ? v.map((x) => item(x)).filter((x): x is JsonValue => x !== undefined) : v;
        return out.length ? out : undefined;
      };
    }
    case 'object': {
      if (node.properties || !isObject(node.additionalProperties)) return (v) => (isObject(v) ? v : undefined);
      const entry = coercerFor(node.additionalProperties, time);
      return (v) => {
        if (!isObject(v)) return undefined;
        const out: JsonObject = {};
        let any = false;
        for (const [k, x] of Object.entries(v)) {
          const c = entry ? entry(x) : x;
          if (c !== undefined) {
            out[k] = c;
            any = true;
          }
        }
        return any ? out : undefined;
      };
    }
    default:
      return undefined;
  }
}

function knownKeys(node: SchemaNode): string {
  const keys = Object.keys(node.properties ?? {});
  return keys.length > 12 ? `${keys.slice(0, 12).join(', ')}, …` : keys.join(', ');
}

function compileNode(value: JsonValue, node: SchemaNode | undefined, at: string, scope: CompileScope, time: TimeParser, root: boolean): Evaluate {
  if (!node) return compileExpression(value, at, scope); // inside a tenant namespace: not checked
  if (isObject(value) && !isDirective(value) && typeOf(node) === 'object') {
    const entries: Array<[string, Evaluate]> = [];
    for (const [key, sub] of Object.entries(value)) {
      if (key === '$comment') continue;
      const here = `${at}/${escapePointer(key)}`;
      const child = node.properties?.[key] ?? (isObject(node.additionalProperties) ? (node.additionalProperties as SchemaNode) : undefined);
      if (!child) {
        // At the event root, other `_`-keys are tenant namespaces (`_<tenant>`) that the tenant schema defines.
        if (root && key.startsWith('_') && key !== '_experience' && key !== '_id') {
          entries.push([key, compileExpression(sub, here, scope)]);
          continue;
        }
        scope.problem(here, `"${key}" is not a field of the XDM schema here — check the spelling (known: ${knownKeys(node)})`);
        continue;
      }
      entries.push([key, compileNode(sub, child, here, scope, time, false)]);
    }
    return objectOf(entries);
  }
  if (!isDirective(value) && !isObject(value) && !Array.isArray(value) && value !== null && node.enum && !node.enum.includes(value)) {
    scope.problem(at, `${JSON.stringify(value)} is not allowed here — use one of ${node.enum.map(String).join(', ')}`);
  }
  const fn = compileExpression(value, at, scope);
  const coerce = coercerFor(node, time);
  return coerce ? (r) => coerce(fn(r)) : fn;
}

/** Compiles the `xdm` section: a template of the event, checked and coerced against the short-form schema. */
export function compileXdmTemplate(xdm: JsonObject, scope: CompileScope, time: TimeParser): Evaluate {
  return compileNode(xdm, schema(), '/xdm', scope, time, true);
}
