/** Compiles mapping directives (@path, @literal, @template, @if, @first, @lookup, @match, @ref) into closures, once. */
import type { JsonObject, JsonValue } from '../core/types.js';

/** What an expression yields for one record: a JSON value, or undefined for "no value". */
export type Value = JsonValue | undefined;
export type Evaluate = (record: JsonObject) => Value;
export type Test = (record: JsonObject) => boolean;

/** The directive names, for messages. */
export const DIRECTIVES = ['@path', '@literal', '@template', '@if', '@first', '@lookup', '@match', '@ref'] as const;
const CONDITIONS = ['exists', 'blank', 'equals', 'in', 'matches', 'not', 'all', 'any'] as const;

/** Shared state of one mapping's compilation: problems found, and the `define` table for @ref. */
export class CompileScope {
  readonly problems: string[] = [];
  private readonly slots = new Map<string, { fn?: Evaluate; describe?: string }>();
  /** Refs used by the define being compiled (for cycle detection). */
  private currentRefs: Set<string> | undefined;
  private readonly refGraph = new Map<string, Set<string>>();

  constructor(private readonly defineNames: ReadonlySet<string>) {}

  problem(at: string, message: string): void {
    this.problems.push(`${at || '/'}: ${message}`);
  }

  /** A closure that calls the named define (filled in once all defines are compiled). */
  ref(name: string, at: string): Evaluate {
    if (!this.defineNames.has(name)) {
      this.problem(at, `@ref "${name}" is not defined — add it to "define" or fix the name${this.defineNames.size ? ` (defined: ${[...this.defineNames].join(', ')})` : ''}`);
      return () => undefined;
    }
    this.currentRefs?.add(name);
    let slot = this.slots.get(name);
    if (!slot) this.slots.set(name, (slot = {}));
    const s = slot;
    return (record) => s.fn!(record);
  }

  describeRef(name: string): string | undefined {
    return this.slots.get(name)?.describe;
  }

  /** Compiles all defines; reports cycles. */
  compileDefines(define: Record<string, JsonValue>): void {
    for (const [name, expr] of Object.entries(define)) {
      this.currentRefs = new Set();
      const fn = compileExpression(expr, `/define/${escapePointer(name)}`, this);
      this.refGraph.set(name, this.currentRefs);
      this.currentRefs = undefined;
      let slot = this.slots.get(name);
      if (!slot) this.slots.set(name, (slot = {}));
      slot.fn = fn;
      slot.describe = describeExpression(expr, this);
    }
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (name: string, trail: string[]): void => {
      const st = state.get(name);
      if (st === 'done') return;
      if (st === 'visiting') {
        this.problem(`/define/${escapePointer(name)}`, `@ref cycle ${[...trail, name].join(' → ')} — a define cannot refer to itself`);
        return;
      }
      state.set(name, 'visiting');
      for (const next of this.refGraph.get(name) ?? []) visit(next, [...trail, name]);
      state.set(name, 'done');
    };
    for (const name of this.refGraph.keys()) visit(name, []);
  }
}

export function escapePointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** True for a value that counts as present: not undefined, null, or a blank string. */
export function isPresent(v: Value): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'string') return v.trim() !== '';
  return true;
}

/** A scalar as a string (trimmed), or undefined for missing/blank values, objects and arrays. */
export function asString(v: Value): string | undefined {
  if (typeof v === 'string') {
    const t = v.trim();
    return t === '' ? undefined : t;
  }
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : undefined;
  if (typeof v === 'boolean') return String(v);
  return undefined;
}

