import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { JsonObject } from '../../src/core/types.js';
import { AuthError, ConfigError, FatalError, RetryableError } from '../../src/errors.js';
import { createSource, startMasStackLocal, type MasStackLocal, type MasStackSourceConfig } from '../../src/sources/index.js';
import { drain, records, testContext, undecodable } from '../helpers/source-context.js';
import { tempDir } from '../helpers/temp.js';

const TOKEN = 'local-test-token-123456';
const env = { MASSTACK_TOKEN: TOKEN };
const T0 = Date.parse('2024-05-10T08:00:00Z');
const iso = (ms: number): string => new Date(ms).toISOString();

function record(i: number, statusOffsetMin = 5, status = 'DELIVERED'): JsonObject {
  return {
    id: `id-${String(i).padStart(4, '0')}`,
    externalId: `sale-${i}`,
    channel: i % 2 ? 'EMAIL' : 'SMS',
    status,
    requestTime: iso(T0 + i * 60_000),
    statusTime: iso(T0 + i * 60_000 + statusOffsetMin * 60_000),
    ...(i % 2 ? { destinationEmail: `customer${i}@example.com` } : { terminatingNumber: `7700900${String(i % 1000).padStart(3, '0')}`, countryCode: 44 }),
  };
}

let servers: MasStackLocal[] = [];
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close()));
  servers = [];
});
async function api(options: Parameters<typeof startMasStackLocal>[0]): Promise<MasStackLocal> {
  const server = await startMasStackLocal(options);
  servers.push(server);
  return server;
}
function apiSource(server: MasStackLocal, extra: Partial<NonNullable<MasStackSourceConfig['api']>> = {}, environment: NodeJS.ProcessEnv = env) {
  return createSource(
    { type: 'masstack', api: { baseUrl: server.url, org: 'acme', pageSize: 100, minRetryDelayMs: 1, maxRetryDelayMs: 20, ...extra } },
    { baseDir: '.', env: environment },
  );
}
const ids = (items: Awaited<ReturnType<typeof drain>>): unknown[] => records(items).map((r) => r.id);

