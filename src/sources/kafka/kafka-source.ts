/**
 * Consume/commit logic over a kafkajs `Consumer`: no auto-commit, offsets committed only for settled records,
 * rebalances respected (records of revoked partitions are no longer yielded nor committed).
 */
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import type { JsonObject, Position, Source, SourceContext, SourceItem } from '../../core/types.js';
import { errorMessage, RetryableError } from '../../errors.js';
import { silentLogger } from '../../log.js';
import { BATCH_SIZE } from '../shared/batcher.js';
import { decodeKafkaValue, type Framing, type SchemaLookup } from './wire-format.js';

/** The part of kafkajs's `Consumer` this source uses; a real consumer or an in-process imitation. */
export type ConsumerLike = Pick<
  Consumer,
  'connect' | 'disconnect' | 'subscribe' | 'run' | 'stop' | 'commitOffsets' | 'pause' | 'resume' | 'on' | 'events'
>;

/** What `enrich` learns about the message a record came from. */
export interface KafkaRecordMeta {
  topic: string;
  partition: number;
  offset: string;
  key: string | undefined;
  schemaName: string | undefined;
}

export interface KafkaSourceOptions {
  /** The source name (part of every `_id`). */
  name: string;
  topics: readonly string[];
  /** @default false */
  fromBeginning?: boolean;
  /** @default "auto" */
  framing?: Framing;
  /** Registry lookups for Avro binary values; undefined when no registry is configured. */
  lookup?: SchemaLookup;
  /** Keep reading forever instead of ending once caught up and idle. @default false */
  follow?: boolean;
  /** Without `follow`: end the read after this long with nothing new (counted from joining the group). @default 5000 */
  idleMs?: number;
  /** Fail the read when no partition assignment arrives within this time. @default 60000 */
  joinTimeoutMs?: number;
  /** Items kept queued between Kafka and the pipeline before fetching waits (back-pressure). @default 2000 */
  maxQueuedItems?: number;
  /** Adjusts each decoded record (e.g. names its OVO v2 type). */
  enrich?: (record: JsonObject, meta: KafkaRecordMeta) => JsonObject;
}

interface Chunk {
  stream: string;
  items: SourceItem[];
}

/** Per assigned partition: what this member yielded in its current ownership. */
interface PartitionState {
  /** First offset fetched in this ownership: commits below it belong to an earlier ownership and are dropped. */
  floor: bigint | undefined;
  /** Highest offset handed to the queue in this ownership (re-fetches after a rebalance are skipped). */
  queuedUpTo: bigint | undefined;
  /** The last batch's view of the partition end. */
  lastOffset: bigint | undefined;
  highWatermark: bigint | undefined;
}

/**
 * A Source reading Kafka through `createConsumer(log)` (called once, on the first read). Stream = `topic/partition`,
 * offset = the Kafka offset of the record; `commit` commits offset+1 per partition.
 */
export class KafkaConsumerSource implements Source {
  readonly name: string;
  private readonly options: Required<Pick<KafkaSourceOptions, 'fromBeginning' | 'framing' | 'follow' | 'idleMs' | 'joinTimeoutMs' | 'maxQueuedItems'>> &
    KafkaSourceOptions;
  private consumer: ConsumerLike | undefined;
  private started = false;
  private readonly partitions = new Map<string, PartitionState>();
  private assignmentKnown = false;
  private rebalancing = false;
  private queue: Chunk[] = [];
  private queuedItems = 0;
  private activeBatches = 0;
  private lastActivity = Date.now();
  private fatal: Error | undefined;
  private reading = false;
  private wakeReader: (() => void) | undefined;
  private wakeFetchers: Array<() => void> = [];
  private removeListeners: Array<() => void> = [];
  private log: Logger | undefined;

  constructor(
    private readonly createConsumer: (log: Logger) => ConsumerLike,
    options: KafkaSourceOptions,
  ) {
    this.name = options.name;
    this.options = {
      fromBeginning: false,
      framing: 'auto',
      follow: false,
      idleMs: 5000,
      joinTimeoutMs: 60_000,
      maxQueuedItems: 2000,
      ...options,
    };
  }

  async *read(ctx: SourceContext): AsyncGenerator<SourceItem[]> {
    this.log = ctx.log;
    this.reading = true;
    const onAbort = (): void => this.notifyReader();
    ctx.signal.addEventListener('abort', onAbort);
    try {
      await this.start();
      const startedAt = Date.now();
      this.lastActivity = startedAt;
      while (!ctx.signal.aborted) {
        if (this.fatal) throw this.fatal;
        if (!this.assignmentKnown && Date.now() - startedAt > this.options.joinTimeoutMs) {
          throw new RetryableError(
            `the consumer got no partition assignment for ${this.options.topics.join(', ')} within ${this.options.joinTimeoutMs} ms (do the topics exist, and are the brokers reachable?)`,
          );
        }
        const items = this.rebalancing ? undefined : this.take();
        if (items) {
          yield items;
          continue;
        }
        if (!this.options.follow && this.caughtUp()) break;
        await this.waitForData(this.options.follow && this.assignmentKnown ? undefined : this.options.idleMs);
      }
    } finally {
      ctx.signal.removeEventListener('abort', onAbort);
      this.reading = false;
      this.pauseAll();
    }
  }

