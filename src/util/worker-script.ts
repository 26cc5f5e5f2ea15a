/** Where a worker thread's compiled script is. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../config/load.js';

/**
 * The compiled script `name` (e.g. `unit-store-worker.js`) of the module at `moduleUrl`: beside that module when
 * running from dist/, else in the package's dist/ under `srcFolder` (e.g. `store`; tests run the TypeScript sources).
 * Undefined when it has not been built.
 */
export function compiledWorkerScript(moduleUrl: string, name: string, srcFolder: string): string | undefined {
  const beside = fileURLToPath(new URL(`./${name}`, moduleUrl));
  if (existsSync(beside)) return beside;
  const built = join(packageRoot(), 'dist', 'src', srcFolder, name);
  return existsSync(built) ? built : undefined;
}
