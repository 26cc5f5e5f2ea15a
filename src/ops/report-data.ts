/** The numbers behind the delivery report, straight from the state database (ledger, dead letters, runs). */
import type { Db } from '../store/db.js';
import { num } from './format.js';
import {
  deadLetterReasons,
  hasColumn,
  ledgerCountsBy,
  ledgerDailySeries,
  ledgerTotal,
  retryCountDistribution,
  runsBetween,
  type Counts,
  type EventTimeWindow,
  type SeriesPoint,
} from './queries.js';

/** One chart: its kind, category labels and one numeric series per dataset, in label order. */
export interface ChartSpec {
  id: string;
  title: string;
  /** What the chart shows and where the numbers come from. */
  note: string;
  type: 'bar' | 'line' | 'doughnut';
  /** Horizontal bars (long labels). */
  horizontal?: boolean;
  stacked?: boolean;
  labels: string[];
  datasets: Array<{ label: string; data: number[] }>;
}

export interface ReportTable {
  title: string;
  headers: string[];
  rows: Array<Array<string | number>>;
}

export interface ReportData {
  title: string;
  generatedAt: string;
  window: EventTimeWindow;
  totals: { events: number; outcomes: number; interactions: number; runs: number; openDeadLetters: number };
  charts: ChartSpec[];
  tables: ReportTable[];
}

const OUTCOME = "event_type = 'message.feedback'";
const TRACKING = "event_type = 'message.tracking'";

/** Pivots `[day, key, n]` points into labels (days) and one dataset per key. */
export function pivot(points: SeriesPoint[], keys?: string[]): { labels: string[]; datasets: Array<{ label: string; data: number[] }> } {
  const labels = [...new Set(points.map((p) => p.day))].sort();
  const allKeys = keys ?? [...new Set(points.map((p) => p.key))].sort();
  const index = new Map(labels.map((d, i) => [d, i]));
  const datasets = allKeys.map((key) => {
    const data = labels.map(() => 0);
    for (const p of points) if (p.key === key) data[index.get(p.day)!]! += p.n;
    return { label: key, data };
  });
  return { labels, datasets };
}

const single = (label: string, counts: Counts) => ({ labels: counts.map((c) => c[0]), datasets: [{ label, data: counts.map((c) => c[1]) }] });

