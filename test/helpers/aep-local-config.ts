/** The `adobe` and `sink` config sections that point a run at a local AEP imitation (its defaults: one dataset). */
import { localDefaults, type AepLocal } from '../../src/aep-local/index.js';
import type { AdobeAuthConfig } from '../../src/adobe/ims.js';

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

/** `eventTypes` routing message.feedback and message.tracking to the imitation's two datasets, as AJO keeps them. */
export function aepLocalEventTypes(aep: AepLocal) {
  const [feedback, tracking] = aep.datasets;
  return {
    'message.feedback': { datasetId: feedback!.id, schemaRef: feedback!.schemaRef },
    'message.tracking': { datasetId: tracking!.id, schemaRef: tracking!.schemaRef },
  };
}

/** The config file's `adobe` section for this imitation (the secret comes from ADOBE_CLIENT_SECRET unless overridden). */
export function aepLocalAdobeSection(aep: AepLocal, extra: Record<string, unknown> = {}) {
  return {
    imsUrl: aep.endpoints.imsTokenUrl,
    clientId: aep.credentials.clientId,
    orgId: aep.credentials.imsOrgId,
    sandbox: aep.credentials.sandboxName,
    platformUrl: aep.endpoints.platformUrl,
    ...extra,
  };
}

/** An adobe-streaming sink on the imitation's inlet, routed by eventType to its two datasets, plus any overrides. */
export function aepLocalRoutedSink(aep: AepLocal, extra: Record<string, unknown> = {}) {
  return {
    type: 'adobe-streaming' as const,
    dcsUrl: aep.url, // IMS, DCS and platform routes all live under the imitation's base URL
    inletId: aep.inletId,
    flowId: aep.flowId,
    eventTypes: aepLocalEventTypes(aep),
    ...extra,
  };
}

/** Resolved IMS credentials of the imitation, as a sink takes them directly (`deps.auth`), plus any overrides. */
export function aepLocalAuth(aep: AepLocal, overrides: Partial<AdobeAuthConfig> = {}): AdobeAuthConfig {
  return {
    imsUrl: aep.endpoints.imsTokenUrl,
    clientId: aep.credentials.clientId,
    clientSecret: aep.credentials.clientSecret,
    orgId: aep.credentials.imsOrgId,
    sandbox: aep.credentials.sandboxName,
    ...overrides,
  };
}
