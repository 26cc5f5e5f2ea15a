/** Optional per-stage timing of runs, for benchmarks: without a timer set, no stage reads a clock. */

/**
 * The stages timed, in milliseconds. On the thread that runs the loop: `read` waiting for the source (file reads,
 * and decoding where the source decodes), `prepare` waiting for units to be prepared and enriched (ledger and history
 * look-ups, on the state thread), `finish` writing in retryCounts and keeping what the commit needs, `send` (the
 * sink's synchronous work: envelopes, batching, dispatch), `wait` (blocked on the sink's acknowledgements: HTTP),
 * `commit` (waiting for the state thread's unit commits). Where units are prepared (the mapping thread, or the loop's
 * thread for small runs): `decode`, `map`, `validate`, `serialise`.
 */
export type TimedStage = 'read' | 'prepare' | 'finish' | 'send' | 'wait' | 'commit' | PreparationStage;
export type PreparationStage = 'decode' | 'map' | 'validate' | 'serialise';

export interface StageTimer {
  add(stage: TimedStage, ms: number): void;
}

/** Adds the time since `since` (a `performance.now()`) to `stage`; returns now, the start of the next stage. */
export function lap(timer: StageTimer, stage: TimedStage, since: number): number {
  const now = performance.now();
  timer.add(stage, now - since);
  return now;
}

let processStageTimer: StageTimer | undefined;

/** Sets (or clears) the stage timer every later run of this process reports to (benchmarks). */
export function setStageTimer(timer: StageTimer | undefined): void {
  processStageTimer = timer;
}

export function currentStageTimer(): StageTimer | undefined {
  return processStageTimer;
}

/** Sums stage times. */
export class StageTotals implements StageTimer {
  readonly ms: Partial<Record<TimedStage, number>> = {};
  add(stage: TimedStage, ms: number): void {
    this.ms[stage] = (this.ms[stage] ?? 0) + ms;
  }
}
