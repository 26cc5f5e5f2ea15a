/** The local AEP imitation (design §8): IMS, DCS, batch ingestion, Catalog, Data Access and Schema Registry on loopback. */
import { createValidator, loadDefaultSchema, tenantSchemaToShort } from '../validate/index.js';
import { BatchService } from './batches.js';
import type { DcsContext } from './dcs.js';
import { localDefaults } from './defaults.js';
import { FaultInjector } from './faults.js';
import { isObject, json, parseJson, type Answer } from './http.js';
import { TokenStore } from './ims.js';
import { tenantSchemaFromShortForm } from './schema-registry.js';
import { listen, type ServerContext } from './server.js';
import { StatsRecorder } from './stats.js';
import { EventStore } from './store.js';
import type { AepLocal, AepLocalOptions, DatasetConfig, FaultPlan, InletConfig, LocalCredentials } from './types.js';

export { localDefaults } from './defaults.js';
export { parseStep as parseFaultStep } from './faults.js';
export type * from './types.js';

function defaultDatasets(schemaId: string): DatasetConfig[] {
  const schemaRef = { id: schemaId, contentType: localDefaults.schemaContentType };
  return [
    { id: localDefaults.datasets.feedback, name: 'AJO Message Feedback Event Dataset (aep-local)', schemaRef },
    { id: localDefaults.datasets.tracking, name: 'AJO Email Tracking Experience Event Dataset (aep-local)', schemaRef },
  ];
}

/**
 * Starts the imitation on `127.0.0.1` (an ephemeral port unless `port` is given).
 * With `tenantSchema`, the Schema Registry serves it, datasets point to it and events are validated against it;
 * otherwise the committed short-form schema is used for all three.
 */
export async function startAepLocal(options: AepLocalOptions = {}): Promise<AepLocal> {
  const now = options.now ?? Date.now;
  const credentials: LocalCredentials = {
    clientId: localDefaults.clientId,
    clientSecret: localDefaults.clientSecret,
    imsOrgId: localDefaults.imsOrgId,
    sandboxName: localDefaults.sandboxName,
    scopes: [...localDefaults.scopes],
    ...options.credentials,
  };
  const tenantSchema =
    options.tenantSchema ??
    tenantSchemaFromShortForm(
      loadDefaultSchema(),
      {
        id: localDefaults.schemaId,
        altId: localDefaults.schemaAltId,
        tenantId: localDefaults.tenantId,
        sandboxId: localDefaults.sandboxId,
        title: 'xdm-feedback Message Feedback Events',
      },
      credentials,
      now(),
    );
  const schemaId = typeof tenantSchema['$id'] === 'string' ? tenantSchema['$id'] : localDefaults.schemaId;
  const validator =
    options.validator ?? (options.tenantSchema ? createValidator({ schema: tenantSchemaToShort(options.tenantSchema) }) : createValidator());
  const inlets: InletConfig[] = options.inlets ?? [{ id: localDefaults.inletId, authenticated: true, flowId: localDefaults.flowId }];
  if (inlets.length === 0) throw new Error('aep-local: at least one inlet is needed');
  const datasets = options.datasets ?? defaultDatasets(schemaId);
  const faults = new FaultInjector(options.seed ?? 1, options.faults);
  const stats = new StatsRecorder();
  const store = new EventStore(options.retainEvents ?? true);
  const tokens = new TokenStore(now, options.tokenTtlSeconds ?? localDefaults.tokenTtlSeconds, () => faults.tokenExpiresAfterSeconds());
  const datasetMap = new Map(datasets.map((d) => [d.id, d]));
  const requireSandboxHeader = options.requireSandboxHeader ?? true;
  const dcs: DcsContext = {
    inlets: new Map(inlets.map((i) => [i.id, i])),
    datasets: datasetMap,
    credentials,
    tokens,
    validator,
    faults,
    store,
    stats,
    requireSandboxHeader,
    failureKey: options.dcsFailureKey ?? 'statusCode',
    failureXactionId: options.dcsFailureXactionId ?? false,
    maxRequestBytes: options.maxRequestBytes ?? localDefaults.maxRequestBytes,
    now,
  };
  const batches = new BatchService({ datasets: datasetMap, validator, store, stats, processingDelayMs: options.batchProcessingDelayMs ?? 100, now });
  let baseUrl = '';

  const setFaults = (plan: FaultPlan | undefined): void => faults.set(plan);
  const snapshot = () => stats.snapshot(store.size, store.duplicates);
  const reset = (): void => {
    store.clear();
    stats.clear();
    batches.clear();
    faults.clear();
  };

  const control = (method: string, segments: string[], query: URLSearchParams, body: Buffer): Answer | undefined => {
    const [what] = segments;
    if (segments.length !== 1) return undefined;
    if (what === 'events' && method === 'GET') {
      const events = store.byDataset(query.get('datasetId') ?? undefined);
      return json(200, { count: events.length, events });
    }
    if (what === 'stats' && method === 'GET') return json(200, snapshot());
    if (what === 'config' && method === 'GET') return json(200, describe());
    if (what === 'faults' && method === 'GET') return json(200, faults.current());
    if (what === 'faults' && method === 'POST') {
      const parsed = parseJson(body.length > 0 ? body : Buffer.from('{}'));
      if (!parsed.ok || !isObject(parsed.value)) return json(400, { error: 'the fault plan must be a JSON object' });
      try {
        setFaults(parsed.value as FaultPlan);
      } catch (err) {
        return json(400, { error: (err as Error).message });
      }
      return json(200, faults.current());
    }
    if (what === 'reset' && method === 'POST') {
      reset();
      return json(200, { reset: true });
    }
    return undefined;
  };

  const ctx: ServerContext = {
    dcs,
    gateway: { credentials, tokens, requireSandboxHeader },
    imports: { batches, datasets: datasetMap, credentials },
    batches,
    schemas: [tenantSchema],
    faults,
    control,
    baseUrl: () => baseUrl,
  };
  const { server, port } = await listen(ctx, options.port ?? 0);
  baseUrl = `http://127.0.0.1:${port}`;
  const first = inlets[0]!;
  const flowId = first.flowId ?? localDefaults.flowId;
  const endpoints = {
    imsTokenUrl: `${baseUrl}/ims/token/v3`,
    dcsUrl: `${baseUrl}/collection/${first.id}`,
    dcsBatchUrl: `${baseUrl}/collection/batch/${first.id}`,
    platformUrl: baseUrl,
  };
  function describe() {
    return {
      url: baseUrl,
      endpoints,
      credentials,
      inletId: first.id,
      flowId,
      inlets,
      datasets,
      schema: { id: schemaId, altId: tenantSchema['meta:altId'], contentType: localDefaults.schemaContentType },
      tokenTtlSeconds: tokens.ttlSeconds,
      maxRequestBytes: dcs.maxRequestBytes,
    };
  }

  return {
    url: baseUrl,
    port,
    credentials,
    inletId: first.id,
    flowId,
    inlets,
    datasets,
    endpoints,
    accepted: () => store.all(),
    acceptedIds: () => store.ids(),
    stats: snapshot,
    setFaults,
    issueToken: () => tokens.issue(),
    revokeTokens: () => tokens.revokeAll(),
    settled: () => batches.settled(),
    reset,
    close: async () => {
      batches.clear();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
