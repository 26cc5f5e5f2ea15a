/**
 * A serialised event as UTF-8 bytes: a range of its unit's buffer, with the retryCount written in on the way out.
 *
 * The mapping thread writes a unit's events one after the other into one buffer and hands it over (transferred, not
 * copied). The main thread never holds an event as a string: it used to receive every event's text, join the
 * retryCount into it and flatten it again to count its bytes, and those strings were most of its garbage.
 */

/** The retryCount placeholder's length in the JSON text: a quoted 34-character string no input can contain by chance. */
export const RETRY_PLACEHOLDER_LENGTH = 36;

export class JsonBytes {
  private readonly digits: string;

  /**
   * @param buffer the unit's buffer; the event is `[start, end)`
   * @param retryAt offset in `buffer` of the retryCount placeholder, or -1 when the event has no retryCount
   */
  constructor(
    private readonly buffer: Uint8Array,
    private readonly start: number,
    private readonly end: number,
    private readonly retryAt = -1,
    retryCount = 0,
  ) {
    this.digits = retryAt < 0 ? '' : String(retryCount);
  }

  /** A text's bytes (tests, benchmarks, replays). */
  static of(text: string): JsonBytes {
    const bytes = Buffer.from(text);
    return new JsonBytes(bytes, 0, bytes.length);
  }

  /** Size in UTF-8 bytes, retryCount included. */
  get byteLength(): number {
    const length = this.end - this.start;
    return this.retryAt < 0 ? length : length - RETRY_PLACEHOLDER_LENGTH + this.digits.length;
  }

  /** True when the text starts like a JSON object. */
  get isObject(): boolean {
    return this.end - this.start >= 2 && this.buffer[this.start] === 0x7b /* { */;
  }

  /** Copies the event into `into` at `at`; returns the offset after it. `into` must have byteLength bytes free. */
  writeTo(into: Buffer, at: number): number {
    if (this.retryAt < 0) {
      into.set(this.buffer.subarray(this.start, this.end), at);
      return at + this.end - this.start;
    }
    into.set(this.buffer.subarray(this.start, this.retryAt), at);
    at += this.retryAt - this.start;
    at += into.write(this.digits, at, 'latin1');
    const rest = this.retryAt + RETRY_PLACEHOLDER_LENGTH;
    into.set(this.buffer.subarray(rest, this.end), at);
    return at + this.end - rest;
  }

  toString(): string {
    const out = Buffer.allocUnsafe(this.byteLength);
    this.writeTo(out, 0);
    return out.toString('utf8');
  }
}

/** Something written as bytes of a known size: an event, an envelope. */
export interface ByteSource {
  readonly byteLength: number;
  writeTo(into: Buffer, at: number): number;
}

/** The items as JSON Lines (each followed by `\n`) in one buffer. */
export function jsonLines(items: readonly ByteSource[]): Buffer {
  let total = items.length;
  for (const item of items) total += item.byteLength;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const item of items) {
    at = item.writeTo(out, at);
    out[at++] = 0x0a;
  }
  return out;
}
