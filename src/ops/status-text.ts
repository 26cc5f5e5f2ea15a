/** Human tables for `status`: running locks, recent runs, lag per stream, ledger counts, open dead letters. */
import { table } from '../cli/output.js';
import { formatBytes, formatDuration, num, shortTime } from './format.js';
import type { StatusReport } from './status.js';

const sorted = (counts: Record<string, number>) => Object.entries(counts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));

/** Renders a StatusReport as aligned plain-text tables. */
export function renderStatus(report: StatusReport): string {
  const out: string[] = [`state ${report.state} at ${shortTime(report.generatedAt)} UTC`];
  if (report.running.length > 0) {
    out.push('', table(['running (lock)', 'holder'], report.running.map((r) => [r.name, r.description])));
  } else {
    out.push('no run in progress');
  }

  out.push('');
  if (report.runs.length === 0) out.push('no runs yet');
  else {
    out.push(
      table(
        ['run', 'command', 'started (UTC)', 'duration', 'read', 'sent', 'skipped', 'dup', 'dead', 'exit', 'error'],
        report.runs.map((r) => [
          r.id,
          r.command,
          shortTime(r.startedAt),
          r.endedAt ? formatDuration(r.durationMs) : 'running or crashed',
          num(r.counters, 'read'),
          num(r.counters, 'sent'),
          num(r.counters, 'skipped'),
          num(r.counters, 'alreadySent'),
          num(r.counters, 'deadLettered'),
          r.exitCode === null ? '-' : String(r.exitCode),
          r.error ? (r.error.length > 60 ? r.error.slice(0, 57) + '...' : r.error) : '',
        ]),
      ),
    );
  }

  if (report.lag.length > 0) {
    out.push(
      '',
      table(
        ['source', 'stream', 'checkpoint (UTC)', 'position', 'left to read', 'input modified (UTC)'],
        report.lag.map((l) => [
          l.source,
          l.stream.length > 60 ? '...' + l.stream.slice(-57) : l.stream,
          shortTime(l.checkpointAt),
          l.position ?? '',
          l.file
            ? `${l.file.bytesLeft !== undefined ? formatBytes(l.file.bytesLeft) : '?'} of ${formatBytes(l.file.size)}${l.file.note ? ' (file changed)' : ''}`
            : 'unknown',
          l.file ? shortTime(l.file.modifiedAt) : '-',
        ]),
      ),
    );
  }
  const newest = Object.entries(report.newestSent);
  if (newest.length > 0) out.push('', table(['source', 'newest event sent (UTC)'], newest.map(([s, t]) => [s, shortTime(t)])));

  out.push('', `ledger: ${report.ledger.total} events sent`);
  if (report.ledger.total > 0) {
    out.push(table(['feedbackStatus / interaction', 'events'], sorted(report.ledger.byStatus)));
    out.push('', table(['channel', 'events'], sorted(report.ledger.byChannel)));
  }

  out.push('', `open dead letters: ${report.deadLetters.open}`);
  if (report.deadLetters.open > 0) {
    out.push(
      table(
        ['stage', 'source', 'open', 'oldest (UTC)', 'newest (UTC)'],
        report.deadLetters.groups.map((g) => [g.stage, g.source, g.open, shortTime(g.oldest), shortTime(g.newest)]),
      ),
      'see them with `xdm-feedback dlq list`; after fixing the cause, `xdm-feedback dlq replay`',
    );
  }
  return out.join('\n');
}
