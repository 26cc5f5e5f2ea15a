/**
 * A local imitation of the MasStack Communications API (`GET /v2/orgs/{org}/communications`) on loopback:
 * Bearer auth, requestTime filters, limit/offset paging, and injected 429/5xx faults. Used by tests and the demo.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JsonObject } from '../../core/types.js';

/** A fault served instead of a normal answer. */
export interface MasStackFault {
  /** HTTP status to answer, e.g. 429, 500, 503. */
  status: number;
  /** How many consecutive requests get this fault. @default 1 */
  count?: number;
  /** Retry-After header (seconds) to send with it. */
  retryAfterSeconds?: number;
  /** Serve it from the Nth request on (1-based, counting every request). @default the next request */
  atRequest?: number;
  /** Wait this long before answering (to exercise client timeouts). */
  delayMs?: number;
}

export interface MasStackLocalOptions {
  /** Status records (`{id, externalId, channel, status, statusTime, requestTime?, …}`). */
  records: JsonObject[];
  /** The Bearer token the API accepts. */
  token: string;
  /** Only this org is known (others get 404). @default any org */
  org?: string;
  /** The largest page the API serves, whatever `limit` asks. @default 100 */
  pageLimit?: number;
  /** Faults served in order before normal answers. */
  faults?: MasStackFault[];
  /** @default 0 (ephemeral) */
  port?: number;
}

/** One request the imitation received. */
export interface MasStackRequestLog {
  path: string;
  query: Record<string, string>;
  status: number;
}

export interface MasStackLocal {
  /** Base URL, e.g. `http://127.0.0.1:43125`. */
  url: string;
  /** Requests received so far, in order. */
  requests: MasStackRequestLog[];
  /** Replaces or adds records by id (a status change of an existing communication, or a new one). */
  upsert(records: JsonObject[]): void;
  /** Queues faults to serve next. */
  injectFaults(faults: MasStackFault[]): void;
  close(): Promise<void>;
}

/** The list answer's shape (our documented assumption; the public docs do not show it). */
export interface CommunicationListResponse {
  items: JsonObject[];
  total: number;
  limit: number;
  offset: number;
}

const PATH = /^\/v2\/orgs\/([^/]+)\/communications\/?$/;
const EXACT_FILTERS = ['destinationEmail', 'terminatingNumber', 'countryCode', 'externalId', 'clientId'];

/** Starts the imitation on 127.0.0.1. */
export async function startMasStackLocal(options: MasStackLocalOptions): Promise<MasStackLocal> {
  const records = new Map<string, JsonObject>();
  for (const r of options.records) records.set(String(r.id), r);
  const faults: Array<Required<Pick<MasStackFault, 'status' | 'count'>> & MasStackFault> = (options.faults ?? []).map((f) => ({
    ...f,
    count: f.count ?? 1,
  }));
  const pageLimit = options.pageLimit ?? 100;
  const requests: MasStackRequestLog[] = [];
  let requestCount = 0;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    requestCount++;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const query = Object.fromEntries(url.searchParams.entries());
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      requests.push({ path: url.pathname, query, status });
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(body));
    };
    const fault = faults[0];
    if (fault && (fault.atRequest === undefined || requestCount >= fault.atRequest)) {
      fault.count--;
      if (fault.count <= 0) faults.shift();
      const headers: Record<string, string> = fault.retryAfterSeconds !== undefined ? { 'retry-after': String(fault.retryAfterSeconds) } : {};
      const answer = (): void => {
        if (!res.destroyed) send(fault.status, errorBody(fault.status, 'INJECTED_FAULT', 'Injected fault', 'fault injected by the local imitation'), headers);
      };
      if (fault.delayMs) setTimeout(answer, fault.delayMs).unref();
      else answer();
      return;
    }
    const match = PATH.exec(url.pathname);
    if (req.method !== 'GET' || !match) {
      send(404, errorBody(404, 'NOT_FOUND', 'Not Found', `no route for ${req.method} ${url.pathname}`));
      return;
    }
    if (req.headers.authorization !== `Bearer ${options.token}`) {
      send(401, errorBody(401, 'UNAUTHORIZED', 'Unauthorized', 'missing or invalid Bearer token'));
      return;
    }
    const org = decodeURIComponent(match[1]!);
    if (options.org !== undefined && org !== options.org) {
      send(404, errorBody(404, 'ORG_NOT_FOUND', 'Not Found', `organisation ${org} does not exist`));
      return;
    }
    const limit = query.limit === undefined ? 20 : Number(query.limit);
    const offset = query.offset === undefined ? 0 : Number(query.offset);
    if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(offset) || offset < 0) {
      send(400, errorBody(400, 'INVALID_PAGINATION', 'Bad Request', 'limit must be a positive integer and offset a non-negative integer'));
      return;
    }
    const gt = query['requestTime[gt]'];
    const lt = query['requestTime[lt]'];
    const gtMs = gt === undefined ? undefined : Date.parse(gt);
    const ltMs = lt === undefined ? undefined : Date.parse(lt);
    if (Number.isNaN(gtMs) || Number.isNaN(ltMs)) {
      send(400, errorBody(400, 'INVALID_DATE', 'Bad Request', 'requestTime[gt] and requestTime[lt] must be ISO-8601 date-times'));
      return;
    }
    const matching = [...records.values()]
      .filter((r) => {
        const t = requestTimeOf(r);
        if (gtMs !== undefined && !(t > gtMs)) return false;
        if (ltMs !== undefined && !(t < ltMs)) return false;
        for (const key of EXACT_FILTERS) if (query[key] !== undefined && String(r[key]) !== query[key]) return false;
        return true;
      })
      .sort((a, b) => requestTimeOf(a) - requestTimeOf(b) || String(a.id).localeCompare(String(b.id)));
    const served = Math.min(limit, pageLimit);
    const body: CommunicationListResponse = { items: matching.slice(offset, offset + served), total: matching.length, limit: served, offset };
    send(200, body);
  };

  const server = createServer(handle);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    upsert(more) {
      for (const r of more) records.set(String(r.id), r);
    },
    injectFaults(more) {
      for (const f of more) faults.push({ ...f, count: f.count ?? 1 });
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

function requestTimeOf(record: JsonObject): number {
  const t = record.requestTime ?? record.statusTime;
  return typeof t === 'string' ? Date.parse(t) : typeof t === 'number' ? t : 0;
}

function errorBody(status: number, code: string, title: string, details: string): { errors: JsonObject[] } {
  return { errors: [{ code, title, details, ref: `local-${status}`, httpStatusCode: status }] };
}
