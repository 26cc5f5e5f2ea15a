/** Checks mapping and classifier files against mappings/mapping.schema.json (AJV), with pointed, fix-naming messages. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { mappingsDir } from './paths.js';

const SCHEMA_ID = 'urn:xdm-feedback:mapping';

let compiled: { mapping: ValidateFunction; classifier: ValidateFunction } | undefined;

function validators(): { mapping: ValidateFunction; classifier: ValidateFunction } {
  if (compiled) return compiled;
  const schema = JSON.parse(readFileSync(join(mappingsDir(), 'mapping.schema.json'), 'utf8')) as object;
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: false, logger: false });
  ajv.addKeyword({ keyword: 'x-fix', schemaType: 'string' });
  ajv.addSchema(schema);
  compiled = {
    mapping: ajv.getSchema(SCHEMA_ID)!,
    classifier: ajv.getSchema(`${SCHEMA_ID}#/definitions/classifier`)!,
  };
  return compiled;
}

function fixOf(schema: unknown): string | undefined {
  const fix = (schema as Record<string, unknown> | undefined)?.['x-fix'];
  return typeof fix === 'string' ? fix : undefined;
}

function describeError(e: ErrorObject): string | undefined {
  const at = e.instancePath || '/';
  const params = e.params as Record<string, unknown>;
  const parent = e.parentSchema as Record<string, unknown> | undefined;
  let text: string;
  let fix = fixOf(parent);
  switch (e.keyword) {
    case 'if':
    case 'allOf':
      return undefined; // the branch's own errors say it better
    case 'enum':
      if (e.schemaPath.includes('/propertyNames/')) return undefined; // reported as propertyNames below
      text = `must be one of ${(params.allowedValues as unknown[]).map((v) => String(v)).join(', ')}`;
      break;
    case 'additionalProperties':
      text = `unknown key "${String(params.additionalProperty)}"`;
      break;
    case 'propertyNames':
      text = `unknown key "${String(params.propertyName)}"`;
      fix = fixOf((parent as { propertyNames?: unknown } | undefined)?.propertyNames) ?? fix;
      if (!fix && (parent?.propertyNames as { pattern?: string } | undefined)?.pattern) {
        text = `key "${String(params.propertyName)}" must match ${(parent!.propertyNames as { pattern: string }).pattern}`;
      }
      break;
    case 'pattern':
      if (e.schemaPath.includes('/propertyNames/')) return undefined;
      text = `"${String(e.data)}" must match ${String(params.pattern)}`;
      break;
    case 'required':
      text = `missing required key "${String(params.missingProperty)}"`;
      fix = undefined;
      break;
    case 'oneOf':
      text = 'is not valid';
      break;
    default:
      text = e.message ?? 'is invalid';
  }
  return fix ? `${at}: ${text} — ${fix}` : `${at}: ${text}`;
}

function describeErrors(errors: readonly ErrorObject[] | null | undefined): string[] {
  const lines = new Set<string>();
  for (const e of errors ?? []) {
    const line = describeError(e);
    if (line) lines.add(line);
  }
  // Within oneOf branches AJV reports each branch; keep the summary line when the branches only repeat it.
  return [...lines];
}

/** Schema problems of a parsed mapping document, as `pointer: message — fix` lines (empty when valid). */
export function schemaProblemsOfMapping(doc: unknown): string[] {
  const v = validators().mapping;
  return v(doc) ? [] : describeErrors(v.errors);
}

/** Schema problems of a parsed classifier document (empty when valid). */
export function schemaProblemsOfClassifier(doc: unknown): string[] {
  const v = validators().classifier;
  return v(doc) ? [] : describeErrors(v.errors);
}