/** Compiles a dotted path (`a.b.0.c`, optional leading `$.`) or a JSON pointer (`/Delivery ID`) into a getter. */
export function compilePath(path: string): Evaluate {
  let segments: string[];
  if (path.startsWith('/')) segments = path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  else segments = (path.startsWith('$.') ? path.slice(2) : path === '$' ? '' : path).split('.').filter((s) => s !== '');
  const step = (v: Value, key: string): Value => {
    if (v === null || typeof v !== 'object') return undefined;
    if (Array.isArray(v)) {
      const i = Number(key);
      return Number.isInteger(i) ? v[i] : undefined;
    }
    return Object.prototype.hasOwnProperty.call(v, key) ? v[key] : undefined;
  };
  const norm = (v: Value): Value => (v === null ? undefined : v);
  if (segments.length === 0) return (r) => r;
  if (segments.length === 1) {
    const [a] = segments as [string];
    return (r) => norm(step(r, a));
  }
  if (segments.length === 2) {
    const [a, b] = segments as [string, string];
    return (r) => norm(step(step(r, a), b));
  }
  return (r) => {
    let v: Value = r;
    for (const s of segments) {
      v = step(v, s);
      if (v === undefined) return undefined;
    }
    return norm(v);
  };
}

function compileRegex(pattern: string, flags: string | undefined, at: string, scope: CompileScope): RegExp | undefined {
  try {
    return new RegExp(pattern, flags ?? '');
  } catch (err) {
    scope.problem(at, `invalid regular expression: ${(err as Error).message} — fix the pattern (JSON strings need \\\\ for a backslash)`);
    return undefined;
  }
}

/** Compiles a condition object (exists, blank, equals, in, matches, not, all, any). */
export function compileCondition(cond: JsonValue, at: string, scope: CompileScope): Test {
  if (!isObject(cond)) {
    scope.problem(at, 'a condition must be an object such as {"exists": {"@path": "x"}}');
    return () => false;
  }
  const keys = Object.keys(cond).filter((k) => k !== '$comment' && (CONDITIONS as readonly string[]).includes(k));
  if (keys.length !== 1) {
    scope.problem(at, `give exactly one condition of ${CONDITIONS.join(', ')} (found ${keys.length ? keys.join(', ') : 'none'})`);
    return () => false;
  }
  return compileConditionKey(keys[0]!, cond[keys[0]!]!, `${at}/${keys[0]}`, scope);
}

function compileConditionKey(key: string, arg: JsonValue, at: string, scope: CompileScope): Test {
  switch (key) {
    case 'exists': {
      const v = compileExpression(arg, at, scope);
      return (r) => isPresent(v(r));
    }
    case 'blank': {
      const v = compileExpression(arg, at, scope);
      return (r) => !isPresent(v(r));
    }
    case 'equals': {
      const o = arg as JsonObject;
      const v = compileExpression(o.value ?? null, `${at}/value`, scope);
      const ic = o.ignoreCase === true;
      const to = asString(o.to as Value);
      if (to === undefined) {
        scope.problem(`${at}/to`, 'equals needs a string, number or boolean in "to"');
        return () => false;
      }
      const want = ic ? to.toLowerCase() : to;
      return (r) => {
        const s = asString(v(r));
        return s !== undefined && (ic ? s.toLowerCase() : s) === want;
      };
    }
    case 'in': {
      const o = arg as JsonObject;
      const v = compileExpression(o.value ?? null, `${at}/value`, scope);
      const ic = o.ignoreCase === true;
      const list = new Set(((o.list as JsonValue[]) ?? []).map((x) => asString(x)).filter((x): x is string => x !== undefined).map((x) => (ic ? x.toLowerCase() : x)));
      return (r) => {
        const s = asString(v(r));
        return s !== undefined && list.has(ic ? s.toLowerCase() : s);
      };
    }
    case 'matches': {
      const o = arg as JsonObject;
      const v = compileExpression(o.value ?? null, `${at}/value`, scope);
      const re = compileRegex(String(o.pattern), o.flags as string | undefined, `${at}/pattern`, scope);
      if (!re) return () => false;
      return (r) => {
        const s = asString(v(r));
        return s !== undefined && re.test(s);
      };
    }
    case 'not': {
      const c = compileCondition(arg, at, scope);
      return (r) => !c(r);
    }
    case 'all': {
      const cs = (arg as JsonValue[]).map((c, i) => compileCondition(c, `${at}/${i}`, scope));
      return (r) => cs.every((c) => c(r));
    }
    default: {
      const cs = (arg as JsonValue[]).map((c, i) => compileCondition(c, `${at}/${i}`, scope));
      return (r) => cs.some((c) => c(r));
    }
  }
}

