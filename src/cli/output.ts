/** Human output for the terminal: aligned tables and the run summary. `--json` output bypasses all of this. */
import type { RunSummary } from '../core/pipeline.js';
import { totalDeadLettered } from '../core/pipeline.js';

export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number'));
  const line = (r: string[]) =>
    r.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(cells[0]!), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const sortedCounts = (counts: Record<string, number>) => Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));

export function renderSummaries(summaries: RunSummary[]): string {
  const out: string[] = [];
  out.push(
    table(
      ['source', 'read', 'sent', 'skipped', 'already sent', 'dead-lettered', 'seconds'],
      summaries.map((s) => [s.source, s.read, s.sent, s.skipped, s.alreadySent, totalDeadLettered(s), Number((s.durationMs / 1000).toFixed(2))]),
    ),
  );
  const merge = (pick: (s: RunSummary) => Record<string, number>) => {
    const all: Record<string, number> = {};
    for (const s of summaries) for (const [k, v] of Object.entries(pick(s))) all[k] = (all[k] ?? 0) + v;
    return all;
  };
  const byStatus = merge((s) => s.byStatus);
  const byChannel = merge((s) => s.byChannel);
  const dead = merge((s) => s.deadLettered);
  if (Object.keys(byStatus).length > 0) out.push('', table(['sent by feedbackStatus / interaction', 'events'], sortedCounts(byStatus)));
  if (Object.keys(byChannel).length > 0) out.push('', table(['sent by channel', 'events'], sortedCounts(byChannel)));
  const deadRows = sortedCounts(dead).filter(([, n]) => n > 0);
  if (deadRows.length > 0) out.push('', table(['dead-lettered at stage', 'records'], deadRows));
  const sinkStats = summaries.at(-1)?.sinkStats ?? {};
  if (Object.keys(sinkStats).length > 0) {
    out.push('', `sink: ${Object.entries(sinkStats).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  }
  return out.join('\n');
}
