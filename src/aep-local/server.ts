/** The imitation's HTTP server: routes every Adobe path on one loopback port, injects faults, counts requests. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { MAX_CHUNK_BYTES, MAX_SMALL_FILE_BYTES, type BatchService } from './batches.js';
import { handleCatalogBatch, handleCatalogDataset } from './catalog.js';
import { handleFailed } from './data-access.js';
import { dcsUnauthorized, handleDcs, payloadTooLarge, type DcsContext } from './dcs.js';
import type { FaultInjector } from './faults.js';
import { checkGateway, invalidTokenAnswer, problem, type GatewayContext } from './gateway.js';
import { handleTokenRequest } from './ims.js';
import { handleImport, importRouteName, type ImportContext } from './import-routes.js';
import { header, json, readBody, writeAnswer, type Answer } from './http.js';
import { handleSchemaLookup } from './schema-registry.js';
import type { FaultRoute } from './types.js';

/** Everything a request may need, built once by `startAepLocal`. */
export interface ServerContext {
  dcs: DcsContext;
  gateway: GatewayContext;
  imports: ImportContext;
  batches: BatchService;
  schemas: ReadonlyArray<Record<string, unknown>>;
  faults: FaultInjector;
  /** Answers `/__local/*` routes. */
  control(method: string, segments: string[], query: URLSearchParams, body: Buffer): Answer | undefined;
  baseUrl(): string;
}

/** A matched route: its name (for stats), its fault group and how much body to keep. */
interface Route {
  name: string;
  group: FaultRoute | 'local';
  bodyLimit: number;
  handle(body: Buffer, size: number): Answer | undefined;
}

