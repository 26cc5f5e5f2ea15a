import { networkInterfaces } from 'node:os';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { localDefaults, startAepLocal, type AepLocal } from '../../src/aep-local/index.js';
import { AEP_LOCAL_DEFAULT_PORT, optionsFromFlags, registerAepLocalCommand } from '../../src/aep-local/cli.js';
import { ConfigError } from '../../src/errors.js';
import { batchPath, call, dcsHeaders, envelope, event } from './support.js';

let local: AepLocal;

beforeAll(async () => {
  local = await startAepLocal();
});
afterAll(() => local.close());

describe('query and control routes', () => {
  test('/__local/events lists accepted events, filtered by dataset, and /__local/stats counts requests', async () => {
    local.reset();
    const t = local.issueToken();
    await call(local, {
      method: 'POST',
      path: batchPath(local),
      headers: dcsHeaders(t),
      body: { messages: [envelope(event('f-1')), envelope(event('t-1'), { datasetId: localDefaults.datasets.tracking })] },
    });
    const all = await call(local, { path: '/__local/events' });
    expect(all.json.count).toBe(2);
    const tracking = await call(local, { path: `/__local/events?datasetId=${localDefaults.datasets.tracking}` });
    expect(tracking.json.events.map((e: { event: { _id: string } }) => e.event._id)).toEqual(['t-1']);
    expect(tracking.json.events[0]).toMatchObject({ datasetId: localDefaults.datasets.tracking, via: 'streaming', ref: expect.stringMatching(/:1$/) });
    const stats = await call(local, { path: '/__local/stats' });
    expect(stats.json).toMatchObject({ accepted: 2, duplicates: 0, requests: { 'dcs.batch': { '207': 1 } }, messages: { received: 2, accepted: 2, rejected: 0 } });
    // The stats request itself is counted once it has been answered.
    expect(local.stats().requests['local.stats']).toEqual({ '200': 1 });
  });

  test('/__local/config names the credentials and ids a connector needs; /__local/reset forgets everything', async () => {
    const config = await call(local, { path: '/__local/config' });
    expect(config.json).toMatchObject({
      url: local.url,
      credentials: { clientId: 'local-client', imsOrgId: 'LOCAL0RG@AdobeOrg', sandboxName: 'prod' },
      inletId: localDefaults.inletId,
      flowId: localDefaults.flowId,
      schema: { id: localDefaults.schemaId, altId: localDefaults.schemaAltId },
    });
    expect((await call(local, { method: 'POST', path: '/__local/reset' })).json).toEqual({ reset: true });
    expect(local.accepted()).toEqual([]);
  });

  test('unknown paths are 404 and unsupported methods on known platform paths are 405', async () => {
    expect((await call(local, { path: '/nothing/here' })).status).toBe(404);
    expect((await call(local, { path: `/collection/${local.inletId}` })).status).toBe(404);
    const t = local.issueToken();
    const wrongMethod = await call(local, {
      method: 'DELETE',
      path: '/data/foundation/import/batches/X',
      headers: { authorization: `Bearer ${t}`, 'x-api-key': 'local-client', 'x-gw-ims-org-id': localDefaults.imsOrgId, 'x-sandbox-name': 'prod' },
    });
    expect(wrongMethod.status).toBe(405);
  });
});

describe('loopback only', () => {
  test('the server listens on 127.0.0.1 and cannot be reached through another interface', async () => {
    expect(local.url).toBe(`http://127.0.0.1:${local.port}`);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    if (!external) return; // a machine with loopback only proves nothing more here
    await expect(fetch(`http://${external.address}:${local.port}/__local/stats`, { signal: AbortSignal.timeout(2_000) })).rejects.toThrow();
  });
});

describe('the aep-local command', () => {
  test('flags become start options and fault plan', () => {
    expect(
      optionsFromFlags({
        port: '0',
        fault429: '0.1',
        fault5xx: '0.05',
        faultReset: '0.01',
        slowMs: '200',
        slowShare: '0.5',
        maxRequestBytes: '500000',
        tokenTtlSeconds: '60',
        rejectShare: '0.02',
        script: '429:1, 503 ,reset',
        seed: '9',
      }),
    ).toEqual({
      port: 0,
      faults: { share429: 0.1, share5xx: 0.05, shareReset: 0.01, slowMs: 200, slowShare: 0.5, rejectShare: 0.02, script: ['429:1', '503', 'reset'] },
      maxRequestBytes: 500_000,
      tokenTtlSeconds: 60,
      seed: 9,
    });
    expect(optionsFromFlags({ port: String(AEP_LOCAL_DEFAULT_PORT) })).toEqual({ port: AEP_LOCAL_DEFAULT_PORT, faults: {} });
  });

  test.each([
    [{ port: '70000' }, '--port 70000'],
    [{ port: '0', fault429: '2' }, '--fault-429 2: give a share between 0 and 1'],
    [{ port: '0', slowMs: '-5' }, '--slow-ms -5'],
    [{ port: '0', tokenTtlSeconds: 'soon' }, '--token-ttl-seconds soon'],
  ])('a bad flag %j is a configuration error naming it', (flags, message) => {
    expect(() => optionsFromFlags(flags)).toThrow(ConfigError);
    expect(() => optionsFromFlags(flags)).toThrow(message);
  });

  test('--help lists every flag and the routes', () => {
    const program = new Command('xdm-feedback');
    registerAepLocalCommand(program);
    const help = program.commands.find((c) => c.name() === 'aep-local')!.helpInformation();
    for (const flag of ['--port', '--fault-429', '--fault-5xx', '--fault-reset', '--slow-ms', '--slow-share', '--max-request-bytes', '--token-ttl-seconds', '--reject-share', '--seed', '--json']) {
      expect(help).toContain(flag);
    }
  });

  test('the command starts the imitation, prints its configuration as JSON and stops on SIGTERM', async () => {
    const program = new Command('xdm-feedback').exitOverride();
    registerAepLocalCommand(program);
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      const running = program.parseAsync(['node', 'xdm-feedback', 'aep-local', '--port', '0', '--fault-429', '0.5', '--json']);
      await vi.waitFor(() => expect(lines.length).toBeGreaterThan(0), { timeout: 5_000 });
      const printed = JSON.parse(lines[0]!);
      expect(printed).toMatchObject({ clientId: 'local-client', imsOrgId: 'LOCAL0RG@AdobeOrg', sandboxName: 'prod', inletId: localDefaults.inletId, faults: { share429: 0.5 } });
      const stats = await fetch(`${printed.url}/__local/stats`);
      expect(stats.status).toBe(200);
      process.emit('SIGTERM');
      await running;
      expect(JSON.parse(lines[1]!)).toMatchObject({ stopped: true, stats: { requests: { 'local.stats': { '200': 1 } } } });
      await expect(fetch(`${printed.url}/__local/stats`)).rejects.toThrow();
    } finally {
      write.mockRestore();
    }
  });
});
