// Contract test of the connector itself: every request the real sinks and `schema pull` send (through a recording
// proxy on loopback in front of the local AEP imitation), and every answer they get, is checked against Adobe's
// OpenAPI files in test/fixtures/openapi/ — a streaming sync with a mixed 207, a batch backfill with chunked
// uploads and failed records, and schema pulls by schemaRef and by dataset.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAepLocal, type AepLocal } from '../../src/aep-local/index.js';
import { buildConfig, type Config } from '../../src/config/load.js';
import { runConnector } from '../../src/core/run.js';
import { silentLogger } from '../../src/log.js';
import { runBackfill } from '../../src/ops/backfill.js';
import { pullSchemas } from '../../src/schema-pull/index.js';
import { checkRequest, checkResponse, findOperation, type ContractRequest } from '../helpers/openapi-contract.js';
import { startRecordingProxy, type RecordedExchange, type RecordingProxy } from '../helpers/recording-proxy.js';
import { tempDir } from '../helpers/temp.js';
import { aepLocalEventTypes } from '../helpers/aep-local-config.js';

const tenantFixture = JSON.parse(readFileSync(new URL('../fixtures/xdm/tenant-schema.xed-full.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const root = tempDir('xdmf-connector-contract-');
let aep: AepLocal;
let proxy: RecordingProxy;

beforeAll(async () => {
  // The tenant schema lacks feedbackStatus "delivered": AEP rejects those events (per message, or as failed records).
  aep = await startAepLocal({ tenantSchema: tenantFixture, batchProcessingDelayMs: 1 });
  proxy = await startRecordingProxy(aep.url);
  process.env.XDMF_CONTRACT_SECRET = aep.credentials.clientSecret;
});
afterAll(async () => {
  await proxy?.close();
  await aep?.close();
});

/** OVO records in May 2024: every 10th an email Opened (tracking), every 7th Delivered (rejected by the tenant schema), the rest Pending (→ sent). */
function ovoRecords(count: number, prefix: string): string {
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify({
      commId: `${prefix}-${i}`,
      customer: { customerId: String(200000 + i) },
      status: i % 10 === 9 ? 'Delivered' : i % 7 === 3 ? 'Delivered' : 'Pending',
      ...(i % 10 === 9 ? { email: 'Opened' } : {}),
      channel: i % 10 === 9 || i % 2 ? 'Email' : 'SMS',
      metadata: { eventId: `${prefix}-${i}-fb`, traceToken: `t-${prefix}-${i}`, createdAt: Date.UTC(2024, 4, 1 + (i % 20), i % 24) },
    }),
  ).join('\n') + '\n';
}

/** A configuration whose every Adobe URL (IMS, DCS, Platform) goes through the proxy. */
function configFor(name: string, count: number, sink: Record<string, unknown>): Config {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'in.ndjson'), ovoRecords(count, name));
  return buildConfig(
    {
      state: './state.db',
      sources: [{ type: 'ovo-feedback', id: 'ovo', files: ['./in.ndjson'] }],
      adobe: {
        imsUrl: `${proxy.url}/ims/token/v3`,
        clientId: aep.credentials.clientId,
        clientSecretEnv: 'XDMF_CONTRACT_SECRET',
        orgId: aep.credentials.imsOrgId,
        sandbox: aep.credentials.sandboxName,
        platformUrl: proxy.url,
      },
      sink: {
        eventTypes: aepLocalEventTypes(aep),
        ...sink,
      },
    },
    { baseDir: dir },
  );
}

/**
 * The one known departure, kept on purpose: Adobe's OpenAPI file declares `inputFormat.format` as the enum
 * JSON | Parquet | CSV, while Adobe's own tutorials (and this connector) send "json"; docs/adobe-api.md notes it.
 */
const KNOWN_DEPARTURES = ['request POST createBatch: body/inputFormat/format: must be equal to one of the allowed values {"allowedValues":["JSON","Parquet","CSV"]}'];

/** Paths with ids replaced, to name an exchange in a failure message and in the list of operations seen. */
const shape = (x: RecordedExchange) => `${x.method} ${findOperation(x.method, x.url)?.operationId ?? new URL(x.url, 'http://x').pathname}`;

