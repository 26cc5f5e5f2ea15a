/** Locates the package's bundled mappings/ folder (from src/ or dist/src/) and shortens paths for messages. */
import { existsSync } from 'node:fs';
import { dirname, join, relative, isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The bundled `mappings/` folder: the nearest ancestor of this module holding package.json and mappings/. */
export function mappingsDir(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'mappings', 'mapping.schema.json'))) {
      return (cached = join(dir, 'mappings'));
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no mappings/mapping.schema.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** A path as shown in messages: relative to the working directory when below it. */
export function shownPath(path: string): string {
  if (!isAbsolute(path)) return path;
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}
