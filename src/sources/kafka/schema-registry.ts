/** A Confluent-compatible schema registry client: `GET /schemas/ids/{id}`, each id fetched once and cached. */
import pRetry, { AbortError } from 'p-retry';
import { RetryableError } from '../../errors.js';
import { parseWriterSchema, type WriterSchema } from './avro-types.js';
import type { SchemaLookup } from './wire-format.js';

export interface RegistryOptions {
  /** Base URL, e.g. `http://127.0.0.1:8081`. */
  url: string;
  username?: string;
  password?: string;
  /** Retries of network errors and 5xx per id. @default 4 */
  retries?: number;
  /** @default 10000 */
  timeoutMs?: number;
  /** First retry delay (doubles per retry, randomised). @default 200 */
  minRetryDelayMs?: number;
}

/** Creates a SchemaLookup backed by the registry. Unknown ids (404) resolve undefined; other failures reject. */
export function createRegistryLookup(options: RegistryOptions): SchemaLookup {
  const base = options.url.replace(/\/+$/, '');
  const headers: Record<string, string> = { Accept: 'application/vnd.schemaregistry.v1+json, application/json' };
  if (options.username !== undefined) {
    headers.Authorization = `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`;
  }
  const resolved = new Map<number, WriterSchema | undefined>();
  const pending = new Map<number, Promise<WriterSchema | undefined>>();

  const fetchOnce = async (id: number): Promise<WriterSchema | undefined> => {
    const url = `${base}/schemas/ids/${id}`;
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
    if (response.status === 404) return undefined;
    if (response.status >= 500 || response.status === 429) {
      throw new RetryableError(`schema registry answered ${response.status} for GET ${url}`, undefined, response.status);
    }
    if (!response.ok) throw new AbortError(`schema registry answered ${response.status} for GET ${url}`);
    const body = (await response.json()) as { schema?: unknown; schemaType?: unknown };
    if (body.schemaType !== undefined && body.schemaType !== 'AVRO') return undefined;
    if (typeof body.schema !== 'string') throw new AbortError(`schema registry answer for id ${id} has no schema`);
    try {
      return parseWriterSchema(body.schema);
    } catch (error) {
      throw new AbortError(`schema id ${id} from the registry is not a valid Avro schema: ${error instanceof Error ? error.message : String(error)}`);
    }
  };

  return {
    cached: (id) => resolved.get(id),
    fetch(id) {
      if (resolved.has(id)) return Promise.resolve(resolved.get(id));
      let promise = pending.get(id);
      if (!promise) {
        promise = pRetry(() => fetchOnce(id), { retries: options.retries ?? 4, minTimeout: options.minRetryDelayMs ?? 200, maxTimeout: 5000, randomize: true })
          .then((schema) => {
            resolved.set(id, schema);
            return schema;
          })
          .finally(() => pending.delete(id));
        pending.set(id, promise);
      }
      return promise;
    },
  };
}
