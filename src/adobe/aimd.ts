/** Adaptive concurrency limiter (AIMD, after Vector's ARC): grows by one on fast clean windows, halves on back-pressure. */

/** How a request ended, as far as the limiter cares. */
export type AimdOutcome =
  /** A clean answer (accepted, or rejected for reasons of its own content). */
  | 'ok'
  /** The server asked us to slow down (429, 503) or the request timed out. */
  | 'backpressure'
  /** Some other failure (500, connection reset…): does not count towards growth, does not shrink. */
  | 'error';

export interface AimdOptions {
  /** Lowest in-flight limit. @default 1 */
  min?: number;
  /** Highest in-flight limit. @default 16 */
  max?: number;
  /** Starting limit. @default min */
  initial?: number;
  /** A window whose mean latency exceeds baseline × this factor shrinks the limit. @default 2 */
  latencyRiseFactor?: number;
  /** Weight of the newest window in the latency baseline (EWMA). @default 0.3 */
  baselineWeight?: number;
  /** Clock for latency measurement; injectable for tests. @default performance.now */
  now?: () => number;
  /** Called after every change of the limit (for debug logs). */
  onChange?: (limit: number, reason: 'increase' | 'backpressure' | 'latency') => void;
}

/** Figures for logs and the run summary. */
export interface AimdSnapshot {
  limit: number;
  inFlight: number;
  maxReached: number;
  increases: number;
  decreases: number;
  baselineMs: number | undefined;
}

/** A slot held while one request is in flight; release it exactly once with the request's outcome. */
export interface AimdPermit {
  release(outcome: AimdOutcome, latencyMs?: number): void;
}

/**
 * An in-flight limit that adapts to the server. Requests acquire a permit; when `inFlight` reaches `limit`,
 * further acquirers wait in FIFO order. Growth (+1) happens at the end of a window (as many answers as the
 * limit) that was clean, fast (mean latency within `latencyRiseFactor` of the baseline), and saturated (the
 * limit was actually reached, so more concurrency was wanted). Back-pressure halves the limit at once, but at
 * most once per window, so a burst of 429s from requests already in flight counts as one signal.
 */
export class AimdLimiter {
  private readonly min: number;
  private readonly max: number;
  private readonly riseFactor: number;
  private readonly weight: number;
  private readonly now: () => number;
  private readonly onChange: AimdOptions['onChange'];
  private current: number;
  private active = 0;
  private peak: number;
  private ups = 0;
  private downs = 0;
  private baseline: number | undefined;
  private readonly waiters: Array<{ resolve: (p: AimdPermit) => void; reject: (e: unknown) => void; signal?: AbortSignal; onAbort?: () => void }> = [];
  // Current window
  private windowCount = 0;
  private windowLatency = 0;
  private windowClean = true;
  private windowSaturated = false;
  /** Permits granted before the last decrease must not trigger another decrease. */
  private epoch = 0;

  constructor(options: AimdOptions = {}) {
    this.min = Math.max(1, Math.floor(options.min ?? 1));
    this.max = Math.max(this.min, Math.floor(options.max ?? 16));
    this.current = clamp(Math.floor(options.initial ?? this.min), this.min, this.max);
    this.peak = this.current;
    this.riseFactor = options.latencyRiseFactor ?? 2;
    this.weight = options.baselineWeight ?? 0.3;
    this.now = options.now ?? (() => performance.now());
    this.onChange = options.onChange;
  }

  get limit(): number {
    return this.current;
  }

  get inFlight(): number {
    return this.active;
  }

  get maxReached(): number {
    return this.peak;
  }

  snapshot(): AimdSnapshot {
    return {
      limit: this.current,
      inFlight: this.active,
      maxReached: this.peak,
      increases: this.ups,
      decreases: this.downs,
      baselineMs: this.baseline,
    };
  }

  /** Waits for a free slot. Rejects with the signal's reason when aborted while waiting. */
  acquire(signal?: AbortSignal): Promise<AimdPermit> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.active < this.current && this.waiters.length === 0) return Promise.resolve(this.grant());
    return new Promise<AimdPermit>((resolve, reject) => {
      const waiter: (typeof this.waiters)[number] = { resolve, reject };
      if (signal) {
        waiter.signal = signal;
        waiter.onAbort = () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
    });
  }

  private grant(): AimdPermit {
    this.active++;
    if (this.active >= this.current) this.windowSaturated = true;
    const started = this.now();
    const epoch = this.epoch;
    let released = false;
    return {
      release: (outcome, latencyMs) => {
        if (released) return;
        released = true;
        this.active--;
        this.record(outcome, latencyMs ?? this.now() - started, epoch);
        this.drain();
      },
    };
  }

  private drain(): void {
    while (this.waiters.length > 0 && this.active < this.current) {
      const waiter = this.waiters.shift()!;
      if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(this.grant());
    }
  }

  private record(outcome: AimdOutcome, latencyMs: number, epoch: number): void {
    if (outcome === 'backpressure') {
      if (epoch === this.epoch) this.decrease('backpressure');
      return;
    }
    if (outcome === 'error') this.windowClean = false;
    this.windowCount++;
    this.windowLatency += latencyMs;
    if (this.windowCount < this.current) return;

    const mean = this.windowLatency / this.windowCount;
    const slow = this.baseline !== undefined && mean > this.baseline * this.riseFactor;
    // The baseline follows every window, so a lasting change of the server's speed is learnt, not punished forever.
    this.baseline = this.baseline === undefined ? mean : this.baseline * (1 - this.weight) + mean * this.weight;
    if (slow) {
      this.decrease('latency');
      return;
    }
    if (this.windowClean && this.windowSaturated && this.current < this.max) {
      this.current++;
      this.ups++;
      this.peak = Math.max(this.peak, this.current);
      this.onChange?.(this.current, 'increase');
    }
    this.resetWindow();
  }

  private decrease(reason: 'backpressure' | 'latency'): void {
    const next = Math.max(this.min, Math.floor(this.current / 2));
    if (next < this.current) {
      this.current = next;
      this.downs++;
      this.onChange?.(this.current, reason);
    }
    this.epoch++;
    this.resetWindow();
  }

  private resetWindow(): void {
    this.windowCount = 0;
    this.windowLatency = 0;
    this.windowClean = true;
    this.windowSaturated = this.active >= this.current;
  }
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, n));
}
