/** The declarative mapping engine: loads a mapping file, checks it, and compiles it into a fast Mapper. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Mapper } from '../core/types.js';
import { ConfigError } from '../errors.js';
import { Classifier, type ClassifierDefinition } from '../classifiers/index.js';
import { compileMapping } from './compile.js';
import { mappingsDir, shownPath } from './paths.js';
import { schemaProblemsOfClassifier, schemaProblemsOfMapping } from './schema.js';
import type { MappingDocument, MappingOptions } from './types.js';

export type { MappingDocument, MappingOptions } from './types.js';
export { EVENT_ID_NAMESPACE, eventIdFor } from './event-id.js';

/** Classifier files, parsed and checked once per process (each Mapper compiles its own counters). */
const classifierFiles = new Map<string, ClassifierDefinition | string>();

function readJson(path: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return { ok: false, problem: `cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}) — check the path` };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, problem: `not valid JSON: ${(err as Error).message}` };
  }
}

function classifierFromFile(path: string): ClassifierDefinition | string {
  const cached = classifierFiles.get(path);
  if (cached !== undefined) return cached;
  const read = readJson(path);
  let result: ClassifierDefinition | string;
  if (!read.ok) result = `${shownPath(path)}: ${read.problem}`;
  else {
    const problems = schemaProblemsOfClassifier(read.value);
    result = problems.length ? `${shownPath(path)}: ${problems.join('; ')}` : (read.value as ClassifierDefinition);
  }
  if (typeof result !== 'string') {
    for (const p of result.extract ?? []) {
      try {
        new RegExp(p);
      } catch (err) {
        result = `${shownPath(path)}: /extract: invalid regular expression: ${(err as Error).message}`;
        break;
      }
    }
  }
  classifierFiles.set(path, result);
  return result;
}

/**
 * Checks a parsed mapping document fully (schema, expressions, regexes, classifiers, time zone) without
 * loading it. Returns the problems as `pointer: message — fix` lines; empty when the mapping is good.
 * @param baseDir folder that holds the mapping (its `classifiers/` folder is searched first)
 */
export function validateMapping(doc: unknown, baseDir: string = mappingsDir(), options: MappingOptions = {}, file = 'mapping'): string[] {
  const result = compile(doc, baseDir, options, file);
  return 'problems' in result ? result.problems : [];
}

function compile(doc: unknown, baseDir: string, options: MappingOptions, file: string): { mapper: Mapper } | { problems: string[] } {
  const schemaProblems = schemaProblemsOfMapping(doc);
  if (schemaProblems.length) return { problems: schemaProblems };
  const mapping = doc as MappingDocument;
  return compileMapping({
    doc: mapping,
    file,
    options,
    resolveClassifier(name: string): Classifier | string {
      const inline = mapping.classifiers?.[name];
      if (inline) {
        for (const p of inline.extract ?? []) {
          try {
            new RegExp(p);
          } catch (err) {
            return `classifier "${name}": invalid extract regular expression: ${(err as Error).message}`;
          }
        }
        return new Classifier({ ...inline, name });
      }
      for (const dir of [join(baseDir, 'classifiers'), join(mappingsDir(), 'classifiers')]) {
        const path = join(dir, `${name}.json`);
        if (!existsSync(path)) continue;
        const def = classifierFromFile(path);
        return typeof def === 'string' ? def : new Classifier(def);
      }
      return `unknown classifier "${name}" — add mappings/classifiers/${name}.json, define it under "classifiers", or use one of the bundled ones (smtp, twilio, mailgun-severity, stannp, ovo-error-codes)`;
    },
  });
}

/**
 * Checks a mapping file; returns its problems (empty when it is good). For tests and the CLI.
 * Each line reads `<file>: <JSON pointer>: <what is wrong> — <the fix>`.
 */
export function validateMappingFile(path: string, options: MappingOptions = {}): string[] {
  const abs = resolve(path);
  const shown = shownPath(abs);
  const read = readJson(abs);
  if (!read.ok) return [`${shown}: ${read.problem}`];
  return validateMapping(read.value, dirname(abs), options, shown).map((p) => `${shown}: ${p}`);
}

/**
 * Loads and compiles a mapping file into a Mapper (once per run).
 * @throws ConfigError naming the file, the JSON path and the fix, for any problem in the file
 */
export function loadMapping(path: string, options: MappingOptions = {}): Mapper {
  const abs = resolve(path);
  const shown = shownPath(abs);
  const read = readJson(abs);
  if (!read.ok) throw new ConfigError(`${shown}: ${read.problem}`);
  const result = compile(read.value, dirname(abs), options, shown);
  if ('problems' in result) {
    const lines = result.problems.slice(0, 12).map((p) => `${shown}: ${p}`);
    if (result.problems.length > 12) lines.push(`… and ${result.problems.length - 12} more`);
    throw new ConfigError(lines.join('\n'));
  }
  return result.mapper;
}

/** Compiles a mapping held in memory (tests, embedding). @throws ConfigError */
export function compileMappingDocument(doc: unknown, options: MappingOptions = {}, baseDir: string = mappingsDir(), name = 'mapping'): Mapper {
  const result = compile(doc, baseDir, options, name);
  if ('problems' in result) throw new ConfigError(result.problems.map((p) => `${name}: ${p}`).join('\n'));
  return result.mapper;
}
