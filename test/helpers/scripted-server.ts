/** A loopback HTTP server that answers from scripted responses and records every request and connection. */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query. */
  url: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: string;
  /** The body parsed as JSON, or undefined. */
  json: unknown;
  /** Index of the TCP connection it arrived on (0-based, in order of connection). */
  connection: number;
}

/** One scripted answer. */
export interface ScriptedResponse {
  status?: number;
  headers?: Record<string, string>;
  /** Sent as JSON unless a string. */
  body?: unknown;
  /** Wait before answering (to provoke client timeouts or measure latency). */
  delayMs?: number;
  /** Destroy the connection instead of answering (ECONNRESET / socket hang up on the client). */
  reset?: boolean;
  /** Never answer (the client must time out). */
  hang?: boolean;
}

/** A response, or a function of the request that builds one. */
export type Script = ScriptedResponse | ((req: RecordedRequest) => ScriptedResponse);

export interface ScriptedServer {
  /** `http://127.0.0.1:{port}` */
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** Queues answers for the next requests that no route claims, in order. */
  enqueue(...scripts: Script[]): void;
  /** Answers every request whose path starts with `prefix` (checked before the queue) with `script`. */
  route(prefix: string, script: Script): void;
  /** What to answer when the queue is empty. @default 500 "no scripted response" */
  fallback(script: Script): void;
  /** Requests whose path starts with `prefix`. */
  requestsTo(prefix: string): RecordedRequest[];
  close(): Promise<void>;
}

/** Starts a scripted server on an ephemeral loopback port. */
export async function startScriptedServer(): Promise<ScriptedServer> {
  const queue: Script[] = [];
  const routes: Array<[string, Script]> = [];
  let fallback: Script = { status: 500, body: { message: 'no scripted response' } };
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const socketIds = new WeakMap<Socket, number>();
  let connections = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = body ? JSON.parse(body) : undefined;
      } catch {
        json = undefined;
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const recorded: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers,
        body,
        json,
        connection: socketIds.get(req.socket) ?? -1,
      };
      requests.push(recorded);
      const path = recorded.url;
      const routed = routes.find(([prefix]) => path.startsWith(prefix));
      const script = routed ? routed[1] : (queue.shift() ?? fallback);
      const answer = typeof script === 'function' ? script(recorded) : script;
      const respond = (): void => {
        if (answer.reset) {
          req.socket.destroy();
          return;
        }
        if (answer.hang) return;
        const payload = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
        res.writeHead(answer.status ?? 200, {
          ...(answer.body !== undefined && typeof answer.body !== 'string' ? { 'content-type': 'application/json' } : {}),
          ...answer.headers,
        });
        res.end(payload);
      };
      if (answer.delayMs) setTimeout(respond, answer.delayMs);
      else respond();
    });
  });
  server.keepAliveTimeout = 30_000;
  server.on('connection', (socket: Socket) => {
    socketIds.set(socket, connections++);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get connections() {
      return connections;
    },
    enqueue: (...scripts) => void queue.push(...scripts),
    route: (prefix, script) => void routes.unshift([prefix, script]),
    fallback: (script) => {
      fallback = script;
    },
    requestsTo: (prefix) => requests.filter((r) => r.url.startsWith(prefix)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A DCS-like 207 answer accepting every message of the request (entries hold only an xactionId). */
export function acceptAll(req: RecordedRequest): ScriptedResponse {
  const messages = (req.json as { messages?: unknown[] } | undefined)?.messages ?? [];
  return {
    status: 207,
    body: {
      inletId: 'inlet',
      batchId: '1565638336649:1750:244',
      receivedTimeMs: Date.now(),
      responses: messages.map((_, i) => ({ xactionId: `1565638336649:1750:244:${i}` })),
    },
  };
}
