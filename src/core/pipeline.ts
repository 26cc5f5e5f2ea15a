/**
 * The run loop: source → decode → map → enrich (history, ledger) → validate → sink → commit.
 * Owns back-pressure (a bounded number of units in flight) and the rule that a checkpoint only moves past records
 * whose fate is settled, in one SQLite transaction with the ledger and the dead letters.
 */
import type { Logger } from 'pino';
import type {
  Delivery,
  EventValidator,
  JsonObject,
  Mapper,
  OutboundEvent,
  Position,
  Sink,
  Source,
  SourceItem,
  Stage,
  TimeWindow,
  XdmEvent,
} from './types.js';
import type { DeadLetterInput, LedgerEntry, StateStore } from '../store/state.js';
import { inlineUnitStore, type EnrichResult, type UnitStore } from '../store/unit-store.js';
import { inlinePreparer, preparationOf, type UnitPreparer } from './map-thread.js';
import { preparedEvent, type PreparedUnit, type UnitInput } from './prepare-unit.js';
import { currentStageTimer, lap, type StageTimer } from './stage-timer.js';
import { waitingInputs, type KeptInput } from './waiting-inputs.js';
import { redact } from '../redact.js';
import { oversizeProblem } from '../validate/index.js';

export interface PipelineOptions {
  runId: number;
  source: Source;
  /** Key under which checkpoints and history are kept (the configured source id; backfills add a suffix). */
  sourceKey: string;
  mapper: Mapper;
  validators: EventValidator[];
  sink: Sink;
  store: StateStore;
  /** Where enrichment and unit commits run (default: on this thread, through `store`). */
  unitStore?: UnitStore;
  /**
   * Units are decoded, mapped, validated and serialised on this thread, with `mapper` and `validators`; this moves them
   * elsewhere (run.ts: to the run's mapping thread), given the preparer on this thread.
   */
  movePreparation?: (here: UnitPreparer) => UnitPreparer;
  log: Logger;
  signal?: AbortSignal;
  window?: TimeWindow;
  /** Stop after this many records were read (preview/sampling). */
  limit?: number;
  /** Called after every committed unit. */
  onProgress?: (summary: RunSummary) => void;
  /** Optional per-stage timing (benchmarks); overrides the process-wide one set with `setStageTimer`. */
  stageTimer?: StageTimer;
}

export interface RunSummary {
  runId: number;
  source: string;
  sink: string;
  read: number;
  sent: number;
  /** Not outcomes (e.g. OVO Scheduled) or outside the window: counted, not sent, not dead-lettered. */
  skipped: number;
  /** Already in the ledger (sent by an earlier run) or repeated within this run. */
  alreadySent: number;
  deadLettered: Record<Stage, number>;
  byStatus: Record<string, number>;
  byChannel: Record<string, number>;
  skippedBy: Record<string, number>;
  durationMs: number;
  sinkStats: Record<string, number | string>;
  mapperStats: Record<string, number>;
  /** True when the run stopped early on a signal (everything in flight was still settled and committed). */
  interrupted: boolean;
}

/**
 * What the run keeps of a sent event until the sink's verdict: not its JSON text (the sink has what it needs; a batch
 * backfill waits minutes for a verdict, and holding 300,000 texts took a gigabyte), and its raw input where
 * {@link waitingInputs} puts it.
 */
interface PreparedEvent {
  id: string;
  ledger: LedgerEntry;
  input: KeptInput;
}

interface Unit {
  events: PreparedEvent[];
  deadLetters: DeadLetterInput[];
  checkpoints: Map<string, string>;
  positions: Position[];
}

const emptyStages = (): Record<Stage, number> => ({ decode: 0, map: 0, validate: 0, ingest: 0 });

export function emptySummary(runId: number, source: string, sink: string): RunSummary {
  return {
    runId,
    source,
    sink,
    read: 0,
    sent: 0,
    skipped: 0,
    alreadySent: 0,
    deadLettered: emptyStages(),
    byStatus: {},
    byChannel: {},
    skippedBy: {},
    durationMs: 0,
    sinkStats: {},
    mapperStats: {},
    interrupted: false,
  };
}

const bump = (counts: Record<string, number>, key: string | undefined, by = 1) => {
  if (key !== undefined) counts[key] = (counts[key] ?? 0) + by;
};

export function totalDeadLettered(summary: RunSummary): number {
  return Object.values(summary.deadLettered).reduce((a, b) => a + b, 0);
}

/** Longest dead-letter reason kept: a reason is a sentence; the raw input is stored next to it. */
const MAX_REASON_CHARS = 1000;

/**
 * A reason that quotes a huge input value (a 200 KB status) is cut in the middle, keeping its start and its hint at
 * the end. Redacted before cutting, so a cut never splits an email address or token into an unrecognisable piece.
 */
