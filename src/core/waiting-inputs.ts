/**
 * Where the run keeps the raw input and position of sent events until the sink's verdict: only a rejected event needs
 * them (for its dead letter). In the heap for sinks that answer within a request; on disk (RawSpill, in the folder the
 * sink names) for sinks whose verdict takes minutes (batch ingestion), where tens of thousands of events wait and their
 * raw texts were ~1 KB each of live heap.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Position } from './types.js';
import { FatalError, errorMessage } from '../errors.js';
import { currentProcess, identityFrom, isRunning, startLabel } from '../util/process-identity.js';
import { RawSpill, type SpillRef } from '../util/raw-spill.js';

export interface WaitingInput {
  raw: string;
  position: Position;
}

/** A kept input: the input itself, or the number the spill gave it. */
export type KeptInput = WaitingInput | SpillRef;

export interface WaitingInputs {
  keep(raw: string, position: Position): KeptInput;
  /** The input back, for a dead letter. */
  read(kept: KeptInput): WaitingInput;
  /** The verdict is written: the input is no longer needed. */
  release(kept: KeptInput): void;
  close(): void;
}

const inHeap: WaitingInputs = {
  keep: (raw, position) => ({ raw, position }),
  read: (kept) => kept as WaitingInput,
  release: () => undefined,
  close: () => undefined,
};

function onDisk(spill: RawSpill): WaitingInputs {
  return {
    keep: (raw, position) => spill.put(raw, position),
    read: (kept) => spill.get(kept as SpillRef),
    release: (kept) => spill.release(kept as SpillRef),
    close: () => spill.close(),
  };
}

/** Spill folders are named after the process that owns them, so a later run can remove those of crashed runs. */
const SPILL_PREFIX = 'waiting-inputs-';

/** In the heap, or, when the sink names a folder (its verdicts come late), in a private spill folder inside it. */
export function waitingInputs(dir: string | undefined): WaitingInputs {
  if (dir === undefined) return inHeap;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    removeOrphans(dir);
    const me = currentProcess();
    return onDisk(new RawSpill({ dir, prefix: `${SPILL_PREFIX}${me.pid}-${startLabel(me)}-` }));
  } catch (error) {
    throw new FatalError(
      `cannot keep the raw input of events waiting for their verdict in ${dir}: ${errorMessage(error)}; check that the folder (sink.stagingDir) is writable`,
    );
  }
}

/**
 * Removes the spill folders of processes that no longer run (a SIGKILLed run cannot remove its own). Their files
 * were unlinked when opened, so only empty folders are left on Linux and macOS.
 */
function removeOrphans(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory() || !entry.name.startsWith(SPILL_PREFIX)) continue;
    const [pidText, start] = entry.name.slice(SPILL_PREFIX.length).split('-');
    const pid = Number(pidText);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    if (!isRunning(identityFrom(hostname(), pid, start))) rmSync(join(dir, entry.name), { recursive: true, force: true });
  }
}
