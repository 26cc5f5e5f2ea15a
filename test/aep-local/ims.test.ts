import { afterEach, describe, expect, test } from 'vitest';
import { localDefaults, startAepLocal, type AepLocal } from '../../src/aep-local/index.js';
import { batchPath, call, callConforming, dcsHeaders, envelope, event, platformHeaders, token } from './support.js';

let local: AepLocal | undefined;
afterEach(async () => {
  await local?.close();
  local = undefined;
});

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  path: '/ims/token/v3',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

const good = { grant_type: 'client_credentials', client_id: localDefaults.clientId, client_secret: localDefaults.clientSecret, scope: 'openid,AdobeID' };

describe('IMS token endpoint', () => {
  test('client credentials get an opaque bearer token with expires_in in seconds', async () => {
    local = await startAepLocal();
    const reply = await call(local, form(good));
    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({ access_token: expect.stringMatching(/^[A-Za-z0-9_-]{40,}$/), token_type: 'bearer', expires_in: 86_399 });
    const again = await call(local, form(good));
    expect(again.json.access_token).not.toBe(reply.json.access_token);
  });

  test('parameters in the query string are accepted too, as IMS allows', async () => {
    local = await startAepLocal();
    const reply = await call(local, { method: 'POST', path: `/ims/token/v3?${new URLSearchParams(good).toString()}` });
    expect(reply.status).toBe(200);
  });

  test.each([
    ['an unknown client id', { client_id: 'someone' }, 400, 'invalid_client'],
    ['a wrong secret', { client_secret: 'guess' }, 401, 'invalid_client'],
    ['another grant type', { grant_type: 'authorization_code' }, 400, 'unsupported_grant_type'],
    ['a scope not granted', { scope: 'openid,admin' }, 400, 'invalid_scope'],
    ['no client secret', { client_secret: '' }, 400, 'invalid_request'],
  ])('%s is refused with %i %s', async (_case, change, status, error) => {
    local = await startAepLocal();
    const reply = await call(local, form({ ...good, ...change }));
    expect(reply.status).toBe(status);
    expect(reply.json).toEqual({ error, error_description: expect.any(String) });
    expect(JSON.stringify(reply.json)).not.toContain(localDefaults.clientSecret);
  });

  test('a JSON body is refused: IMS wants form-urlencoded', async () => {
    local = await startAepLocal();
    const reply = await call(local, { method: 'POST', path: '/ims/token/v3', headers: { 'content-type': 'application/json' }, body: good });
    expect(reply.status).toBe(400);
    expect(reply.json.error).toBe('invalid_request');
  });

  test('credentials can be overridden and are reported back', async () => {
    local = await startAepLocal({ credentials: { clientId: 'c2', clientSecret: 's2' } });
    expect(local.credentials).toMatchObject({ clientId: 'c2', clientSecret: 's2', imsOrgId: localDefaults.imsOrgId });
    expect((await call(local, form(good))).status).toBe(400);
    expect((await call(local, form({ ...good, client_id: 'c2', client_secret: 's2' }))).status).toBe(200);
  });
});

describe('token expiry', () => {
  test('a token stops working once its TTL has passed: DCS and the platform gateway answer 401', async () => {
    let now = 1_760_000_000_000;
    local = await startAepLocal({ tokenTtlSeconds: 60, now: () => now });
    const t = await token(local);
    const reply = await call(local, form(good));
    expect(reply.json.expires_in).toBe(60);
    const send = () => call(local!, { method: 'POST', path: batchPath(local!), headers: dcsHeaders(t), body: { messages: [envelope(event('e'))] } });
    expect((await send()).status).toBe(207);
    now += 59_000;
    expect((await send()).status).toBe(207);
    now += 1_000;
    const expired = await send();
    expect(expired.status).toBe(401);
    expect(expired.json.report.message).toContain('expired');
    const catalog = await callConforming(local, { path: '/data/foundation/catalog/batches/X', headers: platformHeaders(local, t) });
    expect(catalog.status).toBe(401);
    expect(catalog.json).toEqual({ error_code: '401013', message: 'Oauth token is not valid' });
    expect(local.stats().faults['token-expired']).toBe(1);
    const fresh = await token(local);
    expect((await call(local, { method: 'POST', path: batchPath(local), headers: dcsHeaders(fresh), body: { messages: [envelope(event('f'))] } })).status).toBe(207);
  });

  test('the fault plan can cut tokens short while expires_in still promises a day', async () => {
    let now = 1_760_000_000_000;
    local = await startAepLocal({ now: () => now, faults: { tokenExpiresAfterSeconds: 5 } });
    const t = await token(local);
    now += 5_000;
    const reply = await call(local, { method: 'POST', path: batchPath(local), headers: dcsHeaders(t), body: { messages: [envelope(event('e'))] } });
    expect(reply.status).toBe(401);
  });

  test('revokeTokens makes every issued token unknown', async () => {
    local = await startAepLocal();
    const t = local.issueToken();
    local.revokeTokens();
    const reply = await call(local, { method: 'POST', path: batchPath(local), headers: dcsHeaders(t), body: { messages: [envelope(event('e'))] } });
    expect(reply.status).toBe(401);
  });
});