  async commit(positions: Position[]): Promise<void> {
    const consumer = this.consumer;
    if (!consumer || positions.length === 0) return;
    const highest = new Map<string, bigint>();
    for (const p of positions) {
      const offset = BigInt(p.offset);
      const current = highest.get(p.stream);
      if (current === undefined || offset > current) highest.set(p.stream, offset);
    }
    const commits: Array<{ topic: string; partition: number; offset: string }> = [];
    for (const [stream, offset] of highest) {
      const state = this.partitions.get(stream);
      if (!state || state.floor === undefined || offset < state.floor) {
        // Revoked, or from an earlier ownership: the new owner's commits must not be overwritten.
        this.log?.debug({ stream, offset: offset.toString() }, 'not committing: partition not owned by this member now');
        continue;
      }
      const slash = stream.lastIndexOf('/');
      commits.push({ topic: stream.slice(0, slash), partition: Number(stream.slice(slash + 1)), offset: (offset + 1n).toString() });
    }
    if (commits.length > 0) await consumer.commitOffsets(commits);
  }

  async close(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    for (const remove of this.removeListeners) remove();
    this.removeListeners = [];
    this.releaseFetchers();
    if (!consumer) return;
    try {
      await consumer.stop();
    } finally {
      await consumer.disconnect();
    }
  }

  private async start(): Promise<void> {
    if (this.started) {
      this.consumer?.resume(this.options.topics.map((topic) => ({ topic })));
      return;
    }
    this.started = true;
    const consumer = this.createConsumer(this.log ?? silentLogger);
    this.consumer = consumer;
    this.removeListeners.push(
      consumer.on(consumer.events.GROUP_JOIN, (event) => this.onAssignment(event.payload.memberAssignment)),
      consumer.on(consumer.events.REBALANCING, () => {
        this.rebalancing = true;
      }),
      consumer.on(consumer.events.CRASH, (event) => {
        if (!event.payload.restart) {
          this.fatal = event.payload.error;
          this.notifyReader();
        }
      }),
    );
    await consumer.connect();
    await consumer.subscribe({ topics: [...this.options.topics], fromBeginning: this.options.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: (payload) => this.onBatch(payload),
    });
  }

  private onAssignment(assignment: Record<string, number[]>): void {
    const assigned = new Set<string>();
    for (const [topic, partitions] of Object.entries(assignment)) for (const p of partitions) assigned.add(`${topic}/${p}`);
    const revoked: string[] = [];
    for (const stream of this.partitions.keys()) {
      if (!assigned.has(stream)) {
        revoked.push(stream);
        this.partitions.delete(stream);
      }
    }
    for (const stream of assigned) {
      if (!this.partitions.has(stream)) {
        this.partitions.set(stream, { floor: undefined, queuedUpTo: undefined, lastOffset: undefined, highWatermark: undefined });
      }
    }
    if (revoked.length > 0) {
      const before = this.queuedItems;
      this.queue = this.queue.filter((chunk) => assigned.has(chunk.stream));
      this.queuedItems = this.queue.reduce((n, chunk) => n + chunk.items.length, 0);
      this.log?.info({ revoked, dropped: before - this.queuedItems }, 'partitions revoked by a rebalance; their queued records are dropped');
      this.releaseFetchers();
    }
    this.assignmentKnown = true;
    this.rebalancing = false;
    this.lastActivity = Date.now();
    this.notifyReader();
  }

