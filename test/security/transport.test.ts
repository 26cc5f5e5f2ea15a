/**
 * Transport and secret handling through the built CLI: TLS certificates are verified even with
 * NODE_TLS_REJECT_UNAUTHORIZED=0 (Adobe, and the MasStack API through the global fetch); Adobe endpoints must be https
 * (plain http only to a loopback address); the client secret comes only from the environment or a named file; the
 * local imitation started by the CLI listens on 127.0.0.1 only.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdobeHttpClient, HttpNetworkError, insecureUrlProblem } from '../../src/adobe/http.js';
import { startAepLocal } from '../../src/aep-local/index.js';
import type { AepLocal } from '../../src/aep-local/types.js';
import { builtPath } from '../helpers/built.js';
import { buildWorkload, crashCli, type ChildRun } from '../helpers/crash-harness.js';
import { tempDir } from '../helpers/temp.js';

const root = tempDir('xdmf-transport-');
const workload = buildWorkload(50, 3, { shares: { decode: 0, map: 0, skip: 0, reject: 0, repeat: 0 } });

/** A TLS server on 127.0.0.1 with a self-signed certificate; counts the requests that got through the handshake. */
async function selfSignedServer(): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=127.0.0.1', '-keyout', join(root, 'key.pem'), '-out', join(root, 'cert.pem'),
  ], { stdio: 'ignore' });
  let requests = 0;
  const server = https.createServer({ key: readFileSync(join(root, 'key.pem')), cert: readFileSync(join(root, 'cert.pem')) }, (_req, res) => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"access_token":"t","expires_in":86399,"data":[]}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const output = (run: ChildRun) => run.stdout + run.stderr;

