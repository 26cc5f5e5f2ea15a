/**
 * Keeps the raw input (and position) of events that wait for a late verdict on disk instead of in the heap: one
 * number per event stays in memory, the text is read back only for the few events that end as dead letters.
 */
import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Position } from '../core/types.js';

/** Where one spilled entry lives: its segment × 2^32 + its byte offset in the segment. A plain number (no object per event). */
export type SpillRef = number;

/** What `put` stored, as `get` returns it. */
export interface SpilledInput {
  raw: string;
  position: Position;
}

export interface RawSpillOptions {
  /** Start of the private folder's name (a random suffix follows). @default "xdmf-spill-" */
  prefix?: string;
  /** Parent folder of the spill's private folder (created 0700, removed by `close`). @default os.tmpdir() */
  dir?: string;
  /** A segment file is closed for writing, and a new one started, once it holds this many bytes. @default 67108864 */
  segmentBytes?: number;
  /** Bytes gathered in memory before one write to the segment file. @default 1048576 */
  bufferBytes?: number;
}

/** Counters for tests and the run summary. */
export interface RawSpillStats {
  /** Entries put and not yet released. */
  live: number;
  /** Segment files open (the one being written included). */
  segments: number;
  /** Bytes in open segment files, written or still buffered. */
  bytes: number;
}

const SEGMENT_SPAN = 2 ** 32;
/** Entry header: raw byte length, stream index, offset byte length (u32 each). */
const HEADER = 12;

interface Segment {
  index: number;
  fd: number;
  path: string;
  /** Whether the file is still linked (it is unlinked at once where the platform allows, so a crash leaves nothing). */
  linked: boolean;
  /** Bytes written to the file. */
  flushed: number;
  /** Entries not yet released. */
  live: number;
}

/**
 * An append-only spill of raw inputs in segment files of a private folder. Segments are unlinked as soon as they are
 * opened (POSIX: the open descriptor keeps them readable; a crashed run leaves no personal data behind) and closed once
 * every entry in them was released. Entries are stored as UTF-8, as the dead-letter table stores them. Synchronous,
 * single-threaded; release each ref once.
 */
export class RawSpill {
  private readonly dir: string;
  private readonly segmentBytes: number;
  private readonly buffer: Buffer;
  /** Bytes of `buffer` in use: entries of the current segment not yet written. */
  private buffered = 0;
  private readonly segments = new Map<number, Segment>();
  private current: Segment;
  private nextSegment = 0;
  private readonly streams: string[] = [];
  private readonly streamIndex = new Map<string, number>();
  private live = 0;
  private closed = false;

  /** Creates the spill's private folder and its first segment. Throws when the folder cannot be created. */
  constructor(options: RawSpillOptions = {}) {
    this.segmentBytes = Math.max(1, Math.min(options.segmentBytes ?? 64 * 1024 * 1024, SEGMENT_SPAN - 1));
    this.buffer = Buffer.allocUnsafe(Math.max(HEADER, options.bufferBytes ?? 1024 * 1024));
    this.dir = mkdtempSync(join(options.dir ?? tmpdir(), options.prefix ?? 'xdmf-spill-'));
    this.current = this.openSegment();
  }

  /** Stores the raw input and position of one event; returns the number to `get` it back with. */
  put(raw: string, position: Position): SpillRef {
    if (this.closed) throw new Error('raw spill: put after close');
    const stream = this.streamOf(position.stream);
    // Worst case of UTF-8: 3 bytes per UTF-16 unit. Checking that bound avoids measuring every text first.
    const worst = HEADER + 3 * (raw.length + position.offset.length);
    if (this.current.flushed + this.buffered >= this.segmentBytes) this.rotate();
    if (this.buffered + worst > this.buffer.length) this.flush();
    const at = this.current.flushed + this.buffered;
    if (worst > this.buffer.length) {
      // Larger than the buffer: encoded on its own and written directly (the buffer is empty after the flush).
      const rawBytes = Buffer.from(raw, 'utf8');
      const offsetBytes = Buffer.from(position.offset, 'utf8');
      const header = Buffer.allocUnsafe(HEADER);
      header.writeUInt32LE(rawBytes.length, 0);
      header.writeUInt32LE(stream, 4);
      header.writeUInt32LE(offsetBytes.length, 8);
      this.writeAll(Buffer.concat([header, rawBytes, offsetBytes]));
    } else {
      const b = this.buffer;
      const start = this.buffered;
      const rawLength = b.write(raw, start + HEADER, 'utf8');
      const offsetLength = b.write(position.offset, start + HEADER + rawLength, 'utf8');
      b.writeUInt32LE(rawLength, start);
      b.writeUInt32LE(stream, start + 4);
      b.writeUInt32LE(offsetLength, start + 8);
      this.buffered += HEADER + rawLength + offsetLength;
    }
    this.current.live++;
    this.live++;
    return this.current.index * SEGMENT_SPAN + at;
  }