describe('the MasStack API source (against the local imitation over HTTP)', () => {
  test('it pages with limit/offset and a Bearer token until the total is read, even when the server serves smaller pages', async () => {
    const all = Array.from({ length: 250 }, (_, i) => record(i));
    const server = await api({ records: all, token: TOKEN, pageLimit: 40 });
    const items = await drain(apiSource(server), testContext());
    expect(ids(items)).toEqual(all.map((r) => r.id));
    const offsets = server.requests.map((r) => Number(r.query.offset));
    expect(offsets).toEqual([0, 40, 80, 120, 160, 200, 240]);
    expect(server.requests.every((r) => r.status === 200 && r.query.limit === '100' && r.query['requestTime[lt]'] !== undefined)).toBe(true);
    expect(server.requests[0]!.query['requestTime[gt]']).toBeUndefined();
  });

  test('the next run reads only what changed since the watermark, re-querying the lookback window by request time', async () => {
    const all = Array.from({ length: 30 }, (_, i) => record(i));
    const server = await api({ records: all, token: TOKEN });
    const ctx = testContext();
    expect(await drain(apiSource(server), ctx)).toHaveLength(30);
    const cursor = JSON.parse([...ctx.checkpoints.values()][0]!);
    expect(cursor).toEqual({ watermark: all[29]!.statusTime, idsAtWatermark: ['id-0029'] });

    expect(await drain(apiSource(server), testContext({ checkpoints: ctx.checkpoints }))).toEqual([]);
    const gt = Date.parse(server.requests.at(-1)!.query['requestTime[gt]']!);
    expect(gt).toBe(Date.parse(cursor.watermark) - 48 * 3_600_000);

    server.upsert([{ ...record(3, 90, 'CLICKED') }, record(31)]);
    const next = await drain(apiSource(server), testContext({ checkpoints: ctx.checkpoints }));
    expect(next.map((i) => (i.kind === 'record' ? [i.record.id, i.record.status] : []))).toEqual([
      ['id-0003', 'CLICKED'],
      ['id-0031', 'DELIVERED'],
    ]);
  });

  test('records sharing the watermark time are neither skipped nor read twice', async () => {
    const same = iso(T0 + 3_600_000);
    const tie = (id: string, minute: number): JsonObject => ({ id, channel: 'SMS', status: 'DELIVERED', requestTime: iso(T0 + minute * 60_000), statusTime: same });
    const server = await api({ records: [record(0), tie('b', 1), tie('c', 2)], token: TOKEN });
    const ctx = testContext();
    expect(ids(await drain(apiSource(server), ctx))).toEqual(['id-0000', 'b', 'c']);
    expect(JSON.parse([...ctx.checkpoints.values()][0]!)).toEqual({ watermark: same, idsAtWatermark: ['b', 'c'] });
    server.upsert([tie('d', 3)]);
    expect(ids(await drain(apiSource(server), testContext({ checkpoints: ctx.checkpoints })))).toEqual(['d']);
    expect(JSON.parse([...ctx.checkpoints.values()][0]!)).toEqual({ watermark: same, idsAtWatermark: ['b', 'c', 'd'] });
  });

  test('a run interrupted mid-sweep resumes at the next record: everything exactly once', async () => {
    const all = Array.from({ length: 260 }, (_, i) => record(i, (i * 7) % 50));
    const server = await api({ records: all, token: TOKEN });
    const ctx = testContext();
    const first = await drain(apiSource(server), ctx, 150);
    expect(JSON.parse([...ctx.checkpoints.values()][0]!).sweep).toMatchObject({ offset: 150 });
    const rest = await drain(apiSource(server), testContext({ checkpoints: ctx.checkpoints }));
    expect([...ids(first), ...ids(rest)]).toEqual(all.map((r) => r.id));
    expect(await drain(apiSource(server), testContext({ checkpoints: ctx.checkpoints }))).toEqual([]);
  });

  test('a resumed sweep with nothing new left still lets the watermark move on to newer records in the same run', async () => {
    const all = Array.from({ length: 150 }, (_, i) => record(i));
    const server = await api({ records: all, token: TOKEN });
    const last = all[149]!;
    // The checkpoint of a run interrupted after record 100 of a sweep whose window ended at minute 200.
    const stale = {
      watermark: last.statusTime,
      idsAtWatermark: [last.id],
      sweep: { gt: null, lt: iso(T0 + 200 * 60_000), offset: 100, maxTime: last.statusTime, maxIds: [last.id] },
    };
    const ctx = testContext({ checkpoints: new Map([[`${server.url}/v2/orgs/acme/communications`, JSON.stringify(stale)]]) });
    server.upsert([record(300)]);
    expect(ids(await drain(apiSource(server), ctx))).toEqual(['id-0300']);
    expect(JSON.parse([...ctx.checkpoints.values()][0]!)).toEqual({ watermark: record(300).statusTime, idsAtWatermark: ['id-0300'] });
  });

  test('429 (with Retry-After) and 5xx answers are retried and the read completes', async () => {
    const server = await api({
      records: Array.from({ length: 120 }, (_, i) => record(i)),
      token: TOKEN,
      faults: [{ status: 429, retryAfterSeconds: 0, count: 2 }, { status: 500 }, { status: 503, atRequest: 5 }],
    });
    const items = await drain(apiSource(server), testContext());
    expect(items).toHaveLength(120);
    expect(server.requests.map((r) => r.status)).toEqual([429, 429, 500, 200, 503, 200]);
  });

  test('a request that times out is retried', async () => {
    const server = await api({ records: [record(1)], token: TOKEN, faults: [{ status: 500, delayMs: 400 }] });
    const items = await drain(apiSource(server, { timeoutMs: 100 }), testContext());
    expect(ids(items)).toEqual(['id-0001']);
    expect(server.requests.at(-1)!.status).toBe(200);
  });

  test('when retries run out the run fails with a retryable error naming the status', async () => {
    const server = await api({ records: [record(1)], token: TOKEN, faults: [{ status: 503, count: 10 }] });
    const read = drain(apiSource(server, { retries: 2 }), testContext());
    await expect(read).rejects.toBeInstanceOf(RetryableError);
    await expect(drain(apiSource(server, { retries: 0 }), testContext())).rejects.toThrow(/answered 503/);
  });

  test('401 is fatal with a clear message that never contains the token', async () => {
    const server = await api({ records: [record(1)], token: 'the-real-token-value' });
    const error = await drain(apiSource(server), testContext()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).toMatch(/answered 401 Unauthorized .*tokenEnv/);
    expect((error as Error).message).not.toContain(TOKEN);
    expect(server.requests).toHaveLength(1);
  });

  test('400 stops the run with the API error message', async () => {
    const server = await api({ records: [record(1)], token: TOKEN, faults: [{ status: 400 }] });
    const error = await drain(apiSource(server), testContext()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FatalError);
    expect((error as Error).message).toMatch(/rejected GET .* \(400\): INJECTED_FAULT: Injected fault/);
  });

  test('a missing token variable is a configuration error naming the variable', async () => {
    const server = await api({ records: [], token: TOKEN });
    await expect(drain(apiSource(server, { tokenEnv: 'ACME_TOKEN' }, {}), testContext())).rejects.toThrow(ConfigError);
    await expect(drain(apiSource(server, { tokenEnv: 'ACME_TOKEN' }, {}), testContext())).rejects.toThrow(/ACME_TOKEN is not set/);
  });

  test('since limits the first run; a backfill window reads only its range into its own stream', async () => {
    const all = Array.from({ length: 40 }, (_, i) => record(i, 0));
    const server = await api({ records: all, token: TOKEN });
    const since = all[30]!.statusTime as string;
    expect(ids(await drain(apiSource(server, { since }), testContext()))).toEqual(all.slice(30).map((r) => r.id));

    const ctx = testContext({ window: { from: new Date(all[10]!.statusTime as string), to: new Date(all[20]!.statusTime as string) } });
    const windowed = await drain(apiSource(server), ctx);
    expect(ids(windowed)).toEqual(all.slice(10, 20).map((r) => r.id));
    expect([...ctx.checkpoints.keys()][0]).toMatch(/\/v2\/orgs\/acme\/communications#window=2024-05-10T08:10:00\.000Z\.\.2024-05-10T08:20:00\.000Z$/);
    expect(server.requests.at(-1)!.query['requestTime[lt]']).toBe(all[20]!.statusTime);
  });

  test('a record without an id or a readable statusTime is undecodable, not fatal', async () => {
    const server = await api({ records: [record(1), { id: 'x', requestTime: iso(T0 + 120_000), status: 'SUBMITTED', statusTime: 'yesterday' }], token: TOKEN });
    const items = await drain(apiSource(server), testContext());
    expect(ids(items)).toEqual(['id-0001']);
    expect(undecodable(items)[0]!.reason).toBe('API record 2 has no valid statusTime');
  });
});

describe('the MasStack export source', () => {
  const dir = tempDir('xdmf-ms-');

  test('a JSON array export is streamed element by element and resumes exactly once', async () => {
    const all = Array.from({ length: 700 }, (_, i) => record(i));
    const path = join(dir, 'export.json');
    writeFileSync(path, JSON.stringify(all, null, 2));
    const source = createSource({ type: 'masstack', files: ['export.json'] }, { baseDir: dir });
    const ctx = testContext();
    const first = await drain(source, ctx, 333);
    const rest = await drain(source, testContext({ checkpoints: ctx.checkpoints }));
    expect([...ids(first), ...ids(rest)]).toEqual(all.map((r) => r.id));
    expect(await drain(source, testContext({ checkpoints: ctx.checkpoints }))).toEqual([]);
  });

  test('NDJSON exports are read too', async () => {
    writeFileSync(join(dir, 'export.ndjson'), `${JSON.stringify(record(1))}\n${JSON.stringify(record(2))}\n`);
    expect(ids(await drain(createSource({ type: 'masstack', files: ['export.ndjson'] }, { baseDir: dir }), testContext()))).toEqual(['id-0001', 'id-0002']);
  });

  test('bad elements and a truncated array become undecodable items with their element number', async () => {
    writeFileSync(join(dir, 'bad.json'), `[${JSON.stringify(record(1))}, 42, {"id":"x",}, "text", ${JSON.stringify(record(2))}, {"id":"cut`);
    const items = await drain(createSource({ type: 'masstack', files: ['bad.json'] }, { baseDir: dir }), testContext());
    expect(ids(items)).toEqual(['id-0001', 'id-0002']);
    expect(undecodable(items).map((b) => b.reason)).toEqual([
      'element 2: not a JSON object (found a number)',
      expect.stringMatching(/^element 3: /),
      'element 4: not a JSON object (found a string)',
      'element 6: the file ends inside element 6 (truncated?)',
    ]);
  });

  test('a file that is neither a JSON array nor NDJSON objects yields undecodable items, not a crash', async () => {
    writeFileSync(join(dir, 'weird.json'), 'hello world\n');
    const items = await drain(createSource({ type: 'masstack', files: ['weird.json'] }, { baseDir: dir }), testContext());
    expect(undecodable(items).map((b) => b.reason)).toEqual([expect.stringMatching(/^line 1: Unexpected token/)]);
  });

  test('the bundled sample export covers all eleven statuses on SMS and email and reads cleanly', async () => {
    const items = await drain(createSource({ type: 'masstack', files: ['masstack-export.json'] }, { baseDir: 'examples/data' }), testContext());
    expect(undecodable(items)).toEqual([]);
    const statuses = new Set(records(items).map((r) => r.status));
    expect(statuses.size).toBe(11);
    expect(new Set(records(items).map((r) => r.channel))).toEqual(new Set(['SMS', 'EMAIL']));
    expect(records(items)).toHaveLength((JSON.parse(readFileSync('examples/data/masstack-export.json', 'utf8')) as unknown[]).length);
  });
});
