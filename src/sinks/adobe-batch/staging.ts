/**
 * On-disk staging of one batch group: JSON Lines part files per dataset, and `group.json`, the state that lets a
 * crashed run resume the same Adobe batches. Layout: `{stagingDir}/{groupId}/{datasetId}/part-00000.json`.
 */
import { closeSync, createReadStream, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import { jsonLines, type ByteSource } from '../../core/json-bytes.js';
import { currentProcess, identityFrom, isRunning, type ProcessIdentity } from '../../util/process-identity.js';

/** One part file of a dataset's batch. */
export interface StagedFile {
  /** File name inside the dataset folder, also its name in the Adobe batch. */
  name: string;
  bytes: number;
  records: number;
  /** Set once Adobe holds the whole file (PUT answered, or a large file COMPLETEd). */
  uploaded?: boolean;
}

/** What a dataset's batch ended as, kept so a rerun can answer for its events without sending them again. */
export interface DatasetOutcome {
  batchId: string;
  /** Catalog's final status, normalised: success (possibly partial) or failed. */
  status: 'success' | 'failed';
  /** Human-readable summary of why the batch failed, or of its partial failures. */
  summary: string;
  /** Catalog's batch errors as `CODE: description` lines. */
  batchErrors: string[];
  /** Failed records by `_id`, each with its `_validationErrors` as `path: message` lines. */
  failures: Record<string, string[]>;
  /** Failed records AEP counted that could not be tied to an `_id` (then no event of the batch is called accepted). */
  unidentified: number;
}

/** The batch of one dataset within a group. */
export interface DatasetPart {
  datasetId: string;
  files: StagedFile[];
  records: number;
  bytes: number;
  /** Set as soon as Adobe created the batch. */
  batchId?: string;
  /** Set once COMPLETE was sent (the batch may then be ingested even if the answer was lost). */
  completeSent?: boolean;
  outcome?: DatasetOutcome;
}

/** `group.json`. Written atomically when the group is sealed and after every step. */
export interface GroupState {
  version: 1;
  id: string;
  createdAt: string;
  parts: DatasetPart[];
}

export const GROUP_FILE = 'group.json';
/** Compact list of the group's `_id`s by dataset, written when the part files are no longer needed. */
export const IDS_FILE = 'ids.json';

/** A sortable, unique group id: `g-20240501T120000123Z-ab12cd`. */
export function newGroupId(now: Date = new Date()): string {
  return `g-${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(3).toString('hex')}`;
}

/** Appends JSON Lines to a dataset's part files (readable by the owner only: they hold personal data), starting a new file above `maxFileBytes`. Synchronous: lines never interleave. */
export class PartWriter {
  readonly part: DatasetPart;
  private fd: number | undefined;
  private current: StagedFile | undefined;

  constructor(
    private readonly dir: string,
    datasetId: string,
    private readonly maxFileBytes: number,
  ) {
    this.part = { datasetId, files: [], records: 0, bytes: 0 };
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** Writes the events, one line each. */
  append(events: readonly ByteSource[]): void {
    let from = 0;
    for (let i = 0; i < events.length; i++) {
      const size = events[i]!.byteLength + 1;
      if (!this.current || (this.current.bytes > 0 && this.current.bytes + size > this.maxFileBytes)) {
        if (i > from) this.write(jsonLines(events.slice(from, i)));
        from = i;
        this.rotate();
      }
      this.current!.bytes += size;
      this.current!.records++;
      this.part.bytes += size;
      this.part.records++;
    }
    if (events.length > from) this.write(jsonLines(events.slice(from)));
  }

  /** Flushes the open file to disk and closes it. */
  close(): void {
    if (this.fd === undefined) return;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
  }

  private write(lines: Buffer): void {
    for (let at = 0; at < lines.length; ) at += writeSync(this.fd!, lines, at);
  }

  private rotate(): void {
    this.close();
    const name = `part-${String(this.part.files.length).padStart(5, '0')}.json`;
    this.current = { name, bytes: 0, records: 0 };
    this.part.files.push(this.current);
    this.fd = openSync(join(this.dir, name), 'wx', 0o600);
  }
}

/** Who stages a group: another live process on this host keeps its groups (two backfills may share the folder). */
export const OWNER_FILE = 'owner.json';

export function writeOwner(groupDir: string): void {
  writeFileSync(join(groupDir, OWNER_FILE), JSON.stringify(currentProcess()));
}

/** True when the group belongs to another process that is still running on this host. */
export function ownedByAnotherLiveProcess(groupDir: string): boolean {
  let owner: Partial<ProcessIdentity>;
  try {
    owner = JSON.parse(readFileSync(join(groupDir, OWNER_FILE), 'utf8')) as Partial<ProcessIdentity>;
  } catch {
    return false;
  }
  if (typeof owner.pid !== 'number' || typeof owner.host !== 'string' || owner.pid === process.pid) return false;
  return isRunning(identityFrom(owner.host, owner.pid, typeof owner.start === 'string' ? owner.start : undefined));
}

/** Writes `group.json` atomically (temporary file, fsync, rename). */
export function saveGroup(dir: string, state: GroupState): void {
  const tmp = join(dir, `${GROUP_FILE}.tmp`);
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(state));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, GROUP_FILE));
}