export function readableReason(reason: string): string {
  const text = redact(reason);
  if (text.length <= MAX_REASON_CHARS) return text;
  return `${text.slice(0, 600)}…[${text.length - 900} characters cut]…${text.slice(-300)}`;
}

/**
 * Test hook for the crash-consistency tests (test/reliability): `XDM_FEEDBACK_CRASH_AFTER_ACK=<n>` kills the process
 * with SIGKILL right after the sink acknowledged the n-th unit of events and before that unit is committed — the one
 * instant where at-least-once delivery repeats events. Unset (always, outside tests) it does nothing.
 */
let acknowledgedUnits = 0;
function crashAfterAckHook(): void {
  const n = Number(process.env.XDM_FEEDBACK_CRASH_AFTER_ACK);
  if (Number.isInteger(n) && n > 0 && ++acknowledgedUnits === n) process.kill(process.pid, 'SIGKILL');
}

/** Unit commits the state thread may still be writing while the run goes on. */
const COMMITS_IN_FLIGHT = 2;

export async function runPipeline(options: PipelineOptions): Promise<RunSummary> {
  const { source, sourceKey, sink, store, log, runId } = options;
  const unitStore = options.unitStore ?? inlineUnitStore(store);
  const timer = options.stageTimer ?? currentStageTimer();
  const here = inlinePreparer(
    preparationOf(source, {
      mapper: options.mapper,
      validators: options.validators,
      ...(options.window ? { window: options.window } : {}),
      sourceKey,
      sinkName: sink.name,
      ...(timer ? { timer } : {}),
    }),
  );
  const preparer = options.movePreparation?.(here) ?? here;
  const started = Date.now();
  const summary = emptySummary(runId, sourceKey, sink.name);
  const maxPending = Math.max(1, sink.maxPendingSends ?? 1);
  const mapping: MappedUnit[] = [];
  const pending: Array<{ unit: Unit; deliveries: Promise<Delivery[]> }> = [];
  const committing: Array<Promise<void>> = [];
  /** The newest unit commit: every commit waits for it, so a failure stops all that follow. */
  let lastCommit: Promise<void> = Promise.resolve();
  const inFlight = new InFlightIds();
  const waiting = waitingInputs(sink.waitingInputsDir);
  // Reading stops on the caller's signal or a failure; sends in flight are only cancelled on a failure, so a
  // SIGTERM still lets the in-flight batch finish and commit.
  const internalAbort = new AbortController();
  const sinkAbort = new AbortController();
  const signal = options.signal;
  const stop = () => internalAbort.abort();
  signal?.addEventListener('abort', stop, { once: true });

  const deadLetter = (unit: Unit, stage: Stage, raw: string, reason: string, position: Position, extra: Partial<DeadLetterInput> = {}) => {
    unit.deadLetters.push({ source: sourceKey, stage, raw, reason: readableReason(reason), stream: position.stream, position: position.offset, ...extra });
    summary.deadLettered[stage]++;
  };
  const skip = (reason: string) => {
    summary.skipped++;
    bump(summary.skippedBy, reason);
  };

  /** Hands a unit's records to the preparer, then asks for its enrichment as soon as it is prepared. */
  const mapUnit = (items: SourceItem[]): MappedUnit => {
    const unit: Unit = { events: [], deadLetters: [], checkpoints: new Map(), positions: [] };
    const inputs: UnitInput[] = new Array(items.length);
    const where: Array<string | undefined> = new Array(items.length);
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if (item.kind === 'undecodable') {
        inputs[i] = null;
      } else if (item.kind === 'text') {
        inputs[i] = item.raw;
        where[i] = item.where;
      } else {
        inputs[i] = item.record;
      }
      unit.checkpoints.set(item.position.stream, item.position.offset);
    }
    for (const [stream, offset] of unit.checkpoints) unit.positions.push({ stream, offset });
    const ready = preparer.prepare(inputs, where).then(async (prepared) => {
      const seq = inFlight.mapped();
      const results = prepared.requests === '[]' ? [] : await unitStore.enrich(sourceKey, prepared.requests);
      return { prepared, results, seq };
    });
    ready.catch(() => undefined); // observed in finishUnit
    return { unit, items, ready };
  };

  /** With the state's answers: repeats, retryCounts, and what the commit needs of every event of the unit. */
  const finishUnit = async (mapped: MappedUnit): Promise<{ unit: Unit; outbound: OutboundEvent[] }> => {
    let t = timer ? performance.now() : 0;
    const { prepared, results, seq } = await mapped.ready;
    if (timer) t = lap(timer, 'prepare', t);
    const { unit, items } = mapped;
    // Counted here, not when read: units read but not sent when a signal stops the run are read again by the next.
    summary.read += items.length;
    for (const item of items) if (item.kind === 'undecodable') deadLetter(unit, 'decode', item.raw, item.reason, item.position);
    for (const d of prepared.deadLetters) deadLetter(unit, d.stage, items[d.item]!.raw, d.reason, items[d.item]!.position);
    for (const reason of prepared.skipped) skip(reason);
    /** Dead-letters the event of record `item` that the schema (or, with its retryCount, the size limit) refuses. */
    const invalidEvent = (item: number, id: string, errors: string[]) => {
      const { raw, position } = items[item]!;
      const reason = `the mapped XDM event is invalid: ${errors.slice(0, 3).join('; ')}`;
      deadLetter(unit, 'validate', raw, reason, position, { errors, eventId: id });
    };
    for (const invalid of prepared.invalid) {
      if (results[invalid.request]!.sent || inFlight.has(invalid.id)) {
        summary.alreadySent++;
        continue;
      }
      invalidEvent(invalid.item, invalid.id, invalid.errors);
    }
    const { events, sizeLimit } = prepared;
    const bytes = new Uint8Array(events.bytes);
    const outbound: OutboundEvent[] = [];
    for (let k = 0; k < events.id.length; k++) {
      const id = events.id[k]!;
      const answer = results[events.request[k]!]!;
      if (answer.sent || inFlight.has(id)) {
        summary.alreadySent++;
        continue;
      }
      const { retryCount } = answer;
      const json = preparedEvent(events, bytes, k, retryCount);
      if (sizeLimit !== undefined && json.byteLength > sizeLimit) {
        invalidEvent(events.item[k]!, id, [oversizeProblem(json.byteLength, sizeLimit)]);
        continue;
      }
      // An object, not text: a batch backfill keeps ~75,000 of them waiting, and an object shares its strings.
      const ledger = events.ledgers[k]!;
      if (ledger.retryCount !== undefined) ledger.retryCount = retryCount;
      inFlight.add(id);
      outbound.push({ id, eventType: events.eventType[k]!, json });
      const { raw, position } = items[events.item[k]!]!;
      unit.events.push({ id, ledger, input: waiting.keep(raw, position) });
    }
    inFlight.finished(seq);
    if (timer) lap(timer, 'finish', t);
    return { unit, outbound };
  };

  const commitHead = async () => {
    const head = pending.shift()!;
    let t = timer ? performance.now() : 0;
    const deliveries = await head.deliveries;
    if (timer) t = lap(timer, 'wait', t);
    const { unit } = head;
    if (unit.events.length > 0) crashAfterAckHook();
    const accepted: LedgerEntry[] = [];
    deliveries.forEach((delivery, i) => {
      const prepared = unit.events[i]!;
      if (delivery.kind === 'accepted') {
        accepted.push(prepared.ledger);
        summary.sent++;
        bump(summary.byStatus, prepared.ledger.status ?? prepared.ledger.eventType);
        bump(summary.byChannel, prepared.ledger.channel);
      } else {
        const { raw, position } = waiting.read(prepared.input);
        deadLetter(unit, 'ingest', raw, delivery.reason, position, {
          eventId: prepared.id,
          ...(delivery.errors ? { errors: delivery.errors } : {}),
        });
      }
      waiting.release(prepared.input);
    });
    const commit = {
      runId,
      source: sourceKey,
      checkpoints: [...unit.checkpoints].map(([stream, position]) => ({ stream, position })),
      accepted,
      deadLetters: unit.deadLetters,
    };
    const ids = unit.events.map((e) => e.id);
    // Commits are written one after the other, each only once the one before is confirmed: a failed commit stops
    // every later one, so a checkpoint never moves past records whose fate was not written.
    const confirmed = lastCommit.then(async () => {
      // The ids stay "in flight" until the ledger has them and every unit enriched before this commit is done.
      const release = inFlight.releaseAfter(ids);
      await unitStore.commit(commit);
      release();
      await source.commit?.(unit.positions);
      summary.durationMs = Date.now() - started;
      options.onProgress?.(summary);
    });
    confirmed.catch(() => undefined); // observed below or at the end
    lastCommit = confirmed;
    committing.push(confirmed);
    while (committing.length > COMMITS_IN_FLIGHT) await committing.shift();
    if (timer) lap(timer, 'commit', t);
  };

  const send = (unit: Unit, outbound: OutboundEvent[]): Promise<Delivery[]> => {
    if (unit.events.length === 0) return Promise.resolve([]);
    return sink.send(outbound, sinkAbort.signal).then((deliveries) => {
      if (deliveries.length !== unit.events.length) {
        throw new Error(`sink ${sink.name} answered ${deliveries.length} deliveries for ${unit.events.length} events`);
      }
      return deliveries;
    });
  };

  const sendNext = async () => {
    const { unit, outbound } = await finishUnit(mapping.shift()!);
    const t = timer ? performance.now() : 0;
    const deliveries = send(unit, outbound);
    if (timer) lap(timer, 'send', t);
    deliveries.catch(() => undefined); // observed in commitHead; avoid an unhandled rejection meanwhile
    pending.push({ unit, deliveries });
    while (pending.length >= maxPending) await commitHead();
  };

  const allCommitted = async () => {
    while (committing.length > 0) await committing.shift();
  };

  let failure: unknown;
  try {
    const items = source.read({
      checkpoint: (stream) => store.checkpoint(sourceKey, stream),
      signal: internalAbort.signal,
      log,
      deferDecoding: source.decodeRaw !== undefined,
      ...(options.window ? { window: options.window } : {}),
    });
    let readStarted = timer ? performance.now() : 0;
    let read = 0;
    for await (let batch of items) {
      if (timer) lap(timer, 'read', readStarted);
      if (options.limit !== undefined && read + batch.length > options.limit) batch = batch.slice(0, Math.max(0, options.limit - read));
      read += batch.length;
      if (batch.length > 0) mapping.push(mapUnit(batch));
      while (mapping.length > preparer.unitsAhead) await sendNext();
      if (internalAbort.signal.aborted || (options.limit !== undefined && read >= options.limit)) break;
      if (timer) readStarted = performance.now();
    }
    // Stopped by a signal: units not sent yet are dropped (their checkpoints were not written; the next run reads them).
    if (internalAbort.signal.aborted) mapping.length = 0;
    while (mapping.length > 0) await sendNext();
    while (pending.length > 0) await commitHead();
    await allCommitted();
    await sink.finish?.();
  } catch (error) {
    failure = error;
    // Settle what was already acknowledged before the failure, in order; stop at the first unit that failed.
    internalAbort.abort();
    sinkAbort.abort();
    mapping.length = 0; // mapped but not sent: their checkpoint was not written, the next run reads them again
    while (pending.length > 0) {
      try {
        await commitHead();
      } catch {
        break;
      }
    }
    for (const confirmed of committing) await confirmed.catch(() => undefined);
  } finally {
    signal?.removeEventListener('abort', stop);
    waiting.close();
  }
  summary.interrupted = Boolean(signal?.aborted);
  summary.durationMs = Date.now() - started;
  summary.sinkStats = sink.stats?.() ?? {};
  summary.mapperStats = await preparer.mapperStats().catch(() => ({}));
  if (failure !== undefined) throw Object.assign(failure as object, { summary });
  log.debug({ summary, unitsOnMappingThread: preparer.unitsOnThread() }, 'pipeline finished');
  return summary;
}