/** A copy of a literal, so events never share mutable objects; blank strings and null become "no value". */
function literal(value: JsonValue): Evaluate {
  if (value === null || (typeof value === 'string' && value.trim() === '')) return () => undefined;
  if (typeof value !== 'object') return () => value;
  return () => copyOf(value);
}

function copyOf(value: JsonValue): JsonValue {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copyOf);
  const out: JsonObject = {};
  for (const k in value) out[k] = copyOf(value[k]!);
  return out;
}

const PLACEHOLDER = /\{\{\s*([^}]+?)\s*\}\}/g;

function compileTemplate(text: string, at: string, scope: CompileScope): Evaluate {
  const parts: Array<string | Evaluate> = [];
  let last = 0;
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m.index! > last) parts.push(text.slice(last, m.index));
    const name = m[1]!;
    parts.push(name.startsWith('@') ? scope.ref(name.slice(1), at) : compilePath(name));
    last = m.index! + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  const placeholders = parts.filter((p) => typeof p !== 'string').length;
  if (placeholders === 0) return literal(text);
  return (r) => {
    let out = '';
    let found = 0;
    for (const p of parts) {
      if (typeof p === 'string') out += p;
      else {
        const s = asString(p(r));
        if (s !== undefined) {
          out += s;
          found++;
        }
      }
    }
    return found === 0 || out.trim() === '' ? undefined : out;
  };
}

/**
 * Compiles any expression: a directive object, an object or array of expressions (a template of the output),
 * or a literal. Problems are reported to the scope with their JSON pointer; the result is then a no-value closure.
 */
/** An object of the fields whose expressions give a value; undefined when none does (no empty objects in XDM). */
export function objectOf(entries: ReadonlyArray<readonly [string, Evaluate]>): Evaluate {
  return (r) => {
    const out: JsonObject = {};
    let any = false;
    for (const [k, fn] of entries) {
      const v = fn(r);
      if (v !== undefined) {
        out[k] = v;
        any = true;
      }
    }
    return any ? out : undefined;
  };
}

