/** The file sink (dry run): appends the exact DCS envelopes that would be sent, one per line (NDJSON). */
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Delivery, OutboundEvent, Sink } from '../../core/types.js';
import { FatalError } from '../../errors.js';
import { checkRouting, envelopeConfigProperties, type EnvelopeConfig } from '../adobe-streaming/config.js';
import { EnvelopeEncoder, writeEnvelope } from '../adobe-streaming/encode.js';
import { jsonLines, type ByteSource } from '../../core/json-bytes.js';

/** Writes NDJSON to a file instead of sending. */
export interface FileSinkConfig {
  type: 'file';
  /** Output file; created with its folder when missing, appended to otherwise. */
  path: string;
  /**
   * Envelope fields (as in the adobe-streaming sink). With them each line is the envelope DCS would receive;
   * without them each line is the bare XDM entity (usable as a JSON Lines file for batch ingestion).
   */
  envelope?: EnvelopeConfig;
}

/** JSON Schema of the file sink section. */
export const fileSinkConfigSchema = {
  type: 'object',
  description: 'Writes the exact envelopes that would be sent to an NDJSON file (dry run).',
  required: ['type', 'path'],
  additionalProperties: false,
  properties: {
    type: { const: 'file' },
    path: { type: 'string', minLength: 1, description: 'Output NDJSON file (appended to).' },
    envelope: {
      type: 'object',
      additionalProperties: false,
      description: 'Envelope fields as in the adobe-streaming sink; without them, lines are bare XDM entities.',
      properties: envelopeConfigProperties,
    },
  },
} as const;

export interface FileSinkDeps {
  /** Default `header.imsOrgId` (the adobe section's org). */
  orgId?: string;
}

/** Appends one line per event; every event is accepted (unless it cannot be routed to a dataset). */
export class FileSink implements Sink {
  readonly name = 'file';
  readonly maxPendingSends = 4;
  private readonly encoder: EnvelopeEncoder | undefined;
  private handle: Promise<FileHandle> | undefined;
  /** Writes are chained so concurrent sends never interleave lines. */
  private tail: Promise<void> = Promise.resolve();
  private lines = 0;
  private bytes = 0;

  constructor(
    private readonly config: FileSinkConfig,
    deps: FileSinkDeps = {},
  ) {
    if (config.envelope) checkRouting(config.envelope, 'sink.envelope');
    this.encoder = config.envelope ? new EnvelopeEncoder(config.envelope, deps.orgId) : undefined;
  }

  async send(events: OutboundEvent[]): Promise<Delivery[]> {
    const results: Delivery[] = [];
    const out: ByteSource[] = [];
    for (const event of events) {
      if (!this.encoder) {
        out.push(event.json);
        results.push({ kind: 'accepted' });
        continue;
      }
      const encoded = this.encoder.encode(event);
      if (encoded.ok) {
        out.push({ byteLength: encoded.bytes, writeTo: (into, at) => writeEnvelope(encoded, into, at) });
        results.push({ kind: 'accepted' });
      } else {
        results.push({ kind: 'rejected', reason: encoded.reason });
      }
    }
    if (out.length > 0) {
      const lines = jsonLines(out);
      await this.write(lines);
      this.lines += out.length;
      this.bytes += lines.length;
    }
    return results;
  }

  /** Flushes the file to disk. */
  async finish(): Promise<void> {
    await this.tail;
    if (this.handle) await (await this.handle).sync();
  }

  async close(): Promise<void> {
    await this.finish().catch(() => undefined);
    if (this.handle) {
      const handle = await this.handle;
      this.handle = undefined;
      await handle.close();
    }
  }

  stats(): Record<string, number | string> {
    return { linesWritten: this.lines, bytesWritten: this.bytes, path: this.config.path };
  }

  private write(lines: Buffer): Promise<void> {
    const next = this.tail.then(async () => {
      this.handle ??= mkdir(dirname(this.config.path), { recursive: true }).then(() => open(this.config.path, 'a'));
      let handle: FileHandle;
      try {
        handle = await this.handle;
      } catch (error) {
        this.handle = undefined;
        throw new FatalError(`file sink: cannot open ${this.config.path} for appending (${(error as NodeJS.ErrnoException).code ?? 'error'}); check the path and permissions`);
      }
      try {
        await handle.appendFile(lines);
      } catch (error) {
        throw new FatalError(`file sink: cannot write to ${this.config.path} (${(error as NodeJS.ErrnoException).code ?? 'error'}); check free space and permissions`);
      }
    });
    this.tail = next.catch(() => undefined);
    return next;
  }
}
