/** The cached tenant schema a run validates against, and what it changes in the mapping settings. */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { MappingSettings } from '../config/load.js';
import { ConfigError, errorMessage } from '../errors.js';
import { tenantCapabilities, type TenantCapabilities } from '../validate/index.js';

export interface TenantSchema {
  /** The schema as cached by `schema pull` (short form), or a registry answer (converted by the validator). */
  schema: object;
  capabilities: TenantCapabilities;
}

/** Reads the cached tenant schema. Throws ConfigError naming the key and the fix. */
export function readTenantSchema(path: string): TenantSchema {
  let schema: unknown;
  try {
    schema = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`tenantSchema: cannot read ${path} (${errorMessage(error)}); run \`xdm-feedback schema pull\` again`);
  }
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new ConfigError(`tenantSchema: ${path} holds no JSON Schema object; run \`xdm-feedback schema pull\` again`);
  }
  return { schema, capabilities: tenantCapabilities(schema) };
}

/**
 * The mapping settings a run uses: the configured ones, except that deliveries are sent as `sent` when the tenant
 * schema's feedbackStatus enum lacks `delivered` (AEP would refuse every delivery otherwise). Logs the switch.
 */
export function mappingSettingsFor(settings: MappingSettings, tenant: TenantSchema | undefined, log?: Logger): MappingSettings {
  const statuses = tenant?.capabilities.feedbackStatuses;
  if (settings.deliveredAs === 'delivered' && statuses !== undefined && !statuses.includes('delivered')) {
    log?.info(
      { allowed: statuses },
      'the tenant schema has no "delivered" feedbackStatus: deliveries are sent as "sent" (set mapping.deliveredAs: sent to say so in the config)',
    );
    return { ...settings, deliveredAs: 'sent' };
  }
  return settings;
}
