/**
 * An in-process imitation of a kafkajs `Consumer` for one group member: partitions with messages, fetch positions
 * that (like kafkajs) restart from the committed offset after a rebalance, eachBatch delivery, commits, pause/resume,
 * rebalances and crashes on demand.
 */
import type { Batch, Consumer, ConsumerRunConfig, EachBatchPayload, InstrumentationEvent, KafkaMessage } from 'kafkajs';

const EVENTS = {
  HEARTBEAT: 'consumer.heartbeat',
  COMMIT_OFFSETS: 'consumer.commit_offsets',
  GROUP_JOIN: 'consumer.group_join',
  FETCH: 'consumer.fetch',
  FETCH_START: 'consumer.fetch_start',
  START_BATCH_PROCESS: 'consumer.start_batch_process',
  END_BATCH_PROCESS: 'consumer.end_batch_process',
  CONNECT: 'consumer.connect',
  DISCONNECT: 'consumer.disconnect',
  STOP: 'consumer.stop',
  CRASH: 'consumer.crash',
  REBALANCING: 'consumer.rebalancing',
  RECEIVED_UNSUBSCRIBED_TOPICS: 'consumer.received_unsubscribed_topics',
  REQUEST: 'consumer.network.request',
  REQUEST_TIMEOUT: 'consumer.network.request_timeout',
  REQUEST_QUEUE_SIZE: 'consumer.network.request_queue_size',
} as const;

export interface FakeMessage {
  key?: string;
  value: Buffer | string | null;
}

/** The broker side shared by several fake members: the log of each partition and the group's committed offsets. */
export class FakeCluster {
  readonly logs = new Map<string, KafkaMessage[]>();
  /** Committed offsets (the next offset to read), by `topic/partition`. */
  readonly committed = new Map<string, bigint>();
  /** Every commitOffsets call, in order. */
  readonly commits: Array<{ topic: string; partition: number; offset: string }> = [];

  produce(topic: string, partition: number, messages: FakeMessage[]): void {
    const key = `${topic}/${partition}`;
    const log = this.logs.get(key) ?? [];
    for (const m of messages) {
      log.push({
        key: m.key === undefined ? null : Buffer.from(m.key),
        value: m.value === null ? null : Buffer.from(m.value),
        timestamp: String(Date.now()),
        attributes: 0,
        offset: String(log.length),
        headers: {},
      });
    }
    this.logs.set(key, log);
  }

  partitionsOf(topic: string): number[] {
    return [...this.logs.keys()].filter((k) => k.startsWith(`${topic}/`)).map((k) => Number(k.slice(topic.length + 1)));
  }
}

// `any`: one listener type serves every overload of Consumer.on, each with its own payload.
type Listener = (event: InstrumentationEvent<any>) => void;