  private async onBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const stream = `${batch.topic}/${batch.partition}`;
    const state = this.partitions.get(stream);
    if (!state || !this.reading) return;
    this.activeBatches++;
    this.lastActivity = Date.now();
    try {
      let items: SourceItem[] = [];
      for (const message of batch.messages) {
        if (!isRunning() || isStale() || this.partitions.get(stream) !== state) return;
        const offset = BigInt(message.offset);
        if (state.queuedUpTo !== undefined && offset <= state.queuedUpTo) {
          resolveOffset(message.offset);
          continue;
        }
        let item: SourceItem;
        try {
          item = await this.toItem(batch.topic, batch.partition, stream, message);
        } catch (error) {
          // The registry is unreachable (after retries): stop the run rather than skip or spin; nothing past the
          // records already queued is resolved or committed, so the next run starts here.
          if (items.length > 0) this.enqueue(stream, items);
          this.fatal = new RetryableError(`cannot decode ${stream}@${message.offset}: ${errorMessage(error)}`, undefined, undefined, { cause: error });
          this.notifyReader();
          return;
        }
        state.floor ??= offset;
        items.push(item);
        state.queuedUpTo = offset;
        state.lastOffset = offset;
        resolveOffset(message.offset);
        if (items.length >= BATCH_SIZE) {
          this.enqueue(stream, items);
          items = [];
          await this.waitForSpace(heartbeat, isRunning, isStale);
        }
      }
      if (items.length > 0) this.enqueue(stream, items);
      state.highWatermark = BigInt(batch.highWatermark);
      if (batch.messages.length > 0) state.lastOffset = BigInt(batch.lastOffset());
      await this.waitForSpace(heartbeat, isRunning, isStale);
    } finally {
      this.activeBatches--;
      this.lastActivity = Date.now();
      this.notifyReader();
    }
  }

  private async toItem(topic: string, partition: number, stream: string, message: KafkaMessage): Promise<SourceItem> {
    const position: Position = { stream, offset: message.offset };
    const decoded = await decodeKafkaValue(message.value, this.options.framing, this.options.lookup);
    if (!decoded.ok) {
      return { kind: 'undecodable', raw: rawText(message.value), reason: `${stream}@${message.offset}: ${decoded.reason}`, position };
    }
    let record = decoded.record;
    if (this.options.enrich) {
      record = this.options.enrich(record, {
        topic,
        partition,
        offset: message.offset,
        key: message.key ? message.key.toString('utf8') : undefined,
        schemaName: decoded.schemaName,
      });
    }
    const raw = decoded.framing === 'json' ? rawText(message.value) : JSON.stringify(record);
    return { kind: 'record', record, raw, position };
  }

  private enqueue(stream: string, items: SourceItem[]): void {
    this.queue.push({ stream, items });
    this.queuedItems += items.length;
    this.notifyReader();
  }

  /** Takes up to one batch of queued items (several small chunks are merged). */
  private take(): SourceItem[] | undefined {
    const first = this.queue.shift();
    if (!first) return undefined;
    let items = first.items;
    while (this.queue.length > 0 && items.length + this.queue[0]!.items.length <= BATCH_SIZE) {
      items = items.concat(this.queue.shift()!.items);
    }
    this.queuedItems -= items.length;
    this.releaseFetchers();
    return items;
  }

  /** Caught up: nothing queued or being fetched, every partition at its end, and idle long enough. */
  private caughtUp(): boolean {
    if (this.queue.length > 0 || this.activeBatches > 0 || !this.assignmentKnown || this.rebalancing) return false;
    const idle = Date.now() - this.lastActivity;
    if (idle < this.options.idleMs) return false;
    // A partition behind its high watermark gets more time (a slow fetch), but not forever (compacted or deleted ranges).
    if (idle >= 3 * this.options.idleMs) return true;
    for (const state of this.partitions.values()) {
      if (state.lastOffset !== undefined && state.highWatermark !== undefined && state.lastOffset + 1n < state.highWatermark) return false;
    }
    return true;
  }

  private waitForData(timeoutMs: number | undefined): Promise<void> {
    return new Promise((resolve) => {
      const timer =
        timeoutMs === undefined ? undefined : setTimeout(done, Math.max(50, this.options.idleMs - (Date.now() - this.lastActivity)));
      const self = this;
      function done(): void {
        if (timer) clearTimeout(timer);
        if (self.wakeReader === done) self.wakeReader = undefined;
        resolve();
      }
      this.wakeReader = done;
    });
  }

  private notifyReader(): void {
    this.wakeReader?.();
  }

  private async waitForSpace(heartbeat: () => Promise<void>, isRunning: () => boolean, isStale: () => boolean): Promise<void> {
    while (this.queuedItems >= this.options.maxQueuedItems && this.reading && isRunning() && !isStale()) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1000);
        this.wakeFetchers.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      await heartbeat();
    }
  }

  private releaseFetchers(): void {
    const waiting = this.wakeFetchers;
    this.wakeFetchers = [];
    for (const wake of waiting) wake();
  }

  private pauseAll(): void {
    this.releaseFetchers();
    if (!this.consumer || !this.started) return;
    try {
      this.consumer.pause(this.options.topics.map((topic) => ({ topic })));
    } catch (error) {
      this.log?.debug({ err: error }, 'could not pause the consumer');
    }
  }
}

function rawText(value: Buffer | null): string {
  if (value === null) return '';
  const start = value[0] === 0x7b || value[0] === 0x20 || value[0] === 0x0a ? 0 : -1;
  return start === 0 ? value.toString('utf8') : `base64:${value.toString('base64')}`;
}
