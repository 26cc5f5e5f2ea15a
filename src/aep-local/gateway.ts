/** The platform.adobe.io gateway checks (token, API key, org, sandbox, Content-Type) with Adobe's error bodies. */
import type { IncomingMessage } from 'node:http';
import { bearerToken, type TokenStore } from './ims.js';
import { header, json, mediaType, type Answer } from './http.js';
import type { LocalCredentials } from './types.js';

export interface GatewayContext {
  credentials: LocalCredentials;
  tokens: TokenStore;
  requireSandboxHeader: boolean;
}

/** The gateway's own answer for a refused request. HTTP status per code is inferred from its prefix (UNCONFIRMED). */
function gatewayError(status: number, code: string, message: string): Answer {
  return json(status, { error_code: code, message });
}

/** A 401 as the gateway gives it for an invalid or expired token. */
export function invalidTokenAnswer(): Answer {
  return gatewayError(401, '401013', 'Oauth token is not valid');
}

/** Checks the four auth headers; returns the refusal or undefined when the request may pass. */
export function checkGateway(req: IncomingMessage, ctx: GatewayContext): Answer | undefined {
  const authorization = header(req, 'authorization');
  if (!authorization) return gatewayError(403, '403010', 'Oauth token is missing.');
  const token = bearerToken(authorization);
  if (!token || ctx.tokens.check(token) !== 'valid') return invalidTokenAnswer();
  const apiKey = header(req, 'x-api-key');
  if (!apiKey) return gatewayError(403, '403000', 'Api Key is required');
  if (apiKey !== ctx.credentials.clientId) return gatewayError(403, '403003', 'Api Key is invalid');
  const org = header(req, 'x-gw-ims-org-id');
  if (!org) return gatewayError(400, '400003', 'Missing header');
  if (org !== ctx.credentials.imsOrgId) return gatewayError(403, '403025', 'Profile is not valid');
  const sandbox = header(req, 'x-sandbox-name');
  if (!sandbox && ctx.requireSandboxHeader) return gatewayError(400, '400003', 'Missing header');
  // Sandbox refusal body is UNCONFIRMED; a problem body naming the sandbox is the honest guess.
  if (sandbox && sandbox !== ctx.credentials.sandboxName) {
    return json(403, { title: 'Forbidden', status: 403, detail: `Sandbox '${sandbox}' is not available to this organization` });
  }
  return undefined;
}

/** The gateway's refusal of a body with a missing or wrong Content-Type, or undefined when it is one of `allowed`. */
export function checkContentType(req: IncomingMessage, allowed: readonly string[]): Answer | undefined {
  if (allowed.includes(mediaType(header(req, 'content-type')))) return undefined;
  return json(400, {
    type: '/placeholder/type/uri',
    status: 400,
    title: 'BadRequestError',
    detail: 'A valid content-type must be specified',
  });
}

/** A problem-style error body of a platform service (exact bodies per service are UNCONFIRMED). */
export function problem(status: number, title: string, detail: string, type?: string): Answer {
  return json(status, { ...(type ? { type } : {}), title, status, detail });
}
