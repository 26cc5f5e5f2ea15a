/** Reads a tenant schema from AEP: Catalog dataset → schemaRef, then the Schema Registry's resolved (xed-full) form. */
import { ConfigError, FatalError } from '../errors.js';
import { describeUrl } from '../adobe/http.js';
import { adobeMessage } from '../sinks/adobe-streaming/client.js';
import type { PlatformClient } from '../sinks/adobe-batch/platform.js';

/** The Accept header of a resolved schema; the registry refuses an Accept without a version. */
export const XED_FULL_ACCEPT = 'application/vnd.adobe.xed-full+json; version=1';

/** The schema `$id` of a dataset, from Catalog (`GET /data/foundation/catalog/dataSets/{id}`). */
export async function datasetSchemaId(client: PlatformClient, platformUrl: string, datasetId: string, signal?: AbortSignal): Promise<string> {
  const url = `${platformUrl}/data/foundation/catalog/dataSets/${encodeURIComponent(datasetId)}`;
  const res = await client.request({ step: `read dataset ${datasetId} from Catalog`, method: 'GET', url, headers: { accept: 'application/json' } }, signal);
  if (res.status === 404) throw new ConfigError(`--dataset ${datasetId}: Catalog does not know this dataset in the sandbox; check the id (Datasets → the dataset → Dataset ID) and adobe.sandbox`);
  if (res.status !== 200) throw new FatalError(`Adobe answered ${res.status} to GET ${describeUrl(url)}: ${adobeMessage(res.body, res.text)}`);
  const body = res.body as Record<string, unknown> | undefined;
  const entry = (body?.[datasetId] ?? body) as { schemaRef?: { id?: unknown } } | undefined;
  const id = entry?.schemaRef?.id;
  if (typeof id !== 'string' || id === '') throw new FatalError(`Catalog's dataset ${datasetId} names no schemaRef.id; is it an XDM dataset?`);
  return id;
}

/**
 * The resolved schema (`GET /data/foundation/schemaregistry/tenant/schemas/{altId | url-encoded $id}` with
 * `Accept: application/vnd.adobe.xed-full+json; version=1`).
 */
export async function fetchTenantSchema(client: PlatformClient, platformUrl: string, schemaId: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
  const url = `${platformUrl}/data/foundation/schemaregistry/tenant/schemas/${encodeURIComponent(schemaId)}`;
  const res = await client.request({ step: `read schema ${schemaId}`, method: 'GET', url, headers: { accept: XED_FULL_ACCEPT } }, signal);
  if (res.status === 404) {
    throw new ConfigError(`schema ${schemaId} is not in the tenant container of this sandbox (${adobeMessage(res.body, res.text)}); check the schema's $id or meta:altId and adobe.sandbox`);
  }
  if (res.status !== 200) throw new FatalError(`Adobe answered ${res.status} to GET ${describeUrl(url)}: ${adobeMessage(res.body, res.text)}`);
  const body = res.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new FatalError(`the Schema Registry answered ${schemaId} with no JSON object`);
  return body as Record<string, unknown>;
}

/** `_acme.schemas.5e5a…` from a registry answer, or from an `$id` like `https://ns.adobe.com/acme/schemas/5e5a…`. */
export function altIdOf(registry: Record<string, unknown>, schemaId: string): string {
  const alt = registry['meta:altId'];
  if (typeof alt === 'string' && alt) return alt;
  const match = /^https?:\/\/ns\.adobe\.com\/([^/]+)\/schemas\/([^/?#]+)$/.exec(schemaId);
  if (match) return `_${match[1]}.schemas.${match[2]}`;
  return schemaId.replace(/[^A-Za-z0-9_.-]+/g, '_');
}
