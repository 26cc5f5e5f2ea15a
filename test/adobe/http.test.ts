import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdobeHttpClient, HttpNetworkError, describeUrl, platformHeaders } from '../../src/adobe/http.js';
import { isRetryableNetworkError } from '../../src/adobe/retry-logic.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';

let server: ScriptedServer;
const clients: AdobeHttpClient[] = [];
function client(options: ConstructorParameters<typeof AdobeHttpClient>[0] = {}): AdobeHttpClient {
  const c = new AdobeHttpClient(options);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  server = await startScriptedServer();
});
afterAll(async () => {
  await server.close();
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  server.requests.length = 0;
});

describe('AdobeHttpClient', () => {
  it('reuses one keep-alive connection for sequential requests', async () => {
    server.fallback({ status: 200, body: { ok: true } });
    const before = server.connections;
    const c = client();
    for (let i = 0; i < 20; i++) {
      const res = await c.request({ method: 'POST', url: `${server.url}/x`, body: '{"a":1}', headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ok: true });
    }
    expect(server.connections - before).toBe(1);
    expect(c.connectionsOpened).toBe(1);
  });

  it('opens no more sockets than maxSockets under concurrency', async () => {
    server.fallback({ status: 200, body: {}, delayMs: 20 });
    const before = server.connections;
    const c = client({ maxSockets: 3 });
    await Promise.all(Array.from({ length: 12 }, () => c.request({ method: 'GET', url: `${server.url}/y` })));
    expect(server.connections - before).toBe(3);
  });

  it('sends the body byte for byte, without re-serialising it', async () => {
    server.fallback({ status: 200 });
    const body = '{"b":  2,"a":"é"}';
    await client().request({ method: 'POST', url: `${server.url}/raw`, body, headers: { 'content-type': 'application/json' } });
    expect(server.requests.at(-1)!.body).toBe(body);
  });

  it('gives up on a request that gets no answer within the whole-request timeout', async () => {
    server.enqueue({ hang: true });
    const started = Date.now();
    const error = await client({ requestTimeoutMs: 150 })
      .request({ method: 'POST', url: `${server.url}/slow?sig=abc`, body: '{}' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpNetworkError);
    expect((error as HttpNetworkError).timeout).toBe(true);
    expect((error as HttpNetworkError).code).toBe('REQUEST_TIMEOUT');
    expect((error as Error).message).toContain(`POST ${server.url}/slow`);
    expect((error as Error).message).not.toContain('sig=abc');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('times out a connection whose TLS handshake never completes', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as AddressInfo).port;
    try {
      const error = await client({ connectTimeoutMs: 100, requestTimeoutMs: 5000 })
        .request({ method: 'GET', url: `https://127.0.0.1:${port}/` })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HttpNetworkError);
      expect((error as HttpNetworkError).code).toBe('CONNECT_TIMEOUT');
      expect(isRetryableNetworkError((error as HttpNetworkError).code, (error as Error).message)).toBe(true);
    } finally {
      silent.close();
    }
  });

  it('reports a reset connection as a retryable network error', async () => {
    server.enqueue({ reset: true });
    const error = await client()
      .request({ method: 'POST', url: `${server.url}/reset`, body: '{}' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpNetworkError);
    expect(isRetryableNetworkError((error as HttpNetworkError).code, (error as Error).message)).toBe(true);
  });

  it('rejects with the caller’s reason when the caller aborts', async () => {
    server.enqueue({ hang: true });
    const controller = new AbortController();
    const reason = new Error('shutting down');
    setTimeout(() => controller.abort(reason), 30);
    const error = await client()
      .request({ method: 'GET', url: `${server.url}/wait`, signal: controller.signal })
      .catch((e: unknown) => e);
    expect(error).toBe(reason);
  });

  it('keeps Authorization headers out of error messages', async () => {
    server.enqueue({ reset: true });
    const error = await client()
      .request({ method: 'GET', url: `${server.url}/h`, headers: { authorization: 'Bearer very-secret-token-value' } })
      .catch((e: unknown) => e);
    expect(JSON.stringify(error)).not.toContain('very-secret-token-value');
    expect((error as Error).message).not.toContain('very-secret-token-value');
  });
});

describe('TLS verification', () => {
  let dir: string;
  let tls: https.Server;
  let port: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'xdm-tls-'));
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
      '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore' });
    tls = https.createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_req, res) => {
      res.writeHead(200).end('{}');
    });
    await new Promise<void>((r) => tls.listen(0, '127.0.0.1', r));
    port = (tls.address() as AddressInfo).port;
  });
  afterAll(() => {
    tls.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a self-signed certificate, even with NODE_TLS_REJECT_UNAUTHORIZED=0, and does not call it retryable', async () => {
    const previous = process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      const error = await client()
        .request({ method: 'GET', url: `https://127.0.0.1:${port}/` })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HttpNetworkError);
      expect((error as Error).message).toMatch(/self[- ]signed/i);
      expect(isRetryableNetworkError((error as HttpNetworkError).code, (error as Error).message)).toBe(false);
    } finally {
      if (previous === undefined) delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
      else process.env.NODE_TLS_REJECT_UNAUTHORIZED = previous;
    }
  });
});

describe('helpers', () => {
  it('builds the platform headers', () => {
    expect(platformHeaders({ clientId: 'cid', orgId: 'O@AdobeOrg', sandbox: 'dev' }, 'tok')).toEqual({
      authorization: 'Bearer tok',
      'x-api-key': 'cid',
      'x-gw-ims-org-id': 'O@AdobeOrg',
      'x-sandbox-name': 'dev',
    });
  });

  it('describes URLs without user info or query', () => {
    expect(describeUrl('https://user:pw@dcs.adobedc.net/collection/batch/abc?token=x')).toBe('https://dcs.adobedc.net/collection/batch/abc');
  });
});
