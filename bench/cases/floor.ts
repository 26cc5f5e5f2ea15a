/**
 * The floor: the connector's own envelopes, pre-built into maximal DCS batch bodies (≤ 1 MB), posted raw with plain
 * `node:http` keep-alive at a fixed concurrency. No mapping, no validation, no SQLite: the physical limit here.
 */
import http from 'node:http';
import { readLines } from '../../src/sources/shared/line-reader.js';
import { MAX_BATCH_BYTES, MAX_BATCH_EVENTS } from '../config.js';
import { dcsHeaders, localToken } from '../local-token.js';
import type { CaseOutcome, CaseSpec } from '../case-types.js';

const OPEN = Buffer.from('{"messages":[');
const CLOSE = Buffer.from(']}');
const COMMA = Buffer.from(',');

/** Cuts the envelope lines of a file into request bodies of at most MAX_BATCH_BYTES and MAX_BATCH_EVENTS. */
export async function buildBodies(path: string): Promise<{ bodies: Buffer[]; envelopes: number }> {
  const bodies: Buffer[] = [];
  let parts: Buffer[] = [];
  let size = OPEN.length + CLOSE.length;
  let count = 0;
  let envelopes = 0;
  const flush = () => {
    if (count === 0) return;
    bodies.push(Buffer.concat([OPEN, ...parts, CLOSE]));
    parts = [];
    size = OPEN.length + CLOSE.length;
    count = 0;
  };
  for await (const lines of readLines(path)) {
    for (const line of lines) {
      const bytes = Buffer.from(line.text, 'utf8');
      const added = bytes.length + (count > 0 ? 1 : 0);
      if (count > 0 && (count >= MAX_BATCH_EVENTS || size + added > MAX_BATCH_BYTES)) flush();
      if (count > 0) parts.push(COMMA);
      parts.push(bytes);
      size += bytes.length + (count > 0 ? 1 : 0);
      count++;
      envelopes++;
    }
  }
  flush();
  return { bodies, envelopes };
}

function post(agent: http.Agent, url: URL, headers: Record<string, string>, body: Buffer): Promise<{ status: number; failures: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, method: 'POST', hostname: url.hostname, port: url.port, path: url.pathname, headers: { ...headers, 'content-length': String(body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, failures: Buffer.concat(chunks).includes('"statusCode"') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export async function runFloorCase(spec: CaseSpec): Promise<CaseOutcome> {
  if (!spec.envelopesPath) throw new Error('floor: no envelopes file to post');
  const { bodies, envelopes } = await buildBodies(spec.envelopesPath);
  const bytes = bodies.reduce((n, b) => n + b.length, 0);
  const headers = dcsHeaders(await localToken(spec.endpoints));
  const url = new URL(spec.endpoints.dcsBatchUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.concurrency });
  let next = 0;
  let refused = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const answer = await post(agent, url, headers, body);
      if (answer.status !== 207 && answer.status !== 200) throw new Error(`floor: DCS answered ${answer.status}`);
      if (answer.failures) refused++;
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  if (refused > 0) throw new Error(`floor: ${refused} requests had refused messages; the envelopes should all be valid`);
  return { records: envelopes, events: envelopes, seconds, bytes, details: { requests: bodies.length, concurrency: spec.concurrency } };
}
