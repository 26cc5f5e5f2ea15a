/** The per-run stages built from the configuration: mapping settings, a source's mapper, the validators. */
import type { Logger } from 'pino';
import type { Config, ConfiguredSource } from '../config/load.js';
import type { EventValidator, Mapper } from './types.js';
import { mappingSettingsFor, readTenantSchema } from '../schema-pull/tenant-schema.js';
import { loadMapping } from '../mapping/index.js';
import { createValidator } from '../validate/index.js';

/**
 * The validators every event must pass: the bundled XDM schema, or — when a tenant schema was pulled — the tenant's
 * schema alone. It holds the CJM field groups too, and the bundled schema is closed, so it would refuse the tenant's
 * own `_<tenant>` fields and accept enum values (e.g. `delivered`) the tenant's dataset refuses.
 */
export function buildValidators(config: Pick<Config, 'tenantSchema'>): EventValidator[] {
  if (!config.tenantSchema) return [createValidator()];
  return [createValidator({ schema: readTenantSchema(config.tenantSchema).schema })];
}

/** The mapping settings of a run: `deliveredAs` becomes `sent` (logged) when the tenant schema lacks `delivered`. */
export function runMappingSettings(config: Pick<Config, 'tenantSchema' | 'mapping'>, log?: Logger): Config['mapping'] {
  return mappingSettingsFor(config.mapping, config.tenantSchema ? readTenantSchema(config.tenantSchema) : undefined, log);
}

/** The mapper of one configured source, with the run's mapping settings (see runMappingSettings). */
export function mapperFor(configured: ConfiguredSource, settings: Config['mapping']): Mapper {
  return loadMapping(configured.mapping, { source: sourceNameOf(configured), ...settings });
}

/** The platform name used in `_id`s: the source type, or an ndjson feed's own name. */
export function sourceNameOf(configured: ConfiguredSource): string {
  const named = (configured as { name?: unknown }).name;
  return configured.type === 'ndjson' && typeof named === 'string' ? named : configured.type;
}
