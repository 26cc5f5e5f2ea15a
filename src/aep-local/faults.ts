/** Decides, per request, which fault (if any) the imitation injects: a scripted step first, else seeded shares. */
import { seededRandom } from '../util/prng.js';
import type { FaultPlan, FaultRoute } from './types.js';

/** What to do with one request. */
export type FaultAction =
  | { kind: 'none' }
  | { kind: 'status'; status: number; retryAfterSeconds?: number }
  /** Destroy the socket before handling the request. */
  | { kind: 'reset' }
  /** Handle the request (store its events), then destroy the socket instead of answering. */
  | { kind: 'reset-after' };

export interface FaultDecision {
  action: FaultAction;
  /** Delay before answering, in ms (0 = none). */
  delayMs: number;
}

const DEFAULT_ROUTES: readonly FaultRoute[] = ['dcs', 'import', 'catalog', 'export', 'schemaregistry'];
const SCRIPT_STATUSES = new Set([401, 413, 429, 500, 502, 503, 504]);

/** One parsed script step. */
type Step = { action: FaultAction; delayMs: number };

/** Parses one script entry (`429:2`, `503`, `reset`, `slow:250`, `ok`…); throws a readable error on anything else. */
export function parseStep(entry: string): Step {
  const [head = '', arg] = entry.trim().toLowerCase().split(':', 2);
  const number = arg === undefined ? undefined : Number(arg);
  if (arg !== undefined && (!Number.isFinite(number) || (number as number) < 0)) {
    throw new Error(`fault script entry "${entry}": "${arg}" is not a non-negative number`);
  }
  if (head === 'ok' && arg === undefined) return { action: { kind: 'none' }, delayMs: 0 };
  if (head === 'reset' && arg === undefined) return { action: { kind: 'reset' }, delayMs: 0 };
  if (head === 'reset-after' && arg === undefined) return { action: { kind: 'reset-after' }, delayMs: 0 };
  if (head === 'slow' && number !== undefined) return { action: { kind: 'none' }, delayMs: number };
  const status = Number(head);
  if (SCRIPT_STATUSES.has(status) && (arg === undefined || status === 429 || status === 503)) {
    return {
      action: number === undefined ? { kind: 'status', status } : { kind: 'status', status, retryAfterSeconds: number },
      delayMs: 0,
    };
  }
  throw new Error(
    `fault script entry "${entry}" is not one of ok, 429[:seconds], 500, 502, 503[:seconds], 504, 413, 401, reset, reset-after, slow:ms`,
  );
}

function checkShare(plan: FaultPlan, key: keyof FaultPlan): void {
  const value = plan[key];
  if (value !== undefined && (typeof value !== 'number' || !(value >= 0 && value <= 1))) {
    throw new Error(`fault plan ${key} must be a share between 0 and 1 (got ${String(value)})`);
  }
}

/** Checks a plan (e.g. one posted to `/__local/faults`) and returns its parsed script. */
export function validatePlan(plan: FaultPlan): Step[] {
  for (const key of ['share429', 'share5xx', 'shareReset', 'slowShare', 'rejectShare'] as const) checkShare(plan, key);
  for (const key of ['retryAfterSeconds', 'slowMs', 'maxRequestBytes', 'tokenExpiresAfterSeconds'] as const) {
    const value = plan[key];
    if (value !== undefined && (typeof value !== 'number' || !(value >= 0))) {
      throw new Error(`fault plan ${key} must be a non-negative number (got ${String(value)})`);
    }
  }
  for (const status of plan.statuses5xx ?? []) {
    if (!Number.isInteger(status) || status < 500 || status > 599) throw new Error(`fault plan statuses5xx: ${status} is not a 5xx status`);
  }
  if (plan.rejectIdPattern !== undefined) {
    try {
      new RegExp(plan.rejectIdPattern);
    } catch (err) {
      throw new Error(`fault plan rejectIdPattern is not a regular expression: ${(err as Error).message}`);
    }
  }
  return (plan.script ?? []).map(parseStep);
}

