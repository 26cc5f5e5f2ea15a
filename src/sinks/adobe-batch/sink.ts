/**
 * The adobe-batch sink driver: events are appended to JSON Lines part files on disk (one dataset per Adobe batch),
 * a group of batches is sealed by size, count or a quiet spell, then driven through Batch Ingestion while the next
 * group fills. `send` resolves once its events' batches are final. Groups left by a crashed run are resumed.
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Delivery, OutboundEvent, Sink } from '../../core/types.js';
import type { JsonBytes } from '../../core/json-bytes.js';
import { ConfigError, errorMessage } from '../../errors.js';
import { AdobeHttpClient, type PlatformIdentity } from '../../adobe/http.js';
import { ImsTokenProvider, type AdobeAuthConfig, type TokenProvider } from '../../adobe/ims.js';
import { realClock, type SinkClock } from '../adobe-streaming/sink.js';
import { BatchApi } from './client.js';
import { PlatformClient } from './platform.js';
import { resolveBatchConfig, targetFor, type AdobeBatchConfig, type ResolvedBatchConfig } from './config.js';
import { runDatasetBatch, verdictFor } from './lifecycle.js';
import {
  PartWriter,
  compactGroup,
  listGroups,
  loadGroup,
  loadIds,
  newGroupId,
  ownedByAnotherLiveProcess,
  readIds,
  removeGroup,
  saveGroup,
  writeOwner,
  type DatasetOutcome,
  type GroupState,
} from './staging.js';

export interface AdobeBatchDeps {
  log: Logger;
  /** Adobe credentials: the sink builds its IMS token provider and platform headers from them. */
  auth?: AdobeAuthConfig & { platformUrl?: string };
  /** Token source (overrides `auth` for tokens). */
  tokens?: TokenProvider;
  /** Client id, org and sandbox for the platform headers (default: from `auth`). */
  identity?: PlatformIdentity;
  /** Shared HTTP client; one is created (and closed by `close()`) otherwise. */
  http?: AdobeHttpClient;
  clock?: SinkClock;
  /** Jitter source. @default Math.random */
  random?: () => number;
}

type Outcomes = Map<string, DatasetOutcome>;

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // observed by the sends; never an unhandled rejection meanwhile
  return { promise, resolve, reject };
}

/** The group being filled. */
interface OpenGroup {
  id: string;
  dir: string;
  createdAt: string;
  writers: Map<string, PartWriter>;
  ids: Map<string, string[]>;
  records: number;
  bytes: number;
  done: Deferred<Outcomes>;
}

/** A group left by an earlier run: its events are answered from its outcome instead of being sent again. */
interface RecoveredGroup {
  dir: string;
  total: number;
  claimed: number;
  done: Promise<Outcomes>;
  settled: boolean;
}

const counterNames = ['groups', 'batches', 'records', 'bytes', 'accepted', 'rejected', 'recoveredGroups', 'recoveredAnswers'] as const;
type Counter = (typeof counterNames)[number];

/** An event on its way into a part file. */
interface Staged {
  /** Its place in the `send` call. */
  index: number;
  id: string;
  json: JsonBytes;
  /** UTF-8 bytes of its line (the JSON text and a newline). */
  bytes: number;
  datasetId: string;
}

/** The deliveries of one `send` once `waits` are done; a slot left empty is an internal error, reported as such. */
function settleAll(waits: Array<Promise<void>>, results: Array<Delivery | undefined>): Promise<Delivery[]> {
  return Promise.all(waits).then(() => {
    const deliveries: Delivery[] = new Array(results.length);
    for (let i = 0; i < results.length; i++) deliveries[i] = results[i] ?? { kind: 'rejected', reason: `ingest: internal error, no verdict for event ${i} of the send` };
    return deliveries;
  });
}

