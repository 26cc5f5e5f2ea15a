/** The IMS imitation: OAuth server-to-server `client_credentials` tokens, opaque and expiring. */
import { randomBytes } from 'node:crypto';
import { json, mediaType, type Answer } from './http.js';
import type { LocalCredentials } from './types.js';

/** Verdict on a presented token. */
export type TokenState = 'valid' | 'expired' | 'unknown';

/** Issues random opaque tokens and remembers when each was issued. */
export class TokenStore {
  private readonly issued = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    /** Advertised lifetime (`expires_in`) in seconds. */
    readonly ttlSeconds: number,
    /** A shorter real lifetime injected by the fault plan, read at check time. */
    private readonly cutShortSeconds: () => number | undefined,
  ) {}

  issue(): string {
    const token = randomBytes(36).toString('base64url');
    this.issued.set(token, this.now());
    return token;
  }

  check(token: string): TokenState {
    const issuedAt = this.issued.get(token);
    if (issuedAt === undefined) return 'unknown';
    const cut = this.cutShortSeconds();
    const lifetime = cut === undefined ? this.ttlSeconds : Math.min(cut, this.ttlSeconds);
    return this.now() - issuedAt >= lifetime * 1000 ? 'expired' : 'valid';
  }

  /** Makes every issued token unknown. */
  revokeAll(): void {
    this.issued.clear();
  }
}

/** The bearer token of an `Authorization` header, or undefined when absent or not a Bearer value. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  return match?.[1];
}

function imsError(status: number, error: string, description: string): Answer {
  return json(status, { error, error_description: description });
}

/**
 * `POST /ims/token/v3`: form-urlencoded body (query parameters also accepted, as IMS does).
 * Unknown client id → 400 `invalid_client`; wrong secret → 401 `invalid_client` (IMS's exact status is UNCONFIRMED).
 */
export function handleTokenRequest(
  contentType: string | undefined,
  body: Buffer,
  query: URLSearchParams,
  credentials: LocalCredentials,
  tokens: TokenStore,
): Answer {
  const params = new URLSearchParams(query);
  if (body.length > 0) {
    if (mediaType(contentType) !== 'application/x-www-form-urlencoded') {
      return imsError(400, 'invalid_request', 'Content-Type must be application/x-www-form-urlencoded');
    }
    for (const [key, value] of new URLSearchParams(body.toString('utf8'))) params.set(key, value);
  }
  const grantType = params.get('grant_type');
  if (!grantType) return imsError(400, 'invalid_request', 'missing grant_type parameter');
  if (grantType !== 'client_credentials') return imsError(400, 'unsupported_grant_type', `unsupported grant_type: ${grantType}`);
  const clientId = params.get('client_id');
  if (!clientId) return imsError(400, 'invalid_request', 'missing client_id parameter');
  if (clientId !== credentials.clientId) return imsError(400, 'invalid_client', 'invalid client_id parameter');
  const secret = params.get('client_secret');
  if (!secret) return imsError(400, 'invalid_request', 'missing client_secret parameter');
  if (secret !== credentials.clientSecret) return imsError(401, 'invalid_client', 'invalid client_secret parameter');
  const asked = (params.get('scope') ?? '').split(/[\s,]+/).filter(Boolean);
  const unknown = asked.filter((scope) => !credentials.scopes.includes(scope));
  if (unknown.length > 0) return imsError(400, 'invalid_scope', `Invalid scope(s): ${unknown.join(',')}`);
  return json(200, { access_token: tokens.issue(), token_type: 'bearer', expires_in: tokens.ttlSeconds });
}