/** Holds the current plan and a seeded generator; every decision draws the same numbers in the same order. */
export class FaultInjector {
  private plan: FaultPlan = {};
  private script: Step[] = [];
  private rejectPattern: RegExp | undefined;
  private random: () => number;
  /** A separate stream for per-message rejections, so message counts never shift request faults. */
  private rejectRandom: () => number;

  constructor(private readonly seed: number, plan?: FaultPlan) {
    this.random = seededRandom(seed);
    this.rejectRandom = seededRandom(seed ^ 0x5bd1e995);
    this.set(plan);
  }

  /** Replaces the plan; throws (leaving the old plan) when it is invalid. */
  set(plan: FaultPlan | undefined): void {
    const next = plan ?? {};
    const script = validatePlan(next);
    this.plan = next;
    this.script = script;
    this.rejectPattern = next.rejectIdPattern === undefined ? undefined : new RegExp(next.rejectIdPattern);
  }

  /** Forgets the plan and restarts the generator from the seed. */
  clear(): void {
    this.set(undefined);
    this.random = seededRandom(this.seed);
    this.rejectRandom = seededRandom(this.seed ^ 0x5bd1e995);
  }

  /** The plan in force (without the in-process predicate), for `/__local/faults`. */
  current(): Omit<FaultPlan, 'rejectIds'> & { scriptLeft: number; rejectIdsPredicate: boolean } {
    const { rejectIds, ...rest } = this.plan;
    return { ...rest, scriptLeft: this.script.length, rejectIdsPredicate: rejectIds !== undefined };
  }

  targets(route: FaultRoute): boolean {
    return (this.plan.routes ?? DEFAULT_ROUTES).includes(route);
  }

  /** The fault for one request of a targeted route group. */
  decide(route: FaultRoute): FaultDecision {
    if (!this.targets(route)) return { action: { kind: 'none' }, delayMs: 0 };
    const step = this.script.shift();
    if (step) return step;
    const p = this.plan;
    // Always draw the same four numbers so one share's setting never shifts another's sequence.
    const [rReset, r429, r5xx, rSlow] = [this.random(), this.random(), this.random(), this.random()];
    const slowShare = p.slowShare ?? (p.slowMs ? 1 : 0);
    const delayMs = p.slowMs && rSlow < slowShare ? p.slowMs : 0;
    if (rReset < (p.shareReset ?? 0)) return { action: { kind: 'reset' }, delayMs };
    if (r429 < (p.share429 ?? 0)) return { action: { kind: 'status', status: 429 }, delayMs };
    const share5xx = p.share5xx ?? 0;
    if (r5xx < share5xx) {
      const statuses = p.statuses5xx?.length ? p.statuses5xx : [500, 502, 503, 504];
      // Reuse the draw (uniform within [0, share5xx)) to pick the status, keeping the sequence fixed.
      const status = statuses[Math.min(statuses.length - 1, Math.floor((r5xx / share5xx) * statuses.length))]!;
      return { action: { kind: 'status', status }, delayMs };
    }
    return { action: { kind: 'none' }, delayMs };
  }

  /** `Retry-After` seconds for 429/503 answers without their own. */
  retryAfterSeconds(): number {
    return this.plan.retryAfterSeconds ?? 1;
  }

  /** Whether an otherwise valid streamed message is rejected by the plan. */
  rejects(id: string | undefined): boolean {
    const draw = this.rejectRandom();
    if (id !== undefined && (this.plan.rejectIds?.(id) || this.rejectPattern?.test(id))) return true;
    return draw < (this.plan.rejectShare ?? 0);
  }

  maxRequestBytes(): number | undefined {
    return this.plan.maxRequestBytes;
  }

  tokenExpiresAfterSeconds(): number | undefined {
    return this.plan.tokenExpiresAfterSeconds;
  }
}