  /** Reads an entry back. Throws on a ref that was released with the rest of its segment, or never put. */
  get(ref: SpillRef): SpilledInput {
    const segment = this.segments.get(Math.floor(ref / SEGMENT_SPAN));
    const at = ref % SEGMENT_SPAN;
    if (!segment || this.closed || !Number.isInteger(ref) || ref < 0) throw new Error(`raw spill: no entry ${ref} (released, never written, or the spill is closed)`);
    let bytes: Buffer;
    let from: number;
    if (segment === this.current && at >= segment.flushed) {
      bytes = this.buffer;
      from = at - segment.flushed;
      if (from + HEADER > this.buffered) throw new Error(`raw spill: no entry ${ref}`);
    } else {
      const header = this.readAt(segment, at, HEADER);
      const length = HEADER + header.readUInt32LE(0) + header.readUInt32LE(8);
      bytes = this.readAt(segment, at, length);
      from = 0;
    }
    const rawLength = bytes.readUInt32LE(from);
    const stream = this.streams[bytes.readUInt32LE(from + 4)];
    const offsetLength = bytes.readUInt32LE(from + 8);
    if (stream === undefined) throw new Error(`raw spill: entry ${ref} is damaged`);
    const rawStart = from + HEADER;
    return {
      raw: bytes.toString('utf8', rawStart, rawStart + rawLength),
      position: { stream, offset: bytes.toString('utf8', rawStart + rawLength, rawStart + rawLength + offsetLength) },
    };
  }

  /** The entry is no longer needed; a segment whose entries are all released is closed and its file removed. */
  release(ref: SpillRef): void {
    const segment = this.segments.get(Math.floor(ref / SEGMENT_SPAN));
    if (!segment || segment.live === 0) return;
    segment.live--;
    this.live--;
    if (segment.live > 0) return;
    if (segment === this.current) {
      // Nothing in it is needed any more: drop what is buffered, and if it reached the file, start a new segment
      // (rotate drops this one) instead of growing a file of dead entries.
      this.buffered = 0;
      if (segment.flushed > 0) this.rotate();
      return;
    }
    this.drop(segment);
  }

  stats(): RawSpillStats {
    let bytes = this.buffered;
    for (const s of this.segments.values()) bytes += s.flushed;
    return { live: this.live, segments: this.segments.size, bytes };
  }

  /** Closes every segment and removes the spill's folder. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const segment of [...this.segments.values()]) this.drop(segment);
    this.buffered = 0;
    rmSync(this.dir, { recursive: true, force: true });
  }

  private streamOf(stream: string): number {
    let index = this.streamIndex.get(stream);
    if (index === undefined) {
      index = this.streams.push(stream) - 1;
      this.streamIndex.set(stream, index);
    }
    return index;
  }

  private openSegment(): Segment {
    const index = this.nextSegment++;
    const path = join(this.dir, `segment-${index}`);
    const fd = openSync(path, 'wx+', 0o600);
    let linked = true;
    try {
      unlinkSync(path);
      linked = false;
    } catch {
      // Windows cannot unlink an open file: it is removed when the segment is dropped.
    }
    const segment: Segment = { index, fd, path, linked, flushed: 0, live: 0 };
    this.segments.set(index, segment);
    return segment;
  }

  /** Writes the buffered entries and starts a new segment; the old one stays readable until released. */
  private rotate(): void {
    this.flush();
    const old = this.current;
    this.current = this.openSegment();
    if (old.live === 0) this.drop(old);
  }

  private flush(): void {
    if (this.buffered === 0) return;
    this.writeAll(this.buffer.subarray(0, this.buffered));
    this.buffered = 0;
  }

  private writeAll(bytes: Buffer): void {
    let done = 0;
    while (done < bytes.length) done += writeSync(this.current.fd, bytes, done, bytes.length - done, this.current.flushed + done);
    this.current.flushed += bytes.length;
  }

  private readAt(segment: Segment, at: number, length: number): Buffer {
    const out = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(segment.fd, out, done, length - done, at + done);
      if (n === 0) throw new Error(`raw spill: entry at ${at} of segment ${segment.index} is cut short (${fstatSync(segment.fd).size} bytes)`);
      done += n;
    }
    return out;
  }

  private drop(segment: Segment): void {
    this.segments.delete(segment.index);
    this.live -= segment.live;
    segment.live = 0;
    closeSync(segment.fd);
    if (segment.linked) rmSync(segment.path, { force: true });
  }
}
