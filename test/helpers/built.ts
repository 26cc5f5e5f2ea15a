/** Paths into the compiled `dist/` tree, for tests that spawn the real CLI or race real processes (`npm test` builds first). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Absolute path of a compiled module, e.g. `builtPath('src/cli/main.js')`; throws a clear error when not built. */
export function builtPath(relative: string): string {
  const path = join(process.cwd(), 'dist', relative);
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` first (npm test does)`);
  return path;
}
