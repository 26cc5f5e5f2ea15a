/**
 * A tiny Confluent-compatible schema registry on loopback: `POST /subjects/{subject}/versions` registers,
 * `GET /schemas/ids/{id}` answers `{schema}` (404 with error_code 40403 when unknown); 5xx can be injected.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalRegistry {
  url: string;
  /** Registers a schema under a subject (same text → same id) and returns its id. */
  register(subject: string, schema: object | string): number;
  /** Paths of every request received. */
  requests: string[];
  /** The next `count` requests answer 500. */
  failNext(count: number): void;
  close(): Promise<void>;
}

export async function startSchemaRegistry(options: { firstId?: number } = {}): Promise<LocalRegistry> {
  const byId = new Map<number, string>();
  const idByText = new Map<string, number>();
  const requests: string[] = [];
  let nextId = options.firstId ?? 1;
  let failures = 0;

  const register = (_subject: string, schema: object | string): number => {
    const text = typeof schema === 'string' ? schema : JSON.stringify(schema);
    const known = idByText.get(text);
    if (known !== undefined) return known;
    const id = nextId++;
    byId.set(id, text);
    idByText.set(text, id);
    return id;
  };

  const server = createServer((req, res) => {
    const path = req.url ?? '/';
    requests.push(path);
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/vnd.schemaregistry.v1+json' });
      res.end(JSON.stringify(body));
    };
    if (failures > 0) {
      failures--;
      send(500, { error_code: 50001, message: 'Injected failure' });
      return;
    }
    const byIdMatch = /^\/schemas\/ids\/(\d+)$/.exec(path);
    if (req.method === 'GET' && byIdMatch) {
      const schema = byId.get(Number(byIdMatch[1]));
      if (schema === undefined) send(404, { error_code: 40403, message: 'Schema not found' });
      else send(200, { schema });
      return;
    }
    const subjectMatch = /^\/subjects\/([^/]+)\/versions$/.exec(path);
    if (req.method === 'POST' && subjectMatch) {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        try {
          const parsed = JSON.parse(body) as { schema: string };
          send(200, { id: register(decodeURIComponent(subjectMatch[1]!), parsed.schema) });
        } catch {
          send(422, { error_code: 42201, message: 'Invalid schema' });
        }
      });
      return;
    }
    send(404, { error_code: 404, message: 'Not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    register,
    requests,
    failNext: (count) => {
      failures = count;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
