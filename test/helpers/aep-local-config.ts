/** The `adobe` and `sink` config sections that point a run at a local AEP imitation (its defaults: one dataset). */
import { localDefaults, type AepLocal } from '../../src/aep-local/index.js';

/** The `adobe` section; sets the environment variable `secretEnv` to the imitation's client secret. */
export function aepLocalAdobe(aep: AepLocal, secretEnv: string) {
  process.env[secretEnv] = localDefaults.clientSecret;
  return {
    imsUrl: aep.endpoints.imsTokenUrl,
    clientId: localDefaults.clientId,
    clientSecretEnv: secretEnv,
    orgId: localDefaults.imsOrgId,
    sandbox: localDefaults.sandboxName,
  };
}

/** An adobe-streaming sink into the imitation's feedback dataset, plus any overrides. */
export function aepLocalStreamingSink(aep: AepLocal, extra: Record<string, unknown> = {}) {
  return {
    type: 'adobe-streaming',
    dcsUrl: aep.endpoints.dcsUrl,
    inletId: localDefaults.inletId,
    flowId: localDefaults.flowId,
    datasetId: localDefaults.datasets.feedback,
    schemaRef: localDefaults.schemaId,
    ...extra,
  };
}
