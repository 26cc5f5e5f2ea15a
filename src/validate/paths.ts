/** Locates the package root (the folder holding package.json) from compiled (`dist/src/…`) or source (`src/…`) code. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** The package root: the nearest ancestor of this module holding a package.json. */
export function packageRoot(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return (cached = dir);
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** The `xdm-schemas/` folder of the package. */
export function xdmSchemasDir(): string {
  return join(packageRoot(), 'xdm-schemas');
}
