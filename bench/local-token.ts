/** Fetches one IMS token from the imitation, and the platform headers every DCS call carries. */
import { localDefaults } from '../src/aep-local/defaults.js';
import type { AepEndpoints } from './ipc.js';

export async function localToken(endpoints: AepEndpoints): Promise<string> {
  const form = new URLSearchParams({
    grant_type: 'client_credentials',
    client_id: localDefaults.clientId,
    client_secret: localDefaults.clientSecret,
    scope: localDefaults.scopes.join(','),
  });
  const res = await fetch(endpoints.imsTokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
  const body = (await res.json()) as { access_token?: string };
  if (!res.ok || !body.access_token) throw new Error(`the imitation's IMS answered ${res.status}`);
  return body.access_token;
}

/** The headers the connector sends to DCS on an authenticated inlet. */
export function dcsHeaders(token: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json',
    authorization: `Bearer ${token}`,
    'x-api-key': localDefaults.clientId,
    'x-gw-ims-org-id': localDefaults.imsOrgId,
    'x-sandbox-name': localDefaults.sandboxName,
  };
}