/** Sends events through the Batch Ingestion API. Safe for concurrent `send` calls. */
export class AdobeBatchSink implements Sink {
  readonly name = 'adobe-batch';
  readonly maxPendingSends: number;
  /** Waiting events' raw input is spilled next to the staged batches (the same owner-only folder). */
  readonly waitingInputsDir: string;
  readonly config: ResolvedBatchConfig;
  private readonly api: BatchApi;
  private readonly platform: PlatformClient;
  private readonly http: AdobeHttpClient;
  private readonly ownsHttp: boolean;
  private readonly tokens: TokenProvider;
  private readonly log: Logger;
  private readonly clock: SinkClock;
  private readonly stagingDir: string;
  private readonly counters = Object.fromEntries(counterNames.map((n) => [n, 0])) as Record<Counter, number>;
  private readonly stop = new AbortController();
  private readonly seenSignals = new WeakSet<AbortSignal>();
  private readonly ready: Promise<void>;
  private readonly recovered = new Map<string, { group: RecoveredGroup; datasetId: string }>();
  private readonly recoveredGroups: RecoveredGroup[] = [];
  /** Folders of groups this run finished; removed at a clean close. */
  private readonly finished: string[] = [];
  private readonly queue: Array<{ group: OpenGroup; state: GroupState }> = [];
  private readonly running = new Set<Promise<void>>();
  private open: OpenGroup | undefined;
  private linger: NodeJS.Timeout | undefined;
  private active = 0;
  private failure: unknown;
  private aborted = false;

  constructor(config: AdobeBatchConfig, deps: AdobeBatchDeps) {
    this.config = resolveBatchConfig(config, deps.auth?.platformUrl);
    const c = this.config;
    if (!deps.tokens && !deps.auth) {
      throw new ConfigError('adobe-batch: no Adobe credentials; add the adobe section (clientId, orgId, sandbox; secret in ADOBE_CLIENT_SECRET)');
    }
    const identity: PlatformIdentity | undefined =
      deps.identity ?? (deps.auth ? { clientId: deps.auth.clientId, orgId: deps.auth.orgId, ...(deps.auth.sandbox ? { sandbox: deps.auth.sandbox } : {}) } : undefined);
    if (!identity) throw new ConfigError('adobe-batch: the platform headers need the adobe section (clientId, orgId, sandbox)');
    this.log = deps.log;
    this.clock = deps.clock ?? realClock;
    this.ownsHttp = !deps.http;
    this.http =
      deps.http ??
      new AdobeHttpClient({ requestTimeoutMs: c.requestTimeoutMs, connectTimeoutMs: c.connectTimeoutMs, maxSockets: 8, maxResponseBytes: 512 * 1024 * 1024 });
    this.tokens = deps.tokens ?? new ImsTokenProvider(deps.auth!, { http: this.http, refreshMarginMs: c.tokenRefreshMarginMs });
    this.platform = new PlatformClient({
      http: this.http,
      tokens: this.tokens,
      identity,
      log: this.log,
      clock: this.clock,
      random: deps.random ?? Math.random,
      retryDeadlineMs: c.retryDeadlineMs,
      backoffBaseMs: c.backoffBaseMs,
      backoffMaxMs: c.backoffMaxMs,
    });
    this.api = new BatchApi(this.platform, c.platformUrl, c.requestTimeoutMs);
    this.stagingDir = resolve(c.stagingDir);
    this.waitingInputsDir = this.stagingDir;
    this.maxPendingSends = c.maxPendingSends;
    this.ready = this.recover();
    this.ready.catch(() => undefined);
  }

  /**
   * Not `async`: an async function keeps its arguments alive until it returns, and a batch is final minutes after
   * its events were staged. Only ids and verdict slots wait; the JSON text goes to disk and is let go at once.
   */
  send(events: OutboundEvent[], signal?: AbortSignal): Promise<Delivery[]> {
    this.watch(signal);
    return this.ready.then(() => this.accept(events));
  }

