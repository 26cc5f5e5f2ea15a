/** Every input source: `createSource(config)` builds the one a configuration names; schemas validate configurations. */
import type { Source } from '../core/types.js';
import { ConfigError } from '../errors.js';
import type { SourceConfig } from './config.js';
import { createCrisisworksSource } from './crisisworks/index.js';
import { createMasStackSource } from './masstack/index.js';
import { createNdjsonSource } from './ndjson/index.js';
import { createOvoSource } from './ovo/index.js';

export type * from './config.js';
export { sourceConfigSchemas } from './config-schemas.js';
export { startMasStackLocal, type MasStackLocal, type MasStackLocalOptions } from './masstack/local-api.js';

export interface CreateSourceOptions {
  /** Directory relative file paths are resolved against (the configuration file's directory). */
  baseDir: string;
  /** Environment for credentials (tokens, passwords). @default process.env */
  env?: NodeJS.ProcessEnv;
}

/** Builds the Source a (schema-validated) configuration describes. Throws ConfigError for inconsistent settings. */
export function createSource(config: SourceConfig, options: CreateSourceOptions): Source {
  switch (config.type) {
    case 'ovo-feedback':
    case 'ovo-v2':
      return createOvoSource(config, options.baseDir);
    case 'crisisworks':
      return createCrisisworksSource(config, options.baseDir);
    case 'masstack':
      return createMasStackSource(config, options.baseDir, options.env ?? process.env);
    case 'ndjson':
      return createNdjsonSource(config, options.baseDir);
    default:
      throw new ConfigError(`source.type: unknown source type "${(config as { type?: unknown }).type}"; use ovo-feedback, ovo-v2, crisisworks, masstack or ndjson`);
  }
}
