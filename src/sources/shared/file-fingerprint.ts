/** Identifies a file by a hash of its first bytes and its size, so a checkpoint notices a replaced or truncated file. */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';

/** How many leading bytes identify a file. */
export const FINGERPRINT_BYTES = 4096;

export interface FileFingerprint {
  /** sha1 (hex) of the first `headBytes` bytes. */
  head: string;
  /** How many bytes `head` covers: min(4096, size when fingerprinted). */
  headBytes: number;
  /** File size when fingerprinted. */
  size: number;
}

/** Fingerprints a file as it is now. */
export async function fingerprintFile(path: string): Promise<FileFingerprint> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const headBytes = Math.min(FINGERPRINT_BYTES, size);
    return { head: await hashHead(fh, headBytes), headBytes, size };
  } finally {
    await fh.close();
  }
}

/**
 * Tells whether the file at `path` is still the one `previous` described, possibly grown by appends:
 * `undefined` when it is, else the reason it is not (shrunk, or its first bytes changed).
 */
export async function fileChangedSince(path: string, previous: FileFingerprint): Promise<string | undefined> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size < previous.size) return `the file shrank from ${previous.size} to ${size} bytes`;
    const head = await hashHead(fh, previous.headBytes);
    if (head !== previous.head) return `its first ${previous.headBytes} bytes changed`;
    return undefined;
  } finally {
    await fh.close();
  }
}

async function hashHead(fh: Awaited<ReturnType<typeof open>>, bytes: number): Promise<string> {
  const buf = Buffer.alloc(bytes);
  let got = 0;
  while (got < bytes) {
    const { bytesRead } = await fh.read(buf, got, bytes - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return createHash('sha1').update(buf.subarray(0, got)).digest('hex');
}

/** Reads a fingerprint back from parsed checkpoint JSON; undefined when the shape is wrong. */
export function parseFingerprint(value: unknown): FileFingerprint | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.head !== 'string' || typeof v.headBytes !== 'number' || typeof v.size !== 'number') return undefined;
  return { head: v.head, headBytes: v.headBytes, size: v.size };
}
