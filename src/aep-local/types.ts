/** Options, fault plans and the handle of the local AEP imitation. */
import type { EventValidator } from '../core/types.js';

/** The credentials the imitation accepts (IMS client, org, sandbox). */
export interface LocalCredentials {
  clientId: string;
  clientSecret: string;
  imsOrgId: string;
  sandboxName: string;
  /** Scopes a token request may ask for; a request naming another scope gets `invalid_scope`. */
  scopes: string[];
}

/** A streaming inlet (DCS connection). */
export interface InletConfig {
  /** The CONNECTION_ID in `/collection/{id}`. */
  id: string;
  /** When true (the default), a valid `Authorization: Bearer` token is required. */
  authenticated?: boolean;
  /** The dataflow id messages must carry in `header.flowId`; omitted = any non-empty flowId. */
  flowId?: string;
}

/** A dataset and the schema its records must follow. */
export interface DatasetConfig {
  id: string;
  name?: string;
  schemaRef: { id: string; contentType: string };
}

/** Groups of routes a fault plan can target. */
export type FaultRoute = 'ims' | 'dcs' | 'import' | 'catalog' | 'export' | 'schemaregistry';

/**
 * Faults to inject. Scripted steps are consumed first, one per targeted request, so tests can be exact;
 * shares are drawn from a seeded generator, so runs with the same seed and request order repeat exactly.
 */
export interface FaultPlan {
  /** Route groups the faults apply to. @default ['dcs', 'import', 'catalog', 'export', 'schemaregistry'] */
  routes?: FaultRoute[];
  /**
   * Scripted answers, one per targeted request, in order: `ok`, `429` / `429:{retryAfterSeconds}`,
   * `500`, `502`, `503` / `503:{retryAfterSeconds}`, `504`, `413`, `401`, `reset` (socket destroyed before the
   * request is handled), `reset-after` (handled — events stored — then the socket is destroyed: the answer is lost),
   * `slow:{ms}` (answered normally after a delay). Once empty, the shares below apply.
   */
  script?: string[];
  /** Share (0..1) of requests answered 429 with `Retry-After`. @default 0 */
  share429?: number;
  /** `Retry-After` seconds sent with 429 and 503. @default 1 */
  retryAfterSeconds?: number;
  /** Share (0..1) of requests answered with a 5xx status. @default 0 */
  share5xx?: number;
  /** The 5xx statuses drawn from, uniformly. @default [500, 502, 503, 504] */
  statuses5xx?: number[];
  /** Share (0..1) of requests whose connection is destroyed without an answer. @default 0 */
  shareReset?: number;
  /** Delay added to slow answers, in ms. @default 0 */
  slowMs?: number;
  /** Share (0..1) of requests answered slowly (1 when `slowMs` is set and this is not). */
  slowShare?: number;
  /** Request size above which DCS answers 413 (overrides the server's limit when lower). */
  maxRequestBytes?: number;
  /** Tokens stop working this many seconds after issue, whatever `expires_in` said. */
  tokenExpiresAfterSeconds?: number;
  /** Share (0..1) of otherwise valid streamed messages rejected one by one (400 in the 207). @default 0 */
  rejectShare?: number;
  /** Streamed messages whose `_id` matches this regular expression are rejected (JSON-friendly form). */
  rejectIdPattern?: string;
  /** Streamed messages whose `_id` satisfies this predicate are rejected (in-process form). */
  rejectIds?: (id: string) => boolean;
}

