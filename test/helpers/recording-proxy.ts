/** A loopback HTTP proxy in front of a server (the local AEP imitation) that records every request and answer. */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface RecordedExchange {
  method: string;
  /** Path and query, as the client sent them. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The request body (gunzipped when it was sent gzip-encoded). */
  body: Buffer;
  status: number;
  responseHeaders: IncomingHttpHeaders;
  responseBody: Buffer;
}

export interface RecordingProxy {
  /** Base URL of the proxy (`http://127.0.0.1:<port>`). */
  url: string;
  exchanges: RecordedExchange[];
  close(): Promise<void>;
}

const readAll = (stream: NodeJS.ReadableStream) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });

/** Starts a proxy on 127.0.0.1 forwarding to `target` (a base URL), recording each exchange. */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const exchanges: RecordedExchange[] = [];
  const server: Server = createServer(async (req, res) => {
    try {
      const body = await readAll(req);
      const headers = { ...req.headers, host: upstream.host };
      const answer = await new Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
        const out = httpRequest({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, async (r) => {
          try {
            resolve({ status: r.statusCode ?? 0, headers: r.headers, body: await readAll(r) });
          } catch (error) {
            reject(error);
          }
        });
        out.on('error', reject);
        out.end(body);
      });
      exchanges.push({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body,
        status: answer.status,
        responseHeaders: answer.headers,
        responseBody: answer.body,
      });
      const { 'transfer-encoding': _te, connection: _c, 'keep-alive': _ka, ...forwarded } = answer.headers;
      res.writeHead(answer.status, forwarded);
      res.end(answer.body);
    } catch {
      res.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
