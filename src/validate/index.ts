/** Validates short-form XDM ExperienceEvents: the schema (AJV), AEP's no-null/no-empty rule and Profile's 10 KB limit. */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Ajv, type AnySchemaObject, type ErrorObject, type ValidateFunction } from 'ajv';
import formatsPlugin from 'ajv-formats';
import type { EventValidator, ValidationErrors, XdmEvent } from '../core/types.js';
import { redact } from '../redact.js';
import { isDateTime, remembered } from './formats.js';
import { MESSAGE_FEEDBACK_SCHEMA_FILE } from './generate.js';
import { xdmSchemasDir } from './paths.js';
import { tenantSchemaToShort } from './tenant.js';

export { tenantCapabilities, tenantSchemaToShort, type TenantCapabilities } from './tenant.js';

/** Profile's limit on the serialised size of one ExperienceEvent, in bytes. */
export const MAX_EVENT_BYTES = 10_240;

export interface ValidatorOptions {
  /**
   * A short-form JSON Schema (default: the committed `xdm-schemas/message-feedback.schema.json`). A Schema Registry
   * `xed-full` answer is accepted too and converted with `tenantSchemaToShort` first.
   */
  schema?: object;
  /** Size limit of the serialised event in bytes (default {@link MAX_EVENT_BYTES}). */
  maxEventBytes?: number;
}

/** Reads the committed short-form message-feedback schema (`xdm-schemas/message-feedback.schema.json`). */
export function loadDefaultSchema(): object {
  return JSON.parse(readFileSync(join(xdmSchemasDir(), MESSAGE_FEEDBACK_SCHEMA_FILE), 'utf8')) as object;
}

// ajv-formats is CommonJS; under NodeNext its default export may arrive wrapped.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats =
  (formatsPlugin as unknown as { default?: AddFormats }).default ?? (formatsPlugin as unknown as AddFormats);
const require = createRequire(import.meta.url);
const draft06 = require('ajv/dist/refs/json-schema-draft-06.json') as AnySchemaObject;
type FormatCheck = ((s: string) => boolean) | RegExp;
const { fullFormats } = require('ajv-formats/dist/formats') as { fullFormats: Record<'uri' | 'uri-reference', FormatCheck> };
const asFunction = (check: FormatCheck) => (check instanceof RegExp ? (s: string) => check.test(s) : check);

/** True for a Schema Registry answer that was not converted yet (it carries registry bookkeeping at the root). */
function isRegistryAnswer(schema: object): boolean {
  return 'meta:resourceType' in schema || 'meta:containerId' in schema || 'meta:registryMetadata' in schema;
}