/** Collects every chart and table of the report for the window (event time; runs by start, dead letters by creation). */
export function buildReportData(db: Db, window: EventTimeWindow = {}, title = 'xdm-feedback delivery report'): ReportData {
  const charts: ChartSpec[] = [];
  const tables: ReportTable[] = [];

  const byChannelDay = ledgerDailySeries(db, 'channel', window, `AND ${OUTCOME}`);
  charts.push({
    id: 'outcomes-by-channel',
    title: 'Outcomes by channel over time',
    note: 'message.feedback events sent, per UTC day of the outcome, stacked by channel.',
    type: 'bar',
    stacked: true,
    ...pivot(byChannelDay),
  });

  const statusByChannel = db
    .prepare(
      `SELECT coalesce(status, '(none)') AS status, coalesce(channel, '(none)') AS channel, count(*) AS n FROM ledger
       WHERE event_time >= ? AND event_time < ? AND ${OUTCOME} GROUP BY status, channel ORDER BY status, channel`,
    )
    .all(window.from ?? '', window.to ?? '\uffff') as Array<{ status: string; channel: string; n: number }>;
  const statusChannels = [...new Set(statusByChannel.map((r) => r.channel))].sort();
  const statuses = [...new Set(statusByChannel.map((r) => r.status))].sort();
  charts.push({
    id: 'status-by-channel',
    title: 'feedbackStatus by channel',
    note: 'message.feedback events sent, by feedbackStatus, one bar group per status.',
    type: 'bar',
    labels: statuses,
    datasets: statusChannels.map((channel) => ({
      label: channel,
      data: statuses.map((s) => statusByChannel.find((r) => r.status === s && r.channel === channel)?.n ?? 0),
    })),
  });
  tables.push({
    title: 'Outcomes by feedbackStatus and channel',
    headers: ['feedbackStatus', ...statusChannels, 'total'],
    rows: statuses.map((s) => {
      const cells = statusChannels.map((c) => statusByChannel.find((r) => r.status === s && r.channel === c)?.n ?? 0);
      return [s, ...cells, cells.reduce((a, b) => a + b, 0)];
    }),
  });

  const bounces = db
    .prepare(
      `SELECT coalesce(failure_type, '(none)') AS type, coalesce(channel, '(none)') AS channel, count(*) AS n FROM ledger
       WHERE event_time >= ? AND event_time < ? AND status = 'bounce' GROUP BY type, channel ORDER BY type, channel`,
    )
    .all(window.from ?? '', window.to ?? '\uffff') as Array<{ type: string; channel: string; n: number }>;
  const bounceTypes = [...new Set(['soft', 'hard', ...bounces.map((b) => b.type)])];
  const bounceChannels = [...new Set(bounces.map((b) => b.channel))].sort();
  charts.push({
    id: 'bounce-soft-hard',
    title: 'Bounces: soft vs hard',
    note: 'feedbackStatus bounce, by messageFailure.type, per channel.',
    type: 'bar',
    stacked: true,
    labels: bounceTypes,
    datasets: bounceChannels.map((channel) => ({
      label: channel,
      data: bounceTypes.map((t) => bounces.find((b) => b.type === t && b.channel === channel)?.n ?? 0),
    })),
  });

  const categories = ledgerCountsBy(db, 'failure_category', window, 'AND failure_category IS NOT NULL');
  charts.push({
    id: 'failure-categories',
    title: 'Failure categories',
    note: 'messageFailure.category of failed outcomes: sync (inside the sending platform) vs async (provider/carrier reports).',
    type: 'doughnut',
    ...single('events', categories),
  });
  const failureTypes = ledgerCountsBy(db, 'failure_type', window, 'AND failure_type IS NOT NULL');
  tables.push({ title: 'Failures by category', headers: ['category', 'events'], rows: categories });
  tables.push({ title: 'Failures by type', headers: ['type', 'events'], rows: failureTypes });

  const codes = ledgerCountsBy(db, 'failure_code', window, 'AND failure_code IS NOT NULL', 15);
  charts.push({
    id: 'top-failure-codes',
    title: 'Top failure codes',
    note: 'messageFailure.code of failed outcomes (SMTP, Twilio, platform error codes), top 15.',
    type: 'bar',
    horizontal: true,
    ...single('events', codes),
  });
  tables.push({ title: 'Top failure codes', headers: ['code', 'events'], rows: codes });

  if (hasColumn(db, 'ledger', 'failure_reason')) {
    const failureReasons = (
      db
        .prepare(
          `SELECT substr(failure_reason, 1, 200) AS k, count(*) AS n FROM ledger
           WHERE event_time >= ? AND event_time < ? AND failure_reason IS NOT NULL
           GROUP BY k ORDER BY n DESC, k LIMIT 10`,
        )
        .all(window.from ?? '', window.to ?? '\uffff') as Array<{ k: string; n: number }>
    ).map((r): [string, number] => [r.k, r.n]);
    charts.push({
      id: 'top-failure-reasons',
      title: 'Top failure reasons',
      note: 'messageFailure.reason of failed outcomes as the provider worded it, top 10.',
      type: 'bar',
      horizontal: true,
      labels: failureReasons.map(([k]) => (k.length > 70 ? k.slice(0, 67) + '...' : k)),
      datasets: [{ label: 'events', data: failureReasons.map(([, n]) => n) }],
    });
    tables.push({ title: 'Top failure reasons', headers: ['reason', 'events'], rows: failureReasons });
  }

  const reasons = deadLetterReasons(db, window, 10);
  charts.push({
    id: 'top-dead-letter-reasons',
    title: 'Top reasons records were dead-lettered',
    note: 'Records the connector could not deliver (decode, map, validate, ingest), by reason, top 10.',
    type: 'bar',
    horizontal: true,
    labels: reasons.map((r) => `${r.stage}: ${r.reason.length > 70 ? r.reason.slice(0, 67) + '...' : r.reason}`),
    datasets: [{ label: 'records', data: reasons.map((r) => r.n) }],
  });
  tables.push({ title: 'Top dead-letter reasons', headers: ['stage', 'reason', 'records'], rows: reasons.map((r) => [r.stage, r.reason, r.n]) });

  const retries = retryCountDistribution(db, window);
  charts.push({
    id: 'retry-count',
    title: 'retryCount distribution',
    note: 'Outcome events by messageDeliveryfeedback.retryCount (earlier delayed or soft-failed attempts).',
    type: 'bar',
    labels: retries.map((r) => String(r[0])),
    datasets: [{ label: 'events', data: retries.map((r) => r[1]) }],
  });
  tables.push({ title: 'retryCount distribution', headers: ['retryCount', 'events'], rows: retries });

  const exclusions = ledgerCountsBy(db, 'exclusion_code', window, 'AND exclusion_code IS NOT NULL');
  charts.push({
    id: 'exclusions',
    title: 'Exclusions',
    note: 'feedbackStatus exclude, by messageExclusion.code.',
    type: 'bar',
    ...single('events', exclusions),
  });
  tables.push({ title: 'Exclusions', headers: ['code', 'events'], rows: exclusions });

  const interactions = ledgerDailySeries(db, 'status', window, `AND ${TRACKING}`);
  const interactionKeys = [...new Set(['open', 'click', ...interactions.map((p) => p.key)])];
  charts.push({
    id: 'opens-clicks',
    title: 'Opens and clicks over time',
    note: 'message.tracking events sent, per UTC day, by interactionType.',
    type: 'line',
    ...pivot(interactions, interactionKeys),
  });
  tables.push({
    title: 'Interactions',
    headers: ['interactionType', 'events'],
    rows: ledgerCountsBy(db, 'status', window, `AND ${TRACKING}`),
  });

  const runs = runsBetween(db, window).filter((r) => r.endedAt !== null);
  charts.push({
    id: 'throughput',
    title: 'Throughput per run',
    note: 'Records read per second of each finished run (read / run duration).',
    type: 'bar',
    labels: runs.map((r) => `#${r.id} ${r.command}`),
    datasets: [{ label: 'records/s', data: runs.map((r) => throughput(num(r.counters, 'read'), r.durationMs)) }],
  });
  tables.push({
    title: 'Runs',
    headers: ['run', 'command', 'started (UTC)', 'seconds', 'read', 'sent', 'dead-lettered', 'records/s', 'exit'],
    rows: runs.map((r) => [
      r.id,
      r.command,
      r.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ''),
      Math.round((r.durationMs ?? 0) / 100) / 10,
      num(r.counters, 'read'),
      num(r.counters, 'sent'),
      num(r.counters, 'deadLettered'),
      throughput(num(r.counters, 'read'), r.durationMs),
      r.exitCode ?? '-',
    ]),
  });

  const count = (sql: string, ...args: unknown[]) => (db.prepare(sql).get(...args) as { n: number }).n;
  return {
    title,
    generatedAt: new Date().toISOString(),
    window,
    totals: {
      events: ledgerTotal(db, window),
      outcomes: count(`SELECT count(*) AS n FROM ledger WHERE event_time >= ? AND event_time < ? AND ${OUTCOME}`, window.from ?? '', window.to ?? '\uffff'),
      interactions: count(`SELECT count(*) AS n FROM ledger WHERE event_time >= ? AND event_time < ? AND ${TRACKING}`, window.from ?? '', window.to ?? '\uffff'),
      runs: runs.length,
      openDeadLetters: count('SELECT count(*) AS n FROM dead_letters WHERE replayed_at IS NULL'),
    },
    charts,
    tables,
  };
}

/** Records per second, one decimal; 0 when the duration is unknown or zero. */
export function throughput(records: number, durationMs: number | null): number {
  return durationMs && durationMs > 0 ? Math.round((records / durationMs) * 10_000) / 10 : 0;
}
