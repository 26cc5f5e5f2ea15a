/**
 * Where the run keeps the raw input and position of sent events until the sink's verdict: only a rejected event needs
 * them (for its dead letter). In the heap for sinks that answer within a request; on disk (RawSpill) for sinks whose
 * verdict takes minutes (batch ingestion), where tens of thousands of events wait and their raw texts were ~1 KB each
 * of live heap.
 */
import type { Position } from './types.js';
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

/** Heap for prompt verdicts; a private spill folder under `dir` (default: the OS temp folder) for late ones. */
export function waitingInputs(lateVerdicts: boolean, dir?: string): WaitingInputs {
  return lateVerdicts ? onDisk(new RawSpill(dir ? { dir } : {})) : inHeap;
}