function compile(schema: object, allErrors: boolean): ValidateFunction {
  // strict off: registry schemas carry many annotation keywords (meta:*, version, imsOrg…) that AJV must ignore.
  // The all-errors validator is also verbose: its errors carry the offending data for the messages.
  const ajv = new Ajv({ allErrors, verbose: allErrors, strict: false, logger: false, allowUnionTypes: true, validateSchema: false });
  ajv.addMetaSchema(draft06);
  addFormats(ajv);
  ajv.addFormat('date-time', isDateTime);
  ajv.addFormat('uri', remembered(asFunction(fullFormats.uri)));
  ajv.addFormat('uri-reference', remembered(asFunction(fullFormats['uri-reference'])));
  try {
    return ajv.compile(schema as AnySchemaObject);
  } catch (err) {
    const id = (schema as { $id?: unknown }).$id;
    throw new Error(`cannot compile the XDM schema${typeof id === 'string' ? ` ${id}` : ''}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Escapes one JSON Pointer segment. */
function escapeSegment(key: string): string {
  return key.includes('~') || key.includes('/') ? key.replace(/~/g, '~0').replace(/\//g, '~1') : key;
}

function pointerOf(stack: readonly string[]): string {
  let out = '';
  for (const key of stack) out += '/' + escapeSegment(key);
  return out || '/';
}

/** A value, shortened and scrubbed of personal data, for an error message. */
function shown(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  text = redact(text); // before cutting: a cut email address is no longer recognised
  return text.length > 80 ? text.slice(0, 77) + '…' : text;
}

/** Upper bound of the serialised length of any JSON number (e.g. `-1.2345678901234567e-308`). */
const MAX_NUMBER_CHARS = 25;

/** Result of the single walk over an event. */
interface Scan {
  problems: string[];
  /** JSON pointers of values already reported (null, empty…), whose schema errors would only repeat them. */
  flagged: Set<string>;
  /** An upper bound of the serialised size; the exact size is measured only when this bound is over the limit. */
  bytes: number;
}

/** A UTF-16 unit serialises to at most 6 bytes (`\u001f`, lone surrogates): cheap, and events sit far below the limit. */
function stringBytes(s: string): number {
  return s.length * 6 + 2;
}

function report(scan: Scan, stack: string[], message: string): void {
  const path = pointerOf(stack);
  scan.flagged.add(path);
  scan.problems.push(`${path}: ${message}`);
}

/** Walks the event once: reports null/empty/non-JSON values and accumulates the size bound. */
function walk(value: unknown, stack: string[], scan: Scan): void {
  switch (typeof value) {
    case 'string':
      if (value.length === 0) report(scan, stack, 'must not be an empty string (AEP rejects empty values; omit the field)');
      scan.bytes += stringBytes(value);
      return;
    case 'number':
      if (!Number.isFinite(value)) report(scan, stack, `must be a finite number (got ${String(value)})`);
      scan.bytes += MAX_NUMBER_CHARS;
      return;
    case 'boolean':
      scan.bytes += 5;
      return;
    case 'object': {
      if (value === null) {
        report(scan, stack, 'must not be null (AEP rejects null values; omit the field)');
        scan.bytes += 4;
        return;
      }
      if (Array.isArray(value)) {
        if (value.length === 0) report(scan, stack, 'must not be an empty array (AEP rejects empty values; omit the field)');
        scan.bytes += 2 + value.length;
        for (let i = 0; i < value.length; i++) {
          stack.push(String(i));
          walk(value[i], stack, scan);
          stack.pop();
        }
        return;
      }
      let count = 0;
      const obj = value as Record<string, unknown>;
      for (const key in obj) {
        const child = obj[key];
        if (child === undefined) continue; // JSON.stringify drops it, and so does AEP
        count++;
        scan.bytes += stringBytes(key) + 2;
        stack.push(key);
        walk(child, stack, scan);
        stack.pop();
      }
      if (count === 0) report(scan, stack, 'must not be an empty object (AEP rejects empty values; omit the field)');
      scan.bytes += 2;
      return;
    }
    default:
      report(scan, stack, `is not a JSON value (${typeof value})`);
  }
}

/** Turns AJV errors into readable `path: message` lines. */
export function formatAjvErrors(errors: readonly ErrorObject[], skipPaths?: ReadonlySet<string>): string[] {
  const lines: string[] = [];
  for (const e of errors) {
    const path = e.instancePath || '/';
    const base = e.instancePath;
    const params = e.params as Record<string, unknown>;
    let line: string;
    switch (e.keyword) {
      case 'required':
        line = `${base}/${escapeSegment(String(params['missingProperty']))}: required field is missing`;
        break;
      case 'additionalProperties':
        line = `${base}/${escapeSegment(String(params['additionalProperty']))}: is not a field of the schema (misspelt or undefined key)`;
        break;
      case 'enum': {
        if (skipPaths?.has(path)) continue;
        const allowed = (params['allowedValues'] as unknown[] | undefined) ?? [];
        line = `${path}: must be equal to one of the allowed values: ${allowed.map(String).join(', ')} (got ${shown(e.data)})`;
        break;
      }
      case 'type':
        if (skipPaths?.has(path)) continue;
        line = `${path}: must be ${String(params['type'])} (got ${e.data === null ? 'null' : Array.isArray(e.data) ? 'array' : typeof e.data} ${shown(e.data)})`;
        break;
      case 'format':
        if (skipPaths?.has(path)) continue;
        line = `${path}: must match format "${String(params['format'])}" (got ${shown(e.data)})`;
        break;
      default:
        if (skipPaths?.has(path)) continue;
        line = `${path}: ${e.message ?? e.keyword}`;
    }
    if (!lines.includes(line)) lines.push(line);
  }
  return lines;
}

/** The error line of an event whose serialised size is over the limit. */
export function oversizeProblem(bytes: number, maxBytes: number): string {
  return `/: event is ${bytes} bytes serialised, over Profile's ExperienceEvent limit of ${maxBytes} bytes`;
}

/**
 * Builds a validator for short-form XDM events. The schema is compiled once; valid events take the fast path
 * (first-error AJV + one walk), failures are re-run with all errors to explain them.
 */
export function createValidator(options: ValidatorOptions = {}): EventValidator {
  const given = options.schema ?? loadDefaultSchema();
  const schema = isRegistryAnswer(given) ? tenantSchemaToShort(given) : given;
  const maxBytes = options.maxEventBytes ?? MAX_EVENT_BYTES;
  const fast = compile(schema, false);
  let thorough: ValidateFunction | undefined; // compiled on the first invalid event

  return {
    maxEventBytes: maxBytes,
    validate(event: XdmEvent): ValidationErrors {
      const scan: Scan = { problems: [], flagged: new Set(), bytes: 0 };
      walk(event, [], scan);
      let sizeProblem: string | undefined;
      if (scan.bytes > maxBytes) {
        let size = 0;
        try {
          size = Buffer.byteLength(JSON.stringify(event));
        } catch (err) {
          scan.problems.push(`/: cannot be serialised to JSON (${redact(String(err))})`);
        }
        if (size > maxBytes) sizeProblem = oversizeProblem(size, maxBytes);
      }
      if (fast(event) && scan.problems.length === 0 && sizeProblem === undefined) return null;
      const lines = [...scan.problems];
      if (fast.errors) {
        thorough ??= compile(schema, true);
        thorough(event);
        lines.push(...formatAjvErrors(thorough.errors ?? fast.errors, scan.flagged));
      }
      if (sizeProblem !== undefined) lines.push(sizeProblem);
      return lines.length > 0 ? lines : null;
    },
  };
}