  /** Stages or answers every event and returns the promise of their verdicts, holding none of their text. */
  private accept(events: OutboundEvent[]): Promise<Delivery[]> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.aborted) return Promise.reject(this.stop.signal.reason);
    const results: Array<Delivery | undefined> = new Array(events.length);
    const waits: Array<Promise<void>> = [];
    const staged: Staged[] = [];
    for (let index = 0; index < events.length; index++) {
      const event = events[index]!;
      const target = targetFor(this.config, event.eventType);
      if (!target) {
        results[index] = {
          kind: 'rejected',
          reason: `ingest: no dataset is configured for eventType ${event.eventType}; add sink.eventTypes["${event.eventType}"] or a default sink.datasetId`,
        };
        continue;
      }
      const earlier = this.recovered.get(event.id);
      if (earlier) {
        this.recovered.delete(event.id);
        earlier.group.claimed++;
        this.counters.recoveredAnswers++;
        waits.push(this.answerFrom(earlier.group.done, earlier.datasetId, event.id, index, results));
        continue;
      }
      staged.push({ index, id: event.id, json: event.json, bytes: event.json.byteLength + 1, datasetId: target.datasetId });
    }
    if (staged.length > 0) {
      try {
        waits.push(this.stage(staged, results));
      } catch (error) {
        for (const wait of waits) wait.catch(() => undefined); // never awaited: the send fails with `error`
        return Promise.reject(error);
      }
    }
    return settleAll(waits, results);
  }

  /** The verdict of one event of a recovered group, written into its slot once the group is final. */
  private answerFrom(done: Promise<Outcomes>, datasetId: string, id: string, index: number, results: Array<Delivery | undefined>): Promise<void> {
    return done.then((outcomes) => void (results[index] = this.verdict(outcomes, datasetId, id)));
  }

  /**
   * Appends events to the open group's part files, sealing it whenever it is full (a large send spans groups);
   * resolves once every group holding these events is final and their verdicts are in `results`.
   */
  private stage(staged: Staged[], results: Array<Delivery | undefined>): Promise<void> {
    const waits: Array<Promise<void>> = [];
    try {
      this.fill(staged, results, waits);
    } catch (error) {
      for (const wait of waits) wait.catch(() => undefined); // the send fails with `error`; these are never awaited
      throw error;
    }
    if (this.open) this.armLinger();
    return Promise.all(waits).then(() => undefined);
  }

  /** The synchronous part of `stage`: writes the lines and pushes one verdict wait per group slice into `waits`. */
  private fill(staged: Staged[], results: Array<Delivery | undefined>, waits: Array<Promise<void>>): void {
    const c = this.config;
    let from = 0;
    while (from < staged.length) {
      const group = (this.open ??= this.startGroup());
      let to = from;
      let bytes = 0;
      // At least one event per group, so an event larger than the limit still goes somewhere.
      while (to < staged.length) {
        const size = staged[to]!.bytes;
        const first = to === from && group.records === 0;
        if (!first && !(group.records + (to - from) < c.maxBatchRecords && group.bytes + bytes + size <= c.maxBatchBytes)) break;
        bytes += size;
        to++;
      }
      if (to === from) {
        this.seal(group);
        continue;
      }
      const byDataset = new Map<string, Staged[]>();
      for (let k = from; k < to; k++) {
        const event = staged[k]!;
        let list = byDataset.get(event.datasetId);
        if (!list) byDataset.set(event.datasetId, (list = []));
        list.push(event);
      }
      for (const [datasetId, list] of byDataset) {
        let writer = group.writers.get(datasetId);
        if (!writer) {
          writer = new PartWriter(join(group.dir, datasetId), datasetId, c.maxFileBytes);
          group.writers.set(datasetId, writer);
          group.ids.set(datasetId, []);
        }
        writer.append(list.map((e) => e.json));
        const ids = group.ids.get(datasetId)!;
        for (const e of list) ids.push(e.id);
      }
      group.records += to - from;
      group.bytes += bytes;
      this.counters.records += to - from;
      this.counters.bytes += bytes;
      waits.push(this.verdictsOf(group.done.promise, staged, from, to, results));
      if (group.records >= c.maxBatchRecords || group.bytes >= c.maxBatchBytes) this.seal(group);
      from = to;
    }
  }

  /**
   * The verdicts of `staged[from, to)` once their group is final. Built in a function of its own so the waiting
   * closure holds the compact slots (index, id, dataset) and nothing else of `stage` (the JSON text above all).
   */
  private verdictsOf(done: Promise<Outcomes>, staged: readonly Staged[], from: number, to: number, results: Array<Delivery | undefined>): Promise<void> {
    const n = to - from;
    const indexes = new Uint32Array(n);
    const ids: string[] = new Array(n);
    const datasets: string[] = new Array(n);
    for (let k = 0; k < n; k++) {
      const e = staged[from + k]!;
      indexes[k] = e.index;
      ids[k] = e.id;
      datasets[k] = e.datasetId;
    }
    return done.then((outcomes) => {
      for (let k = 0; k < n; k++) results[indexes[k]!] = this.verdict(outcomes, datasets[k]!, ids[k]!);
    });
  }

  private verdict(outcomes: Outcomes, datasetId: string, id: string): Delivery {
    const outcome = outcomes.get(datasetId);
    const delivery: Delivery = outcome ? verdictFor(outcome, id) : { kind: 'rejected', reason: `ingest: internal error, no outcome for dataset ${datasetId}` };
    this.counters[delivery.kind === 'accepted' ? 'accepted' : 'rejected']++;
    return delivery;
  }

  private startGroup(): OpenGroup {
    const now = new Date();
    const id = newGroupId(now);
    const dir = join(this.stagingDir, id);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeOwner(dir);
    this.counters.groups++;
    return { id, dir, createdAt: now.toISOString(), writers: new Map(), ids: new Map(), records: 0, bytes: 0, done: deferred() };
  }

  /**
   * The open group is sealed after a quiet spell: at the end of the input, on a slow source, and when the pipeline
   * waits for this very group because `maxPendingSends` units are in flight (then no send can come to fill it).
   */
  private armLinger(): void {
    if (this.linger) clearTimeout(this.linger);
    this.linger = setTimeout(() => {
      this.linger = undefined;
      if (this.open) this.seal(this.open);
    }, this.config.lingerMs);
  }

  /** Closes the group's files, saves its state and queues it for ingestion. */
  private seal(group: OpenGroup): void {
    if (this.linger) clearTimeout(this.linger);
    this.linger = undefined;
    if (this.open === group) this.open = undefined;
    try {
      for (const writer of group.writers.values()) writer.close();
      const state: GroupState = { version: 1, id: group.id, createdAt: group.createdAt, parts: [...group.writers.values()].map((w) => w.part) };
      saveGroup(group.dir, state);
      this.log.debug({ group: group.id, records: group.records, bytes: group.bytes, datasets: state.parts.length }, 'batch group sealed');
      this.queue.push({ group, state });
      this.pump();
    } catch (error) {
      this.fail(error);
      group.done.reject(error);
    }
  }

  private pump(): void {
    while (this.active < this.config.maxConcurrentBatches && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.active++;
      this.track(
        this.ingest(next.group, next.state).finally(() => {
          this.active--;
          this.pump();
        }),
      );
    }
  }

  private track(work: Promise<void>): void {
    this.running.add(work);
    void work.finally(() => this.running.delete(work));
  }

  private async ingest(group: OpenGroup, state: GroupState): Promise<void> {
    try {
      const outcomes = await this.drive(group.dir, state);
      compactGroup(group.dir, Object.fromEntries(group.ids));
      this.finished.push(group.dir);
      group.done.resolve(outcomes);
    } catch (error) {
      this.fail(error);
      group.done.reject(error);
    }
  }

  /** Runs every dataset batch of a group to its outcome, in parallel. */
  private async drive(dir: string, state: GroupState): Promise<Outcomes> {
    const ctx = {
      api: this.api,
      config: this.config,
      clock: this.clock,
      log: this.log,
      groupDir: dir,
      group: state,
      save: () => saveGroup(dir, state),
      signal: this.stop.signal,
    };
    const outcomes = await Promise.all(state.parts.map((part) => runDatasetBatch(ctx, part)));
    this.counters.batches += outcomes.filter((o) => o.batchId).length;
    return new Map(state.parts.map((part, i) => [part.datasetId, outcomes[i]!]));
  }

  /**
   * Picks up the groups a crashed run left (groups of another live process on this host are left alone): unsealed ones, and sealed ones no batch was created for, are removed (their
   * events were never sent, and the rerun sends them again); the others are resumed — uploads finished, COMPLETE sent,
   * Catalog polled — and their events answered from the outcome when the rerun meets them, never sent twice.
   */
  private async recover(): Promise<void> {
    mkdirSync(this.stagingDir, { recursive: true, mode: 0o700 });
    const maxAgeMs = this.config.keepUnclaimedDays * 86_400_000;
    for (const name of listGroups(this.stagingDir)) {
      const dir = join(this.stagingDir, name);
      if (ownedByAnotherLiveProcess(dir)) continue;
      const state = loadGroup(dir);
      const started = state?.parts.some((p) => p.batchId !== undefined || p.outcome !== undefined);
      if (!state || !started) {
        removeGroup(dir);
        continue;
      }
      if (Date.now() - Date.parse(state.createdAt) > maxAgeMs || Number.isNaN(Date.parse(state.createdAt))) {
        this.log.warn({ group: name }, 'removing a batch group of an earlier run that no run claimed in time');
        removeGroup(dir);
        continue;
      }
      let ids = loadIds(dir);
      if (!ids) {
        try {
          ids = {};
          for (const part of state.parts) ids[part.datasetId] = await readIds(dir, part);
        } catch (error) {
          this.log.warn({ group: name, error: errorMessage(error) }, 'cannot read the staged files of an earlier batch group; removing it');
          removeGroup(dir);
          continue;
        }
      }
      const total = Object.values(ids).reduce((n, list) => n + list.length, 0);
      const group: RecoveredGroup = { dir, total, claimed: 0, settled: false, done: Promise.resolve(new Map()) };
      const finalIds = ids;
      const finished = state.parts.every((p) => p.outcome);
      this.log.info({ group: name, records: total, batches: state.parts.map((p) => p.batchId).filter(Boolean) }, finished ? 'using the outcome of an earlier run' : 'resuming the batches of an earlier run');
      group.done = (finished ? Promise.resolve(new Map(state.parts.map((p) => [p.datasetId, p.outcome!]))) : this.drive(dir, state)).then(
        (outcomes) => {
          group.settled = true;
          // Also for a finished group: a kill between writing ids.json and removing the staged files (personal
          // data) left them behind, and this run may never claim the group to remove it.
          compactGroup(dir, finalIds);
          return outcomes;
        },
        (error: unknown) => {
          this.fail(error);
          throw error;
        },
      );
      group.done.catch(() => undefined);
      if (!finished) this.track(group.done.then(() => undefined, () => undefined));
      this.recoveredGroups.push(group);
      this.counters.recoveredGroups++;
      for (const [datasetId, list] of Object.entries(ids)) for (const id of list) this.recovered.set(id, { group, datasetId });
    }
  }

  /** Hooks the pipeline's signal: an abort means the run failed; nothing pending will be committed. */
  private watch(signal: AbortSignal | undefined): void {
    if (!signal || this.seenSignals.has(signal)) return;
    this.seenSignals.add(signal);
    const onAbort = (): void => this.abortAll(signal.reason);
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  }

  /** Stops everything: the open group is dropped (never sent), queued groups too; started batches stay for the next run. */
  private abortAll(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.stop.abort(reason);
    if (this.linger) clearTimeout(this.linger);
    this.linger = undefined;
    const dropped = [...(this.open ? [this.open] : []), ...this.queue.splice(0).map((q) => q.group)];
    this.open = undefined;
    for (const group of dropped) {
      for (const writer of group.writers.values()) writer.close();
      removeGroup(group.dir);
      group.done.reject(reason);
    }
  }

  private fail(error: unknown): void {
    if (this.failure === undefined) {
      this.failure = error;
      this.log.error({ error: errorMessage(error) }, 'batch ingestion failed; the batch state is kept for the next run');
    }
  }

  /** Seals the open group (the input is exhausted) and waits for every batch in flight. */
  async finish(): Promise<void> {
    await this.ready.catch(() => undefined);
    if (this.open) this.seal(this.open);
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  stats(): Record<string, number | string> {
    return { ...this.counters, ...this.platform.counters, tokenFetches: this.tokens.fetches, connectionsOpened: this.http.connectionsOpened };
  }

  /**
   * Ends the sink. After a clean run (no failure, no abort) every group this run finished is removed, and so is every
   * recovered group whose events were all claimed: their verdicts were committed. Otherwise the state stays.
   */
  async close(): Promise<void> {
    if (this.linger) clearTimeout(this.linger);
    this.linger = undefined;
    if (this.open) this.abortAll(new Error('the sink was closed while a batch was still filling'));
    await this.ready.catch(() => undefined);
    const clean = !this.aborted && this.failure === undefined;
    if (clean) {
      for (const dir of this.finished.splice(0)) removeGroup(dir);
      for (const group of this.recoveredGroups) if (group.settled && group.claimed >= group.total) removeGroup(group.dir);
    }
    this.stop.abort(new Error('the sink was closed'));
    await Promise.allSettled([...this.running]);
    if (this.ownsHttp) this.http.close();
  }
}