export function compileExpression(expr: JsonValue, at: string, scope: CompileScope): Evaluate {
  if (Array.isArray(expr)) {
    const items = expr.map((e, i) => compileExpression(e, `${at}/${i}`, scope));
    return (r) => {
      const out: JsonValue[] = [];
      for (const item of items) {
        const v = item(r);
        if (v !== undefined) out.push(v);
      }
      return out.length ? out : undefined;
    };
  }
  if (!isObject(expr)) return literal(expr);
  const keys = Object.keys(expr);
  const directiveKeys = keys.filter((k) => k.startsWith('@'));
  if (directiveKeys.length === 0) {
    const entries = keys.filter((k) => k !== '$comment').map((k): [string, Evaluate] => [k, compileExpression(expr[k]!, `${at}/${escapePointer(k)}`, scope)]);
    return objectOf(entries);
  }
  if (keys.length !== 1) {
    scope.problem(at, `a directive object has exactly one key, found ${keys.map((k) => JSON.stringify(k)).join(', ')} — split it or wrap the other keys`);
    return () => undefined;
  }
  const key = directiveKeys[0]!;
  const arg = expr[key]!;
  const here = `${at}/${escapePointer(key)}`;
  switch (key) {
    case '@path':
      return compilePath(String(arg));
    case '@literal':
      return literal(arg);
    case '@template':
      return compileTemplate(String(arg), here, scope);
    case '@ref':
      return scope.ref(String(arg), here);
    case '@first': {
      const items = (arg as JsonValue[]).map((e, i) => compileExpression(e, `${here}/${i}`, scope));
      return (r) => {
        for (const item of items) {
          const v = item(r);
          if (isPresent(v)) return v;
        }
        return undefined;
      };
    }
    case '@if': {
      const o = arg as JsonObject;
      const condKeys = Object.keys(o).filter((k) => (CONDITIONS as readonly string[]).includes(k));
      if (condKeys.length !== 1) {
        scope.problem(here, `@if takes exactly one condition of ${CONDITIONS.join(', ')} (found ${condKeys.length ? condKeys.join(', ') : 'none'})`);
        return () => undefined;
      }
      if (!('then' in o) && !('else' in o)) scope.problem(here, '@if needs "then" and/or "else"');
      const test = compileConditionKey(condKeys[0]!, o[condKeys[0]!]!, `${here}/${condKeys[0]}`, scope);
      const yes = 'then' in o ? compileExpression(o.then!, `${here}/then`, scope) : () => undefined;
      const no = 'else' in o ? compileExpression(o.else!, `${here}/else`, scope) : () => undefined;
      return (r) => (test(r) ? yes(r) : no(r));
    }
    case '@lookup': {
      const o = arg as JsonObject;
      const v = compileExpression(o.value ?? null, `${here}/value`, scope);
      const ic = o.ignoreCase === true;
      const table = new Map<string, Evaluate>();
      for (const [k, out] of Object.entries((o.table as JsonObject) ?? {})) table.set(ic ? k.toLowerCase() : k, literal(out));
      const fallback = 'default' in o ? literal(o.default!) : () => undefined;
      return (r) => {
        const s = asString(v(r));
        if (s === undefined) return fallback(r);
        const hit = table.get(ic ? s.toLowerCase() : s);
        return hit ? hit(r) : fallback(r);
      };
    }
    case '@match': {
      const o = arg as JsonObject;
      const v = compileExpression(o.value ?? null, `${here}/value`, scope);
      const re = compileRegex(String(o.pattern), o.flags as string | undefined, `${here}/pattern`, scope);
      if (!re) return () => undefined;
      const groups = new RegExp(`${re.source}|`).exec('')!.length - 1;
      const group = typeof o.group === 'number' ? o.group : groups > 0 ? 1 : 0;
      if (group > groups) scope.problem(`${here}/group`, `the pattern has ${groups} capture group(s), group ${group} does not exist`);
      return (r) => {
        const s = asString(v(r));
        if (s === undefined) return undefined;
        const m = re.exec(s);
        const g = m?.[group];
        return g === undefined || g.trim() === '' ? undefined : g;
      };
    }
    default:
      scope.problem(here, `unknown directive ${key} — use one of ${DIRECTIVES.join(', ')}`);
      return () => undefined;
  }
}

/** A short human description of where a value comes from, for "missing X" reasons (`metadata.eventId`). */
export function describeExpression(expr: JsonValue, scope?: CompileScope): string {
  return [...new Set(sourcesOf(expr, scope))].join(' or ') || 'the mapping';
}

/** The record paths an expression reads (literals read none). */
function sourcesOf(expr: JsonValue | undefined, scope?: CompileScope): string[] {
  if (!isObject(expr)) return [];
  if (typeof expr['@path'] === 'string') return [expr['@path']];
  if (typeof expr['@ref'] === 'string') return (scope?.describeRef(expr['@ref']) ?? `define.${expr['@ref']}`).split(' or ');
  if (typeof expr['@template'] === 'string') return [`"${expr['@template']}"`];
  if (Array.isArray(expr['@first'])) return expr['@first'].flatMap((e) => sourcesOf(e, scope));
  if (isObject(expr['@lookup'])) return sourcesOf(expr['@lookup'].value, scope);
  if (isObject(expr['@match'])) return sourcesOf(expr['@match'].value, scope);
  if (isObject(expr['@if'])) return [...sourcesOf(expr['@if'].then, scope), ...sourcesOf(expr['@if'].else, scope)];
  return [];
}
