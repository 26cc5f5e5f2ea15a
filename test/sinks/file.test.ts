import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FatalError } from '../../src/errors.js';
import { silentLogger } from '../../src/log.js';
import { FileSink } from '../../src/sinks/file/index.js';
import { EnvelopeEncoder, envelopeText, type EncodedEnvelope } from '../../src/sinks/adobe-streaming/index.js';
import { createSink, dryRunSinkConfig, type AdobeStreamingConfig } from '../../src/sinks/index.js';
import { makeEvents } from './helpers.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'xdm-file-sink-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const streaming: AdobeStreamingConfig = {
  type: 'adobe-streaming',
  inletId: 'inlet',
  flowId: 'flow',
  eventTypes: {
    'message.feedback': { datasetId: 'ds-fb', schemaRef: 'https://ns.adobe.com/t/schemas/fb' },
    'message.tracking': { datasetId: 'ds-tr', schemaRef: 'https://ns.adobe.com/t/schemas/tr' },
  },
};

describe('file sink', () => {
  it('writes exactly the envelopes the streaming sink would send, one per line, accepting every event', async () => {
    const path = join(dir, 'nested', 'out.ndjson');
    const sink = createSink(dryRunSinkConfig(path, streaming), { log: silentLogger, auth: { clientId: 'c', clientSecret: 'secret-value-1', orgId: 'O@AdobeOrg' } });
    const events = [...makeEvents(3), ...makeEvents(2, { eventType: 'message.tracking', prefix: 'trk' })];
    expect(await sink.send(events)).toEqual(events.map(() => ({ kind: 'accepted' })));
    await sink.finish?.();
    await sink.close();
    const lines = readFileSync(path, 'utf8').split('\n');
    expect(lines.pop()).toBe('');
    const encoder = new EnvelopeEncoder(streaming, 'O@AdobeOrg');
    expect(lines).toEqual(events.map((e) => envelopeText(encoder.encode(e) as EncodedEnvelope)));
    expect(JSON.parse(lines[3]!).header.datasetId).toBe('ds-tr');
  });

  it('appends to an existing file and never interleaves lines of concurrent sends', async () => {
    const path = join(dir, 'out.ndjson');
    writeFileSync(path, '{"existing":true}\n');
    const sink = new FileSink({ type: 'file', path });
    await Promise.all(Array.from({ length: 8 }, (_, i) => sink.send(makeEvents(50, { prefix: `b${i}`, pad: 300 }))));
    await sink.close();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(401);
    expect(lines[0]).toBe('{"existing":true}');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(sink.stats()).toMatchObject({ linesWritten: 400 });
  });

  it('writes bare entities when no envelope is configured', async () => {
    const path = join(dir, 'bare.ndjson');
    const sink = createSink(dryRunSinkConfig(path), { log: silentLogger });
    const events = makeEvents(2);
    await sink.send(events);
    await sink.close();
    expect(readFileSync(path, 'utf8')).toBe(events.map((e) => e.json).join('\n') + '\n');
  });

  it('fails with a clear FatalError when the path cannot be written', async () => {
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const sink = new FileSink({ type: 'file', path: join(blocker, 'out.ndjson') });
    const error = await sink.send(makeEvents(1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FatalError);
    expect((error as Error).message).toMatch(/file sink: cannot open .*not-a-dir\/out\.ndjson/);
    await sink.close();
  });
});