/** Options of {@link startAepLocal}. */
export interface AepLocalOptions {
  /** TCP port on 127.0.0.1. @default 0 (an ephemeral port) */
  port?: number;
  /** Overrides of the accepted credentials. @default localDefaults */
  credentials?: Partial<LocalCredentials>;
  /** Lifetime of issued tokens in seconds, advertised as `expires_in`. @default 86399 */
  tokenTtlSeconds?: number;
  /** Streaming inlets. @default one authenticated inlet `localDefaults.inletId` with `localDefaults.flowId` */
  inlets?: InletConfig[];
  /** Known datasets. @default the feedback and tracking datasets of `localDefaults`, both on the default schema */
  datasets?: DatasetConfig[];
  /** Validates each `xdmEntity` and batch record. @default createValidator() (the committed short-form schema) */
  validator?: EventValidator;
  /**
   * Keep accepted events in memory (for `accepted()`, `acceptedIds()`, `/__local/events` and duplicate counts).
   * `false` only counts them, so a benchmark of millions of events does not grow the imitation. @default true
   */
  retainEvents?: boolean;
  /** The tenant schema the Schema Registry serves (xed-full form). @default the committed short-form schema, wrapped in tenant metadata */
  tenantSchema?: Record<string, unknown>;
  /** DCS request limit in bytes. @default 1048576 */
  maxRequestBytes?: number;
  /** Key of the status in a failed 207 entry: Adobe's docs say `statusCode`, Adobe's Kafka sink fixture `status`. @default 'statusCode' */
  dcsFailureKey?: 'statusCode' | 'status';
  /** Whether failed 207 entries carry an `xactionId` (as in the Kafka sink fixture). @default false */
  dcsFailureXactionId?: boolean;
  /** Delay between batch COMPLETE and the end of processing, in ms. @default 100 */
  batchProcessingDelayMs?: number;
  /** Whether a missing `x-sandbox-name` is refused (the OpenAPI files require it). @default true */
  requireSandboxHeader?: boolean;
  /** Faults injected from the start. */
  faults?: FaultPlan;
  /** Seed of the fault generator. @default 1 */
  seed?: number;
  /** Clock in epoch ms, for token expiry tests without sleeping. @default Date.now */
  now?: () => number;
}

/** One event the imitation accepted (streamed, or a valid line of a successful batch). */
export interface AcceptedEvent {
  datasetId: string;
  event: Record<string, unknown>;
  via: 'streaming' | 'batch';
  /** DCS xactionId or Catalog batch id. */
  ref: string;
  receivedAtMs: number;
}

/** Counters of what the imitation saw. */
export interface AepLocalStats {
  /** Requests by route name, then by HTTP status (`reset` for destroyed connections). */
  requests: Record<string, Record<string, number>>;
  /** Injected faults by kind (`429`, `503`, `reset`, `slow`, `413`, `reject`, `token-expired`…). */
  faults: Record<string, number>;
  /** Streamed messages received, accepted and rejected (batch records are counted in `batches`). */
  messages: { received: number; accepted: number; rejected: number };
  /** Accepted events whose `_id` had been accepted before (the data lake keeps both). */
  duplicates: number;
  /** Events accepted by any path. */
  accepted: number;
  batches: { created: number; success: number; failed: number; aborted: number };
}

/** A running imitation. */
export interface AepLocal {
  /** Base URL, e.g. `http://127.0.0.1:43121`; IMS, DCS and platform routes all live under it. */
  readonly url: string;
  readonly port: number;
  /** What the imitation accepts. */
  readonly credentials: LocalCredentials;
  /** The default (first) inlet id. */
  readonly inletId: string;
  /** The default inlet's dataflow id. */
  readonly flowId: string;
  readonly inlets: InletConfig[];
  readonly datasets: DatasetConfig[];
  /** Full URLs a connector configuration needs. */
  readonly endpoints: { imsTokenUrl: string; dcsUrl: string; dcsBatchUrl: string; platformUrl: string };
  /** Accepted events in order of acceptance. */
  accepted(): AcceptedEvent[];
  /** `_id`s of accepted events in order (duplicates included). */
  acceptedIds(): string[];
  stats(): AepLocalStats;
  /** Replaces the fault plan (and its script). */
  setFaults(plan: FaultPlan | undefined): void;
  /** Issues a valid token directly, as if requested from IMS. */
  issueToken(): string;
  /** Invalidates every token issued so far (the next call with one gets 401). */
  revokeTokens(): void;
  /** Resolves once no batch is waiting to be processed. */
  settled(): Promise<void>;
  /** Forgets accepted events, batches, counters and faults. */
  reset(): void;
  close(): Promise<void>;
}