const DEFAULT_BODY_LIMIT = 1_048_576;
const PLATFORM = ['data', 'foundation'];

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function decodeSegments(pathname: string): string[] | undefined {
  try {
    return pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

/** Finds the route of a request; undefined = 404. */
function resolve(req: IncomingMessage, segments: string[], query: URLSearchParams, ctx: ServerContext): Route | undefined {
  const method = req.method ?? 'GET';
  const [first, second, third, fourth] = segments;
  if (first === 'ims' && second === 'token' && third === 'v3' && segments.length === 3 && method === 'POST') {
    return {
      name: 'ims.token',
      group: 'ims',
      bodyLimit: DEFAULT_BODY_LIMIT,
      handle: (body) => handleTokenRequest(header(req, 'content-type'), body, query, ctx.dcs.credentials, ctx.dcs.tokens),
    };
  }
  if (first === 'collection' && method === 'POST') {
    const batch = second === 'batch';
    const inletId = batch ? third : second;
    if (inletId === undefined || segments.length !== (batch ? 3 : 2)) return undefined;
    return {
      name: batch ? 'dcs.batch' : 'dcs.single',
      group: 'dcs',
      bodyLimit: ctx.dcs.maxRequestBytes,
      handle: (body, size) => handleDcs({ req, inletId, batch, query, body, size }, ctx.dcs),
    };
  }
  if (first === '__local') {
    return { name: `local.${second ?? ''}`, group: 'local', bodyLimit: DEFAULT_BODY_LIMIT, handle: (body) => ctx.control(method, segments.slice(1), query, body) };
  }
  if (first !== PLATFORM[0] || second !== PLATFORM[1] || third === undefined) return undefined;
  const rest = segments.slice(3);
  const gated = (handle: (body: Buffer, size: number) => Answer | undefined) => (body: Buffer, size: number) =>
    checkGateway(req, ctx.gateway) ?? handle(body, size);
  switch (third) {
    case 'import':
      return {
        name: importRouteName(rest),
        group: 'import',
        bodyLimit: method === 'PUT' ? MAX_SMALL_FILE_BYTES : method === 'PATCH' ? MAX_CHUNK_BYTES : DEFAULT_BODY_LIMIT,
        handle: gated((body, size) => handleImport({ req, method, segments: rest, query, body, size }, ctx.imports)),
      };
    case 'catalog':
      if (method === 'GET' && fourth === 'dataSets' && rest.length === 2) {
        return {
          name: 'catalog.dataset',
          group: 'catalog',
          bodyLimit: DEFAULT_BODY_LIMIT,
          handle: gated(() => handleCatalogDataset(ctx.imports.datasets.get(rest[1]!), rest[1]!, ctx.dcs.credentials.imsOrgId)),
        };
      }
      if (method !== 'GET' || fourth !== 'batches' || rest.length !== 2) return undefined;
      return {
        name: 'catalog.batch',
        group: 'catalog',
        bodyLimit: DEFAULT_BODY_LIMIT,
        handle: gated(() => handleCatalogBatch(ctx.batches.get(rest[1]!), rest[1]!, ctx.dcs.credentials.imsOrgId, ctx.dcs.credentials.clientId)),
      };
    case 'export':
      if (method !== 'GET' || fourth !== 'batches' || rest.length !== 3 || rest[2] !== 'failed') return undefined;
      return {
        name: 'export.failed',
        group: 'export',
        bodyLimit: DEFAULT_BODY_LIMIT,
        handle: gated(() => handleFailed(ctx.batches, ctx.batches.get(rest[1]!), rest[1]!, query.get('path'), ctx.baseUrl())),
      };
    case 'schemaregistry':
      if (method !== 'GET' || rest.length !== 3 || rest[1] !== 'schemas') return undefined;
      return {
        name: 'schemaregistry.schema',
        group: 'schemaregistry',
        bodyLimit: DEFAULT_BODY_LIMIT,
        handle: gated(() => handleSchemaLookup(ctx.schemas, rest[0]!, rest[2]!, header(req, 'accept'), ctx.dcs.now())),
      };
    default:
      return undefined;
  }
}

/** The answer of an injected status, shaped like the route's own answer where Adobe documents one. */
function faultAnswer(status: number, group: FaultRoute, retryAfterSeconds: number | undefined, ctx: ServerContext): Answer {
  if (status === 401) {
    if (group === 'dcs') return dcsUnauthorized();
    if (group === 'ims') return json(401, { error: 'invalid_client', error_description: 'invalid client_secret parameter' });
    return invalidTokenAnswer();
  }
  if (status === 413 && group === 'dcs') return payloadTooLarge(ctx.dcs.maxRequestBytes);
  const titles: Record<number, string> = {
    413: 'Payload Too Large',
    429: 'Too Many Requests',
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
    504: 'Gateway Timeout',
  };
  const answer = problem(status, titles[status] ?? 'Error', 'Injected by the aep-local fault plan');
  if (status === 429 || status === 503) {
    answer.headers = { 'retry-after': String(retryAfterSeconds ?? ctx.faults.retryAfterSeconds()) };
  }
  return answer;
}

async function serve(req: IncomingMessage, res: ServerResponse, ctx: ServerContext): Promise<void> {
  const requestId = randomUUID();
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const segments = decodeSegments(url.pathname);
  const route = segments ? resolve(req, segments, url.searchParams, ctx) : undefined;
  const stats = ctx.dcs.stats;
  if (!route) {
    await readBody(req, 0);
    const answer = segments ? problem(404, 'Not Found', `No route for ${req.method ?? 'GET'} ${url.pathname}`) : problem(400, 'Bad Request', 'Malformed URL encoding');
    stats.request('unknown', answer.status);
    writeAnswer(req, res, answer, requestId);
    return;
  }
  const body = await readBody(req, route.bodyLimit);
  const decision = route.group === 'local' ? { action: { kind: 'none' as const }, delayMs: 0 } : ctx.faults.decide(route.group);
  if (decision.delayMs > 0) {
    stats.fault('slow');
    await sleep(decision.delayMs);
  }
  const { action } = decision;
  if (action.kind === 'reset') {
    stats.fault('reset');
    stats.request(route.name, 'reset');
    req.socket.destroy();
    return;
  }
  let answer: Answer | undefined;
  if (action.kind === 'status' && route.group !== 'local') {
    stats.fault(String(action.status));
    answer = faultAnswer(action.status, route.group, action.retryAfterSeconds, ctx);
  } else {
    answer = route.handle(body.bytes, body.size) ?? problem(405, 'Method Not Allowed', `${req.method ?? 'GET'} is not supported on ${url.pathname}`);
  }
  if (action.kind === 'reset-after') {
    stats.fault('reset-after');
    stats.request(route.name, 'reset');
    req.socket.destroy();
    return;
  }
  stats.request(route.name, answer.status);
  writeAnswer(req, res, answer, requestId);
}

/** Starts the server on 127.0.0.1 (never another interface) and resolves with its port. */
export async function listen(ctx: ServerContext, port: number): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    serve(req, res, ctx).catch((err: unknown) => {
      if (res.headersSent || res.destroyed) return;
      writeAnswer(req, res, problem(500, 'Internal Server Error', `aep-local failed: ${err instanceof Error ? err.message : String(err)}`), randomUUID());
    });
  });
  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolvePromise();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}
