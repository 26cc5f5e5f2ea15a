/** Resolves configured file paths and simple globs (`*`, `?`, `**`, `{a,b}`) relative to a base directory. */
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';
import { ConfigError } from '../../errors.js';

const GLOB_CHARS = /[*?{[]/;

/**
 * Returns the absolute paths of the files the patterns name, each once, in a stable order (patterns in
 * their order; the matches of one glob sorted). A plain path that does not exist is a configuration error;
 * a glob that matches nothing yields nothing (the next export may not have arrived yet).
 */
export async function resolveFiles(patterns: readonly string[], baseDir: string): Promise<string[]> {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const pattern of patterns) {
    const absolute = isAbsolute(pattern) ? pattern : resolve(baseDir, pattern);
    const matches = GLOB_CHARS.test(pattern) ? await expandGlob(absolute) : [await requireFile(absolute, pattern)];
    for (const file of matches) {
      if (!seen.has(file)) {
        seen.add(file);
        out.push(file);
      }
    }
  }
  return out;
}

async function requireFile(path: string, pattern: string): Promise<string> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new ConfigError(`files: "${pattern}" is not a file (resolved to ${path}); name a file or a glob`);
    return path;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`files: "${pattern}" does not exist (resolved to ${path}); fix the path or use a glob such as "exports/*.csv"`);
  }
}

async function expandGlob(absolutePattern: string): Promise<string[]> {
  const segments = absolutePattern.split(sep);
  const firstGlob = segments.findIndex((s) => GLOB_CHARS.test(s));
  const root = segments.slice(0, firstGlob).join(sep) || sep;
  const rest = segments.slice(firstGlob);
  const matcher = globToRegExp(rest.join('/'));
  const recursive = rest.includes('**') || rest.length > 1;
  const found: string[] = [];
  await walk(root, '', recursive, matcher, found);
  return found.sort();
}

async function walk(dir: string, rel: string, recursive: boolean, matcher: RegExp, found: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const relPath = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (recursive) await walk(join(dir, entry.name), relPath, recursive, matcher, found);
    } else if (entry.isFile() && matcher.test(relPath)) {
      found.push(join(dir, entry.name));
    }
  }
}

/** Converts a `/`-separated glob to an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `**/` matches zero or more directories; a trailing `**` matches anything.
        if (glob[i + 2] === '/') {
          re += '(?:.*/)?';
          i += 2;
        } else {
          re += '.*';
          i += 1;
        }
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '{') {
      const close = glob.indexOf('}', i);
      if (close < 0) {
        re += '\\{';
      } else {
        re += `(?:${glob.slice(i + 1, close).split(',').map(escapeRegExp).join('|')})`;
        i = close;
      }
    } else if (c === '[') {
      const close = glob.indexOf(']', i);
      if (close < 0) re += '\\[';
      else {
        re += glob.slice(i, close + 1);
        i = close;
      }
    } else {
      re += escapeRegExp(c);
    }
  }
  return new RegExp(`^${re}$`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
