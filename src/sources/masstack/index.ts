/** The `masstack` source: the MasStack Communications API (incremental) or its JSON/NDJSON exports. */
import type { Source } from '../../core/types.js';
import { ConfigError } from '../../errors.js';
import { registerSecret } from '../../redact.js';
import type { MasStackSourceConfig } from '../config.js';
import { decodeRawJson } from '../shared/json-lines-source.js';
import { MasStackClient } from './api-client.js';
import { createMasStackApiSource } from './api-source.js';
import { createMasStackExportSource } from './export-source.js';

export { startMasStackLocal } from './local-api.js';

/**
 * Builds the masstack source. The API token is read from the environment variable `api.tokenEnv` when reading
 * starts (so `dlq replay` can decode dead letters without it); a missing token is a ConfigError then.
 */
export function createMasStackSource(config: MasStackSourceConfig, baseDir: string, env: NodeJS.ProcessEnv): Source {
  if (!config.api) {
    return createMasStackExportSource({ files: config.files, baseDir, maxLineBytes: config.maxLineBytes });
  }
  const api = config.api;
  if (api.since !== undefined && Number.isNaN(Date.parse(api.since))) {
    throw new ConfigError(`source.api.since: "${api.since}" is not an ISO-8601 date-time; use e.g. 2024-01-01T00:00:00Z`);
  }
  return {
    name: 'masstack',
    read(ctx) {
      const tokenEnv = api.tokenEnv ?? 'MASSTACK_TOKEN';
      const token = env[tokenEnv];
      if (!token) throw new ConfigError(`source.api.tokenEnv: environment variable ${tokenEnv} is not set; export the MasStack Bearer token in it`);
      registerSecret(token);
      const client = new MasStackClient({
        baseUrl: api.baseUrl ?? 'https://communications.masstack.com',
        org: api.org,
        token,
        timeoutMs: api.timeoutMs,
        retries: api.retries,
        minRetryDelayMs: api.minRetryDelayMs,
        maxRetryDelayMs: api.maxRetryDelayMs,
        log: ctx.log,
      });
      return createMasStackApiSource({ client, pageSize: api.pageSize, since: api.since, lookbackHours: api.lookbackHours }).read(ctx);
    },
    decodeRaw: (raw) => decodeRawJson(raw),
  };
}