describe('transport security', () => {
  let aep: AepLocal;
  let tls: Awaited<ReturnType<typeof selfSignedServer>>;
  beforeAll(async () => {
    aep = await startAepLocal({ seed: 3 });
    tls = await selfSignedServer();
  });
  afterAll(async () => {
    await aep?.close();
    await tls?.close();
  });

  it('an Adobe endpoint with an untrusted certificate is refused even with NODE_TLS_REJECT_UNAUTHORIZED=0; nothing is sent, nothing lost', async () => {
    const cli = crashCli(join(root, 'tls-adobe'), aep, workload.text, { retryDeadlineMs: 200, backoffBaseMs: 10, backoffMaxMs: 20 });
    const config = JSON.parse(readFileSync(cli.config, 'utf8')) as { adobe: Record<string, string> };
    config.adobe.imsUrl = `${tls.url}/ims/token/v3`;
    writeFileSync(cli.config, JSON.stringify(config));
    const run = await cli.run(['sync'], { NODE_TLS_REJECT_UNAUTHORIZED: '0' });
    expect(run.code, output(run)).not.toBe(0);
    expect(output(run)).toMatch(/self[- ]signed certificate/i);
    expect(tls.requests()).toBe(0); // the handshake failed: no request, so no client secret, reached the server
    expect(aep.acceptedIds()).toHaveLength(0);
    // Nothing was lost either: a rerun against a trusted endpoint sends every event.
    config.adobe.imsUrl = aep.endpoints.imsTokenUrl;
    writeFileSync(cli.config, JSON.stringify(config));
    const rerun = await cli.run(['sync']);
    expect([0, 3], output(rerun)).toContain(rerun.code);
    await cli.run(['dlq', 'replay', '--stage', 'ingest']);
    expect(new Set(aep.acceptedIds())).toEqual(new Set(workload.records.map((r) => r.id)));
  }, 30_000);

  it('the MasStack API (global fetch) with an untrusted certificate is refused too: NODE_TLS_REJECT_UNAUTHORIZED=0 is ignored, with a warning', async () => {
    const dir = join(root, 'tls-masstack');
    const cli = crashCli(dir, aep, '', {}, {
      sources: [{ type: 'masstack', id: 'ms', api: { baseUrl: tls.url, org: 'acme', retries: 0, timeoutMs: 2000 } }],
      sink: { type: 'file', path: './out.ndjson' },
    });
    const run = await cli.run(['sync'], { NODE_TLS_REJECT_UNAUTHORIZED: '0', MASSTACK_TOKEN: 'masstack-token-value' });
    expect(run.code, output(run)).not.toBe(0);
    expect(run.stderr).toMatch(/NODE_TLS_REJECT_UNAUTHORIZED=0 is ignored/);
    expect(output(run)).toMatch(/self[- ]signed certificate|certificate/i);
    expect(output(run)).not.toContain('masstack-token-value');
    expect(tls.requests()).toBe(0);
  }, 30_000);

  it('plain http to anything but a loopback address is refused: at load, naming the key, and in the HTTP client itself', async () => {
    aep.reset();
    for (const [path, url, key] of [
      [['sink', 'dcsUrl'], 'http://dcs.adobedc.net', 'sink.dcsUrl'],
      [['adobe', 'imsUrl'], 'http://ims-na1.adobelogin.com/ims/token/v3', 'adobe.imsUrl'],
      [['adobe', 'platformUrl'], 'http://127.0.0.1.example.com', 'adobe.platformUrl'],
      [['adobe', 'imsUrl'], 'ftp://127.0.0.1/token', 'adobe.imsUrl'],
    ] as const) {
      const cli = crashCli(join(root, `http-${key}-${url.length}`), aep, workload.text);
      const config = JSON.parse(readFileSync(cli.config, 'utf8')) as Record<string, Record<string, unknown>>;
      config[path[0]]![path[1]] = url;
      writeFileSync(cli.config, JSON.stringify(config));
      const run = await cli.run(['sync']);
      expect(run.code, output(run)).toBe(2);
      expect(run.stderr).toContain(`${key}: refused: Adobe endpoints are reached over https only`);
    }
    expect(aep.stats().requests['ims.token']).toBeUndefined(); // no run got as far as asking for a token

    expect(insecureUrlProblem('https://platform.adobe.io')).toBeUndefined();
    for (const ok of ['http://127.0.0.1:8080/x', 'http://localhost:1/x', 'http://[::1]:1/x', 'http://127.1.2.3/x']) expect(insecureUrlProblem(ok), ok).toBeUndefined();
    for (const bad of ['http://platform.adobe.io', 'http://127.evil.example/x', 'http://10.0.0.1/x', 'ws://127.0.0.1/x', 'nonsense']) expect(insecureUrlProblem(bad), bad).toBeDefined();
    const client = new AdobeHttpClient();
    try {
      const error = await client.request({ method: 'POST', url: 'http://dcs.adobedc.net/collection/x', headers: { authorization: 'Bearer secret-token' } }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HttpNetworkError);
      expect((error as HttpNetworkError).code).toBe('INSECURE_URL');
      expect((error as Error).message).not.toContain('secret-token');
      expect(client.connectionsOpened).toBe(0);
    } finally {
      client.close();
    }
  });

  it('the client secret comes only from the environment or a file the config names; never from the config itself', async () => {
    const secret = aep.credentials.clientSecret;
    // Written into the config: refused, naming the key, without echoing the value.
    const inline = crashCli(join(root, 'secret-inline'), aep, workload.text);
    const config = JSON.parse(readFileSync(inline.config, 'utf8')) as { adobe: Record<string, string> };
    writeFileSync(inline.config, JSON.stringify({ ...config, adobe: { ...config.adobe, clientSecret: secret } }));
    const refused = await inline.run(['sync']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/adobe: unknown key "clientSecret"/);
    expect(output(refused)).not.toContain(secret);

    // Neither in the environment nor in a file: a clear error naming both ways.
    const missing = await crashCli(join(root, 'secret-missing'), aep, workload.text).run(['sync'], { ADOBE_CLIENT_SECRET: '' });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/the client secret is missing; set the environment variable ADOBE_CLIENT_SECRET or name a file in adobe.clientSecretFile/);

    // From a file the config names (the environment variable unset): it works.
    const fromFile = crashCli(join(root, 'secret-file'), aep, workload.text, {}, {
      adobe: { ...config.adobe, clientSecretFile: './secret.txt' },
    });
    writeFileSync(join(fromFile.dir, 'secret.txt'), `${secret}\n`, { mode: 0o600 });
    const ok = await fromFile.run(['sync', '--json'], { ADOBE_CLIENT_SECRET: '' });
    expect(ok.code, output(ok)).toBe(0);
    expect(output(ok)).not.toContain(secret);
  }, 30_000);

  it('the aep-local command listens on 127.0.0.1 only', async () => {
    const child = spawn(process.execPath, [builtPath('src/cli/main.js'), 'aep-local', '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const first = await new Promise<string>((resolve, reject) => {
        let text = '';
        child.stdout.on('data', (d: Buffer) => {
          text += d.toString();
          if (text.includes('\n')) resolve(text.split('\n')[0]!);
        });
        child.on('exit', (code) => reject(new Error(`aep-local exited with ${code}`)));
      });
      const url = new URL(String((JSON.parse(first) as { url: string }).url));
      expect(url.hostname).toBe('127.0.0.1');
      expect((await fetch(`${url.origin}/__local/stats`)).status).toBe(200);
      const external = Object.values(networkInterfaces())
        .flat()
        .find((i) => i && i.family === 'IPv4' && !i.internal);
      if (external) await expect(fetch(`http://${external.address}:${url.port}/__local/stats`, { signal: AbortSignal.timeout(2000) })).rejects.toThrow();
    } finally {
      child.kill('SIGTERM');
    }
  }, 20_000);
});
