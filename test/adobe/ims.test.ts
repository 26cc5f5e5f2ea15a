import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AdobeHttpClient } from '../../src/adobe/http.js';
import { ImsTokenProvider } from '../../src/adobe/ims.js';
import { AuthError, RetryableError } from '../../src/errors.js';
import { startScriptedServer, type ScriptedServer } from '../helpers/scripted-server.js';
import { captureLogger } from '../sinks/helpers.js';

const SECRET = 'p8e-ImsTestSecretValue-0001';

let server: ScriptedServer;
let http: AdobeHttpClient;

beforeAll(async () => {
  server = await startScriptedServer();
  http = new AdobeHttpClient({ requestTimeoutMs: 2000 });
});
afterAll(async () => {
  http.close();
  await server.close();
});
afterEach(() => {
  server.requests.length = 0;
});

function provider(options: { now?: () => number; refreshMarginMs?: number; scopes?: string | string[] } = {}): ImsTokenProvider {
  return new ImsTokenProvider(
    {
      imsUrl: `${server.url}/ims/token/v3`,
      clientId: 'client-id-1',
      clientSecret: SECRET,
      orgId: 'ORG1@AdobeOrg',
      ...(options.scopes ? { scopes: options.scopes } : {}),
    },
    { http, ...(options.now ? { now: options.now } : {}), ...(options.refreshMarginMs !== undefined ? { refreshMarginMs: options.refreshMarginMs } : {}) },
  );
}

let issued = 0;
function tokenAnswer(expiresIn = 86399, delayMs = 0) {
  return () => ({ status: 200, delayMs, body: { access_token: `token-${++issued}-abcdefgh`, token_type: 'bearer', expires_in: expiresIn } });
}

describe('ImsTokenProvider', () => {
  it('asks IMS for a client_credentials token with a form body', async () => {
    server.enqueue(tokenAnswer());
    const token = await provider({ scopes: 'openid,AdobeID' }).getToken();
    expect(token).toMatch(/^token-\d+-abcdefgh$/);
    const [req] = server.requests;
    expect(req!.method).toBe('POST');
    expect(req!.url).toBe('/ims/token/v3');
    expect(req!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const form = new URLSearchParams(req!.body);
    expect(Object.fromEntries(form)).toEqual({ grant_type: 'client_credentials', client_id: 'client-id-1', client_secret: SECRET, scope: 'openid,AdobeID' });
  });

  it('serves the cached token until shortly before expires_in (seconds) runs out', async () => {
    let now = 1_000_000;
    const p = provider({ now: () => now, refreshMarginMs: 60_000 });
    server.enqueue(tokenAnswer(600), tokenAnswer(600));
    const first = await p.getToken();
    now += 539_000;
    expect(await p.getToken()).toBe(first);
    expect(server.requests).toHaveLength(1);
    now += 2_000; // inside the 60 s margin
    const second = await p.getToken();
    expect(second).not.toBe(first);
    expect(server.requests).toHaveLength(2);
    expect(p.fetches).toBe(2);
  });

  it('refreshes at half-life when the margin exceeds the token lifetime', async () => {
    let now = 0;
    const p = provider({ now: () => now, refreshMarginMs: 300_000 });
    server.enqueue(tokenAnswer(10), tokenAnswer(10));
    const first = await p.getToken();
    now = 4_900;
    expect(await p.getToken()).toBe(first);
    now = 5_100;
    expect(await p.getToken()).not.toBe(first);
  });

  it('reads a legacy expires_in in milliseconds as milliseconds', async () => {
    let now = 0;
    const p = provider({ now: () => now, refreshMarginMs: 0 });
    server.enqueue(tokenAnswer(86_399_992));
    const first = await p.getToken();
    now = 86_000_000;
    expect(await p.getToken()).toBe(first);
    expect(server.requests).toHaveLength(1);
  });

  it('shares one IMS request between concurrent callers', async () => {
    server.enqueue(tokenAnswer(86399, 50));
    const p = provider();
    const tokens = await Promise.all(Array.from({ length: 10 }, () => p.getToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(server.requests).toHaveLength(1);
  });

  it('drops the cached token on invalidate, but only if it is still the one named', async () => {
    server.enqueue(tokenAnswer(), tokenAnswer());
    const p = provider();
    const first = await p.getToken();
    p.invalidate('some-older-token');
    expect(await p.getToken()).toBe(first);
    p.invalidate(first);
    expect(await p.getToken()).not.toBe(first);
    expect(server.requests).toHaveLength(2);
  });

  it('turns a refusal into an AuthError that never contains the secret', async () => {
    server.enqueue({ status: 401, body: { error: 'invalid_client', error_description: `invalid client_secret ${SECRET}` } });
    const error = await provider().getToken().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).toContain('401');
    expect((error as Error).message).toContain('invalid_client');
    expect(inspect(error, { depth: 10 })).not.toContain(SECRET);
  });

  it('turns IMS 5xx and connection resets into retryable errors without the secret', async () => {
    server.enqueue({ status: 503, headers: { 'retry-after': '2' }, body: { error: 'unavailable' } }, { reset: true });
    const p = provider();
    const e1 = await p.getToken().catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(RetryableError);
    expect((e1 as RetryableError).retryAfterMs).toBe(2000);
    const e2 = await p.getToken().catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(RetryableError);
    for (const e of [e1, e2]) expect(inspect(e, { depth: 10 })).not.toContain(SECRET);
  });

  it('keeps the secret and issued tokens out of log lines', async () => {
    server.enqueue(tokenAnswer());
    const { log, lines } = captureLogger();
    const p = provider();
    const token = await p.getToken();
    log.info({ token, clientSecret: SECRET, note: `secret=${SECRET} token ${token}` }, `fetched ${token} with ${SECRET}`);
    log.error(new Error(`request with ${SECRET} and Bearer ${token} failed`));
    const text = lines.join('');
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(token);
  });
});