/** Reads `group.json`; undefined when the group was never sealed (or the file is unreadable). */
export function loadGroup(dir: string): GroupState | undefined {
  try {
    const state = JSON.parse(readFileSync(join(dir, GROUP_FILE), 'utf8')) as GroupState;
    return state.version === 1 && Array.isArray(state.parts) ? state : undefined;
  } catch {
    return undefined;
  }
}

/** Group folders under the staging folder, oldest first. */
export function listGroups(stagingDir: string): string[] {
  try {
    return readdirSync(stagingDir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && d.name.startsWith('g-'))
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

/** The path of a part file. */
export const partPath = (groupDir: string, datasetId: string, name: string) => join(groupDir, datasetId, name);

/** The `_id`s of a dataset's staged part files, read line by line (memory stays flat whatever the file size). */
export async function readIds(groupDir: string, part: DatasetPart): Promise<string[]> {
  const ids: string[] = [];
  for (const file of part.files) {
    const lines = createInterface({ input: createReadStream(partPath(groupDir, part.datasetId, file.name)), crlfDelay: Infinity });
    for await (const line of lines) {
      if (!line) continue;
      const id = idOfLine(line);
      if (id !== undefined) ids.push(id);
    }
  }
  return ids;
}

/** The `_id` of one JSON line (a staged entity, or a failed record's raw text). */
export function idOfLine(line: string): string | undefined {
  try {
    const value = (JSON.parse(line) as { _id?: unknown })._id;
    return typeof value === 'string' ? value : undefined;
  } catch {
    const match = /"_id"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(line);
    return match ? (JSON.parse(`"${match[1]}"`) as string) : undefined;
  }
}

/** Replaces the part files of a finished group by the compact id list (the outcome stays in group.json). */
export function compactGroup(groupDir: string, idsByDataset: Record<string, string[]>): void {
  const tmp = join(groupDir, `${IDS_FILE}.tmp`);
  writeFileSync(tmp, JSON.stringify(idsByDataset), { mode: 0o600 });
  renameSync(tmp, join(groupDir, IDS_FILE));
  for (const datasetId of Object.keys(idsByDataset)) rmSync(join(groupDir, datasetId), { recursive: true, force: true });
}

/** The compact id list of a finished group, when written. */
export function loadIds(groupDir: string): Record<string, string[]> | undefined {
  try {
    return JSON.parse(readFileSync(join(groupDir, IDS_FILE), 'utf8')) as Record<string, string[]>;
  } catch {
    return undefined;
  }
}

export function removeGroup(groupDir: string): void {
  rmSync(groupDir, { recursive: true, force: true });
}
