/** Shared pieces of the aep-local tests: real HTTP calls, envelopes, tokens and the contract check of every answer. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { localDefaults, type AepLocal } from '../../src/aep-local/index.js';
import { assertResponseConforms, type ContractRequest } from '../helpers/openapi-contract.js';

export const fixtureEvent = (name = 'email-hard-bounce'): Record<string, unknown> =>
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'xdm', `${name}.json`), 'utf8')) as Record<string, unknown>;

/** A valid event with its own `_id`. */
export function event(id: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...fixtureEvent(), _id: id, ...overrides };
}

export const schemaRef = { id: localDefaults.schemaId, contentType: localDefaults.schemaContentType };

/** A DCS envelope around an entity; `header`/`body` parts can be overridden. */
export function envelope(entity: unknown, header: Record<string, unknown> = {}, body: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    header: {
      schemaRef,
      imsOrgId: localDefaults.imsOrgId,
      datasetId: localDefaults.datasets.feedback,
      flowId: localDefaults.flowId,
      source: { name: 'xdm-feedback tests' },
      ...header,
    },
    body: { xdmMeta: { schemaRef }, xdmEntity: entity, ...body },
  };
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** Parsed JSON when the body is JSON, else undefined. */
  json: any;
}

export interface Call {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings and buffers as they are. */
  body?: unknown;
}

/** Sends one request over real HTTP and reads the whole answer. */
export async function call(local: AepLocal, c: Call): Promise<Reply> {
  const body = c.body === undefined || typeof c.body === 'string' || Buffer.isBuffer(c.body) ? (c.body as string | Buffer | undefined) : JSON.stringify(c.body);
  const res = await fetch(local.url + c.path, { method: c.method ?? 'GET', headers: c.headers ?? {}, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: Object.fromEntries(res.headers.entries()), text, json };
}

/** Calls and checks the answer against Adobe's OpenAPI file for that operation. */
export async function callConforming(local: AepLocal, c: Call): Promise<Reply> {
  const reply = await call(local, c);
  const req: ContractRequest = { method: c.method ?? 'GET', url: c.path, headers: c.headers ?? {}, body: c.body };
  assertResponseConforms(req, { status: reply.status, headers: reply.headers, body: reply.text === '' ? undefined : reply.text });
  return reply;
}

/** A token from the IMS route, as a connector gets it. */
export async function token(local: AepLocal): Promise<string> {
  const reply = await call(local, {
    method: 'POST',
    path: '/ims/token/v3',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: local.credentials.clientId,
      client_secret: local.credentials.clientSecret,
      scope: localDefaults.scopes.join(','),
    }).toString(),
  });
  expect(reply.status).toBe(200);
  return reply.json.access_token as string;
}

/** Headers of a DCS call to an authenticated inlet. */
export function dcsHeaders(accessToken: string): Record<string, string> {
  return { 'content-type': 'application/json', authorization: `Bearer ${accessToken}`, 'x-sandbox-name': localDefaults.sandboxName };
}

/** The four platform.adobe.io headers. */
export function platformHeaders(local: AepLocal, accessToken: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    authorization: `Bearer ${accessToken}`,
    'x-api-key': local.credentials.clientId,
    'x-gw-ims-org-id': local.credentials.imsOrgId,
    'x-sandbox-name': local.credentials.sandboxName,
    ...extra,
  };
}

export const batchPath = (local: AepLocal) => `/collection/batch/${local.inletId}`;
