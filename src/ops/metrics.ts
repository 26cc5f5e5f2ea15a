/**
 * Per-run metrics: a JSON file next to the state database (`runs/<id>.json`) and, on request, a Prometheus
 * textfile (node_exporter's textfile collector) describing the last run of each command. Both written atomically.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { RunSummary } from '../core/pipeline.js';
import { totalDeadLettered } from '../core/pipeline.js';
import { countersOf, type RunResult } from '../core/run.js';

/** What a run's metrics file holds. */
export interface RunMetrics {
  runId: number;
  command: string;
  startedAt: string;
  endedAt: string;
  durationMs: number;
  exitCode: number;
  error?: string;
  /** True when a signal stopped the run early (what was in flight was still settled and committed). */
  interrupted: boolean;
  totals: ReturnType<typeof countersOf>;
  sources: Array<{
    source: string;
    sink: string;
    read: number;
    sent: number;
    skipped: number;
    alreadySent: number;
    deadLettered: number;
    deadLetteredByStage: RunSummary['deadLettered'];
    byStatus: Record<string, number>;
    byChannel: Record<string, number>;
    skippedBy: Record<string, number>;
    durationMs: number;
    /** Records read per second over the source's duration. */
    recordsPerSecond: number;
    /** Sink figures: retries, 429s, concurrency… as the sink reports them. */
    sinkStats: Record<string, number | string>;
    mapperStats: Record<string, number>;
  }>;
}

/** Builds the metrics of one finished run. */
export function runMetrics(command: string, result: RunResult, startedAt: Date, endedAt: Date): RunMetrics {
  const metrics: RunMetrics = {
    runId: result.runId,
    command,
    startedAt: startedAt.toISOString(),
    endedAt: endedAt.toISOString(),
    durationMs: endedAt.getTime() - startedAt.getTime(),
    exitCode: result.exitCode,
    interrupted: result.summaries.some((s) => s.interrupted),
    totals: countersOf(result.summaries),
    sources: result.summaries.map((s) => ({
      source: s.source,
      sink: s.sink,
      read: s.read,
      sent: s.sent,
      skipped: s.skipped,
      alreadySent: s.alreadySent,
      deadLettered: totalDeadLettered(s),
      deadLetteredByStage: s.deadLettered,
      byStatus: s.byStatus,
      byChannel: s.byChannel,
      skippedBy: s.skippedBy,
      durationMs: s.durationMs,
      recordsPerSecond: s.durationMs > 0 ? Math.round((s.read / s.durationMs) * 1000 * 10) / 10 : 0,
      sinkStats: s.sinkStats,
      mapperStats: s.mapperStats,
    })),
  };
  if (result.error) metrics.error = result.error;
  return metrics;
}

/** The folder holding per-run metrics files: `runs/` next to the state file. */
export function metricsDir(statePath: string): string {
  return join(dirname(statePath), 'runs');
}

function writeAtomically(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Writes `runs/<id>.json` next to the state file and returns its path. */
export function writeRunMetrics(statePath: string, metrics: RunMetrics): string {
  const path = join(metricsDir(statePath), `${metrics.runId}.json`);
  writeAtomically(path, JSON.stringify(metrics, null, 2) + '\n');
  return path;
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labels = (l: Record<string, string>) =>
  `{${Object.entries(l)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',')}}`;

/** Renders the metrics in the Prometheus text exposition format (gauges about the last run). */
export function prometheusText(m: RunMetrics): string {
  const lines: string[] = [];
  const metric = (name: string, help: string, samples: Array<[Record<string, string>, number]>) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`);
    for (const [l, v] of samples) lines.push(`${name}${labels(l)} ${Number.isFinite(v) ? v : 0}`);
  };
  const c = { command: m.command };
  metric('xdm_feedback_last_run_id', 'Id of the last run (runs table of the state file).', [[c, m.runId]]);
  metric('xdm_feedback_last_run_timestamp_seconds', 'When the last run ended, Unix time.', [[c, Date.parse(m.endedAt) / 1000]]);
  metric('xdm_feedback_last_run_duration_seconds', 'Duration of the last run.', [[c, m.durationMs / 1000]]);
  metric('xdm_feedback_last_run_exit_code', 'Exit code of the last run: 0 ok, 1 fatal, 2 bad config, 3 dead letters.', [[c, m.exitCode]]);
  metric('xdm_feedback_last_run_interrupted', '1 when a signal stopped the last run early.', [[c, m.interrupted ? 1 : 0]]);
  const outcomes: Array<[string, (s: RunMetrics['sources'][number]) => number]> = [
    ['read', (s) => s.read],
    ['sent', (s) => s.sent],
    ['skipped', (s) => s.skipped],
    ['already_sent', (s) => s.alreadySent],
    ['dead_lettered', (s) => s.deadLettered],
  ];
  metric(
    'xdm_feedback_last_run_records',
    'Records of the last run per source and outcome.',
    m.sources.flatMap((s) => outcomes.map(([outcome, pick]): [Record<string, string>, number] => [{ ...c, source: s.source, outcome }, pick(s)])),
  );
  metric(
    'xdm_feedback_last_run_dead_letters',
    'Dead-lettered records of the last run per source and stage.',
    m.sources.flatMap((s) => Object.entries(s.deadLetteredByStage).map(([stage, n]): [Record<string, string>, number] => [{ ...c, source: s.source, stage }, n])),
  );
  metric(
    'xdm_feedback_last_run_records_per_second',
    'Records read per second in the last run per source.',
    m.sources.map((s): [Record<string, string>, number] => [{ ...c, source: s.source }, s.recordsPerSecond]),
  );
  const sinkSamples = m.sources.flatMap((s) =>
    Object.entries(s.sinkStats)
      .filter((e): e is [string, number] => typeof e[1] === 'number')
      .map(([stat, v]): [Record<string, string>, number] => [{ ...c, source: s.source, sink: s.sink, stat }, v]),
  );
  if (sinkSamples.length > 0) metric('xdm_feedback_last_run_sink_stat', 'Sink figures of the last run (retries, throttles, concurrency…).', sinkSamples);
  return lines.join('\n') + '\n';
}

/** Writes the Prometheus textfile atomically (the collector never sees a half-written file). */
export function writePrometheusTextfile(path: string, metrics: RunMetrics): void {
  writeAtomically(path, prometheusText(metrics));
}
