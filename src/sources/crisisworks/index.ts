/** The `crisisworks` source: Crisisworks Communication delivery-report CSV exports. */
import type { Source } from '../../core/types.js';
import type { CrisisworksSourceConfig } from '../config.js';
import { createCrisisworksCsvSource } from './csv-source.js';

export { CANONICAL_COLUMNS, REQUIRED_COLUMNS } from './columns.js';

/** Builds the crisisworks source (records keyed by the canonical column names). */
export function createCrisisworksSource(config: CrisisworksSourceConfig, baseDir: string): Source {
  return createCrisisworksCsvSource(config, baseDir);
}