export class FakeConsumer implements Consumer {
  readonly events = EVENTS as unknown as Consumer['events'];
  runConfig: ConsumerRunConfig | undefined;
  subscribed: string[] = [];
  fromBeginning = false;
  connected = false;
  stopped = false;
  readonly pausedTopics = new Set<string>();
  /** Assignment by `topic/partition`; by default every partition of the subscribed topics. */
  assignment: string[] | undefined;
  private readonly listeners = new Map<string, Set<Listener>>();
  private readonly positions = new Map<string, bigint>();
  private generation = 0;
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    readonly cluster: FakeCluster,
    private readonly options: { batchSize?: number; assignment?: string[]; neverJoin?: boolean } = {},
  ) {
    this.assignment = options.assignment;
  }

  async connect(): Promise<void> {
    this.connected = true;
  }

  async disconnect(): Promise<void> {
    this.running = false;
    this.connected = false;
    await this.loop;
  }

  async subscribe(subscription: { topics: Array<string | RegExp>; fromBeginning?: boolean } | { topic: string | RegExp; fromBeginning?: boolean }): Promise<void> {
    const topics = 'topics' in subscription ? subscription.topics : [subscription.topic];
    this.subscribed.push(...topics.map(String));
    this.fromBeginning = subscription.fromBeginning ?? false;
  }

  async run(config?: ConsumerRunConfig): Promise<void> {
    if (!this.connected) throw new Error('consumer not connected');
    this.runConfig = config;
    this.running = true;
    if (this.options.neverJoin) return;
    this.join(this.assignment ?? this.subscribed.flatMap((t) => this.cluster.partitionsOf(t).map((p) => `${t}/${p}`)));
    this.loop = this.fetchLoop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.running = false;
    await this.loop;
  }

  async commitOffsets(topicPartitions: Array<{ topic: string; partition: number; offset: string }>): Promise<void> {
    if (!this.runConfig) throw new Error('Consumer group was not initialized, consumer#run must be called first');
    for (const tp of topicPartitions) {
      this.cluster.committed.set(`${tp.topic}/${tp.partition}`, BigInt(tp.offset));
      this.cluster.commits.push({ topic: tp.topic, partition: tp.partition, offset: tp.offset });
    }
  }

  /** Simulates a rebalance: in-flight batches go stale, fetching restarts from committed offsets, a new assignment. */
  rebalance(assignment: string[]): void {
    this.emit(EVENTS.REBALANCING, { groupId: 'fake', memberId: 'fake-member' });
    this.join(assignment);
  }

  /** Simulates a fatal consumer crash (kafkajs gives up and does not restart). */
  crash(error: Error): void {
    this.running = false;
    this.emit(EVENTS.CRASH, { error, groupId: 'fake', restart: false });
  }

  seek(): void {
    throw new Error('not implemented in the fake');
  }

  async describeGroup(): Promise<never> {
    throw new Error('not implemented in the fake');
  }

  pause(topics: Array<{ topic: string; partitions?: number[] }>): void {
    for (const t of topics) this.pausedTopics.add(t.topic);
  }

  paused(): Array<{ topic: string; partitions: number[] }> {
    return [...this.pausedTopics].map((topic) => ({ topic, partitions: this.cluster.partitionsOf(topic) }));
  }

  resume(topics: Array<{ topic: string; partitions?: number[] }>): void {
    for (const t of topics) this.pausedTopics.delete(t.topic);
  }

  on(eventName: string, listener: Listener): () => void {
    const set = this.listeners.get(eventName) ?? new Set<Listener>();
    set.add(listener);
    this.listeners.set(eventName, set);
    return () => set.delete(listener);
  }

  logger(): never {
    throw new Error('not implemented in the fake');
  }

  private join(assignment: string[]): void {
    this.generation++;
    this.assignment = assignment;
    // Like kafkajs: after a (re)join, fetching restarts from the committed offsets.
    this.positions.clear();
    const memberAssignment: Record<string, number[]> = {};
    for (const tp of assignment) {
      const slash = tp.lastIndexOf('/');
      (memberAssignment[tp.slice(0, slash)] ??= []).push(Number(tp.slice(slash + 1)));
    }
    this.emit(EVENTS.GROUP_JOIN, { duration: 1, groupId: 'fake', isLeader: true, leaderId: 'fake-member', groupProtocol: 'RoundRobinAssigner', memberId: 'fake-member', memberAssignment });
  }

  private emit(type: string, payload: unknown): void {
    for (const listener of this.listeners.get(type) ?? []) listener({ id: '0', type, timestamp: Date.now(), payload });
  }

  private async fetchLoop(): Promise<void> {
    const batchSize = this.options.batchSize ?? 300;
    while (this.running) {
      let delivered = false;
      for (const tp of this.assignment ?? []) {
        if (!this.running) break;
        const slash = tp.lastIndexOf('/');
        const topic = tp.slice(0, slash);
        const partition = Number(tp.slice(slash + 1));
        if (this.pausedTopics.has(topic)) continue;
        const log = this.cluster.logs.get(tp) ?? [];
        const start = this.positions.get(tp) ?? this.cluster.committed.get(tp) ?? (this.fromBeginning ? 0n : BigInt(log.length));
        if (start >= BigInt(log.length)) continue;
        const messages = log.slice(Number(start), Number(start) + batchSize);
        const generation = this.generation;
        const batch: Batch = {
          topic,
          partition,
          highWatermark: String(log.length),
          messages,
          isEmpty: () => messages.length === 0,
          firstOffset: () => messages[0]?.offset ?? null,
          lastOffset: () => messages.at(-1)?.offset ?? String(start - 1n),
          offsetLag: () => String(BigInt(log.length) - 1n - BigInt(messages.at(-1)!.offset)),
          offsetLagLow: () => String(BigInt(log.length) - 1n - start),
        };
        let resolved: bigint | undefined;
        const payload: EachBatchPayload = {
          batch,
          resolveOffset: (offset) => {
            resolved = BigInt(offset);
          },
          heartbeat: async () => undefined,
          pause: () => () => undefined,
          commitOffsetsIfNecessary: async () => undefined,
          uncommittedOffsets: () => ({ topics: [] }),
          isRunning: () => this.running,
          isStale: () => this.generation !== generation,
        };
        await this.runConfig!.eachBatch!(payload);
        delivered = true;
        if (this.generation === generation && resolved !== undefined) this.positions.set(tp, resolved + 1n);
        if (this.runConfig!.eachBatchAutoResolve !== false && this.generation === generation) {
          this.positions.set(tp, BigInt(batch.lastOffset()) + 1n);
        }
      }
      if (!delivered) await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}
