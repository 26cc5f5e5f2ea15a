/** What the parent asks a case child to run, and what the child answers. */
import type { GeneratedInput } from './generate.js';
import type { AepEndpoints } from './ipc.js';

export type CaseKind = 'connector' | 'floor' | 'naive' | 'stages';

export interface CaseSpec {
  kind: CaseKind;
  /** The name printed in the results. */
  name: string;
  inputs: GeneratedInput[];
  endpoints: AepEndpoints;
  /** A folder of this case's own (state database, output files). */
  workDir: string;
  concurrency: number;
  /** connector: which sink. */
  sink?: 'adobe-streaming' | 'file' | 'adobe-batch';
  /** connector with the file sink: the output; floor: the envelopes to post. */
  envelopesPath?: string;
  /** Node options of the case's process (as a user would put in NODE_OPTIONS). */
  nodeOptions?: string[];
}

/** Milliseconds of the run loop per stage (see TimedStage in src/core/pipeline.ts). */
export type StageMs = Record<string, number>;

export interface CaseResult {
  /** Input records processed (read by the sources; envelopes for the floor). */
  records: number;
  /** Events that reached the sink and were accepted (posted envelopes for the floor). */
  events: number;
  seconds: number;
  /** Bytes of the case's input: source files for connectors, request bodies for the floor. */
  bytes: number;
  /** Peak RSS of the child in MB. */
  peakRssMb: number;
  /** CPU time (user + system) of the child over its whole life, in seconds. */
  cpuSeconds: number;
  /** The Node options the child ran with (profiling options left out). */
  nodeOptions: string[];
  stages?: StageMs;
  /** Isolated per-stage rates (stages case). */
  rates?: Record<string, { records: number; seconds: number; perSecond: number }>;
  details?: Record<string, unknown>;
}

export type CaseMessage = { type: 'result'; result: CaseResult } | { type: 'error'; message: string };

/** What a case runner measures itself; the child adds the process figures. */
export type CaseOutcome = Omit<CaseResult, 'peakRssMb' | 'cpuSeconds' | 'nodeOptions'>;