/** A unit between reading and sending: its preparation and state look-ups may still be under way. */
interface MappedUnit {
  unit: Unit;
  items: SourceItem[];
  /** The prepared unit, the state's answer per enrichment request, and its place in the order enrichments were asked for (see InFlightIds). */
  ready: Promise<{ prepared: PreparedUnit; results: EnrichResult[]; seq: number }>;
}

/**
 * `_id`s sent but not yet in the ledger as the state thread sees it. An id leaves the set only when its unit is
 * committed and every unit whose ledger look-up was asked for before that commit has been finished: such a unit was
 * told "not sent" and relies on this set to recognise the repeat.
 */
class InFlightIds {
  private readonly ids = new Set<string>();
  private mappedSeq = 0;
  private finishedSeq = 0;
  private readonly waiting: Array<{ ids: string[]; afterSeq: number; committed: boolean }> = [];

  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string): void {
    this.ids.add(id);
  }
  /** A unit's look-ups were asked for; returns its sequence number. */
  mapped(): number {
    return ++this.mappedSeq;
  }
  /** The unit with this sequence number has used its look-ups. */
  finished(seq: number): void {
    this.finishedSeq = Math.max(this.finishedSeq, seq);
    this.drain();
  }
  /** Returns the function to call once these ids are committed. */
  releaseAfter(ids: string[]): () => void {
    const entry = { ids, afterSeq: this.mappedSeq, committed: false };
    this.waiting.push(entry);
    return () => {
      entry.committed = true;
      this.drain();
    };
  }
  private drain(): void {
    while (this.waiting.length > 0 && this.waiting[0]!.committed && this.waiting[0]!.afterSeq <= this.finishedSeq) {
      for (const id of this.waiting.shift()!.ids) this.ids.delete(id);
    }
  }
}

/** Everything an event needs besides its record, for replaying dead letters through the same path. */
export type RecordInput = { record: JsonObject; raw: string; position: Position };
export type { XdmEvent };
