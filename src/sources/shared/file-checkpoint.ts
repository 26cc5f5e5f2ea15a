/** File checkpoints: `{fingerprint, …position}` JSON, and the decision to resume or start a changed file over. */
import type { Logger } from 'pino';
import { fileChangedSince, fingerprintFile, parseFingerprint, type FileFingerprint } from './file-fingerprint.js';

export interface FileResume<T> {
  /** The file's fingerprint now; every position of this read carries it. */
  fingerprint: FileFingerprint;
  /** Where to resume, or undefined to read from the start. */
  resumeAt?: T;
}

/**
 * Decides where to read `path` from given its stored checkpoint. A file that shrank or whose first bytes
 * changed is read again from the start, and the log says why. `parseAt` extracts the position fields.
 */
export async function resumeFile<T>(
  path: string,
  checkpoint: string | undefined,
  log: Logger,
  parseAt: (value: Record<string, unknown>) => T | undefined,
): Promise<FileResume<T>> {
  const fingerprint = await fingerprintFile(path);
  if (checkpoint === undefined) return { fingerprint };
  let parsed: unknown;
  try {
    parsed = JSON.parse(checkpoint);
  } catch {
    parsed = undefined;
  }
  const record = parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
  const previous = record ? parseFingerprint(record.fingerprint) : undefined;
  const at = record ? parseAt(record) : undefined;
  if (!previous || at === undefined) {
    log.warn({ stream: path }, 'unreadable checkpoint for this file; reading it from the start');
    return { fingerprint };
  }
  const changed = await fileChangedSince(path, previous);
  if (changed) {
    log.warn({ stream: path, reason: changed }, `file changed since its checkpoint (${changed}); reading it again from the start`);
    return { fingerprint };
  }
  return { fingerprint, resumeAt: at };
}

/** The constant start of every offset string of one read of one file: `{"fingerprint":{…},` */
export function checkpointPrefix(fingerprint: FileFingerprint): string {
  return `{"fingerprint":${JSON.stringify(fingerprint)},`;
}

export function nonNegativeInteger(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}
