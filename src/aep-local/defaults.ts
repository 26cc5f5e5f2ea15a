/** The fixed, documented identifiers and credentials the local AEP imitation serves by default (demo and tests). */

/** Tenant namespace of the local organisation (`_localtenant.*` fields, `meta:tenantNamespace`). */
const TENANT = 'localtenant';
const SCHEMA_HASH = '5a4f0e7c3b9d1e2f6a8c0b4d7e9f1a3c';

/**
 * Default credentials and resource ids of `aep-local`. They are public constants for a loopback imitation,
 * not secrets: never use them against real Adobe.
 */
export const localDefaults = {
  /** IMS OAuth server-to-server client id; also the `x-api-key` platform.adobe.io expects. */
  clientId: 'local-client',
  /** IMS client secret accepted for {@link localDefaults.clientId}. */
  clientSecret: 'local-secret',
  /** Organisation id (the `0` in `LOCAL0RG` is a zero, as Adobe org ids are hex-like). */
  imsOrgId: 'LOCAL0RG@AdobeOrg',
  /** Sandbox name (`x-sandbox-name`). */
  sandboxName: 'prod',
  /** Sandbox id reported in schema metadata. */
  sandboxId: '0b6b4f2e-6a8b-4c1e-9d3f-2a7c5e8b1d40',
  /** Scopes granted; the ones Adobe's Kafka sink asks for. */
  scopes: ['openid', 'AdobeID', 'read_organizations', 'additional_info.projectedProductContext', 'session'],
  /** Advertised and real token lifetime in seconds (IMS answers ~24 h). */
  tokenTtlSeconds: 86_399,
  /** Streaming inlet (DCS CONNECTION_ID): 64 hex characters, like real inlet ids. */
  inletId: '9f2c4b7a1e8d3c6f0a5b2e9d4c7f1a8b3e6d0c5f2a9b4e7d1c8f3a6b0e5d2c9f',
  /** Dataflow id of the HTTP API source behind the inlet (`header.flowId`). */
  flowId: '4e1a7c9b-2d5f-4a8e-b3c6-0f9d2e7a5b14',
  tenantId: TENANT,
  /** The dataset schema's `$id` (a tenant schema, as in AEP). */
  schemaId: `https://ns.adobe.com/${TENANT}/schemas/${SCHEMA_HASH}`,
  /** The dataset schema's `meta:altId`. */
  schemaAltId: `_${TENANT}.schemas.${SCHEMA_HASH}`,
  /** `schemaRef.contentType` of envelopes. */
  schemaContentType: 'application/vnd.adobe.xed-full+json;version=1',
  /** Dataset ids (24 hex characters, like Catalog ids): AJO keeps outcomes and opens/clicks apart. */
  datasets: {
    feedback: '66a1f0c2b3d4e5f60718293a',
    tracking: '66a1f0c2b3d4e5f60718293b',
  },
  /** DCS request limit in bytes (1 MB). */
  maxRequestBytes: 1_048_576,
} as const;

export type LocalDefaults = typeof localDefaults;