/** Every violation of the recorded exchanges (requests and answers), and the operations they covered. */
function audit(exchanges: RecordedExchange[]): { problems: string[]; operations: Set<string>; unspecified: Set<string> } {
  const problems: string[] = [];
  const operations = new Set<string>();
  const unspecified = new Set<string>();
  for (const x of exchanges) {
    const op = findOperation(x.method, x.url);
    if (!op) {
      unspecified.add(`${x.method} ${new URL(x.url, 'http://x').pathname.replace(/[0-9a-f]{24,}/g, '{id}')}`);
      continue;
    }
    operations.add(op.operationId);
    const headers = Object.fromEntries(Object.entries(x.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
    const json = (x.headers['content-type'] ?? '').includes('json');
    const req: ContractRequest = { method: x.method, url: x.url, headers, body: x.body.length === 0 ? undefined : json ? x.body.toString('utf8') : x.body };
    for (const p of checkRequest(req)) if (!KNOWN_DEPARTURES.includes(`request ${shape(x)}: ${p}`)) problems.push(`request ${shape(x)}: ${p}`);
    const responseHeaders = Object.fromEntries(Object.entries(x.responseHeaders).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]));
    const body = x.responseBody.length === 0 ? undefined : x.responseBody.toString('utf8');
    for (const p of checkResponse(req, { status: x.status, headers: responseHeaders, body })) problems.push(`answer ${x.status} to ${shape(x)}: ${p}`);
  }
  return { problems, operations, unspecified };
}

describe("the connector's own traffic conforms to Adobe's OpenAPI files", () => {
  it('a streaming sync: IMS token, then DCS batches answered 207 with per-message rejections', async () => {
    proxy.exchanges.length = 0;
    aep.reset();
    const config = configFor('streaming', 120, {
      type: 'adobe-streaming',
      dcsUrl: proxy.url,
      inletId: aep.inletId,
      flowId: aep.flowId,
      maxBatchEvents: 25,
    });
    const result = await runConnector(config, { command: 'sync', log: silentLogger });
    expect(result.summaries[0]).toMatchObject({ read: 120, sent: 104, deadLettered: { ingest: 16 } });
    const { problems, operations, unspecified } = audit(proxy.exchanges);
    expect(problems).toEqual([]);
    expect([...operations]).toEqual(['postBatchOfStreamingMessages']);
    expect(proxy.exchanges.some((x) => x.status === 207)).toBe(true);
    // IMS has no OpenAPI file among Adobe's; its form-encoded client_credentials call is tested in test/adobe/ims.test.ts.
    expect([...unspecified]).toEqual(['POST /ims/token/v3']);
  });

  it('a batch backfill: create, whole-file (tracking) and chunked (feedback) uploads, complete, Catalog polls, failed records from Data Access', async () => {
    proxy.exchanges.length = 0;
    aep.reset();
    const dir = join(root, 'batch');
    const config = configFor('batch', 200, {
      type: 'adobe-batch',
      stagingDir: join(dir, 'staging'),
      lingerMs: 20,
      pollIntervalMs: 5,
      pollMaxIntervalMs: 20,
      partialIngestionPercent: 50,
      maxPutBytes: 20_000, // the feedback file is larger: INITIALIZE, PATCH chunks, COMPLETE
      chunkBytes: 8_000,
    });
    const result = await runBackfill(config, { from: new Date('2024-05-01T00:00:00Z'), to: new Date('2024-06-01T00:00:00Z'), via: 'batch', log: silentLogger, tty: false });
    expect(result.error).toBeUndefined();
    expect(result.summaries[0]).toMatchObject({ read: 200, sent: 174, deadLettered: { ingest: 26 } });
    const { problems, operations, unspecified } = audit(proxy.exchanges);
    expect(problems).toEqual([]);
    for (const op of ['createBatch', 'uploadSmallFile', 'uploadLargeFilePart', 'getLargeFileStatus', 'completeLargeFileUpload', 'completeBatch', 'retrieveBatch', 'retrieveFailedBatch']) {
      expect([...operations], op).toContain(op);
    }
    expect([...unspecified].filter((u) => u !== 'POST /ims/token/v3')).toEqual([]);
  });

  it('schema pull by the sink\'s schemaRef and by dataset: Schema Registry (and Catalog) requests and answers', async () => {
    proxy.exchanges.length = 0;
    const config = configFor('pull', 1, { type: 'adobe-streaming', dcsUrl: proxy.url, inletId: aep.inletId, flowId: aep.flowId });
    const cwd = join(root, 'pull');
    const bySink = await pullSchemas(config, { log: silentLogger, cwd });
    expect(bySink.schemas.length).toBeGreaterThan(0);
    const byDataset = await pullSchemas(config, { log: silentLogger, cwd, datasetId: aep.datasets[0]!.id, out: join(cwd, 'tenant.json') });
    expect(byDataset.schemas).toHaveLength(1);
    const { problems, operations, unspecified } = audit(proxy.exchanges);
    expect(problems).toEqual([]);
    expect([...operations]).toContain('retrieveSchema');
    // The Catalog dataset lookup is not among the trimmed operations; only it and IMS may be unchecked.
    expect([...unspecified].filter((u) => u !== 'POST /ims/token/v3')).toEqual(['GET /data/foundation/catalog/dataSets/{id}']);
  });
});
