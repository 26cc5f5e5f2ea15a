/**
 * Progress of a long run: a cli-progress bar with rate and ETA on a TTY, periodic log lines otherwise.
 * The bar counts bytes when the input size is known (ETA from bytes), else records (no ETA).
 */
import cliProgress from 'cli-progress';
import type { Logger } from 'pino';
import type { RunSummary } from '../core/pipeline.js';
import { totalDeadLettered } from '../core/pipeline.js';
import { formatBytes, formatDuration } from './format.js';

export interface ProgressOptions {
  log: Logger;
  /** Draw a bar (stderr is a TTY) or log lines. @default process.stderr.isTTY */
  tty?: boolean;
  /** Total input bytes, when every source can tell. */
  totalBytes?: number;
  /** Bytes read so far (from the checkpoints), when the total is known. */
  bytesDone?: () => number;
  /** Seconds between log lines when not on a TTY. @default 10 */
  logEverySeconds?: number;
  now?: () => number;
}

export interface ProgressReporter {
  /** Feed every committed unit's summary (from RunOptions.onProgress). */
  update(summary: RunSummary): void;
  /** Final line; stops the bar. */
  stop(): void;
}

export function createProgress(options: ProgressOptions): ProgressReporter {
  const now = options.now ?? Date.now;
  const tty = options.tty ?? Boolean(process.stderr.isTTY);
  const started = now();
  const bySource = new Map<string, RunSummary>();
  const startBytes = options.bytesDone?.() ?? 0;
  const byBytes = options.totalBytes !== undefined && options.totalBytes > 0 && options.bytesDone !== undefined;
  let lastLog = started;
  let lastBytes = startBytes;

  const totals = () => {
    let read = 0;
    let sent = 0;
    let dead = 0;
    for (const s of bySource.values()) {
      read += s.read;
      sent += s.sent;
      dead += totalDeadLettered(s);
    }
    const seconds = Math.max(0.001, (now() - started) / 1000);
    return { read, sent, dead, rate: Math.round(read / seconds) };
  };

  const bar = tty
    ? new cliProgress.SingleBar(
        {
          stream: process.stderr,
          hideCursor: true,
          etaBuffer: 100,
          fps: 5,
          format: byBytes
            ? '{bar} {percentage}% | {done} of {total_h} | {records} records, {rate} rec/s | sent {sent}, dead {dead} | ETA {eta_formatted}'
            : '{records} records, {rate} rec/s | sent {sent}, dead {dead} | {elapsed}',
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  const payload = (t: ReturnType<typeof totals>, bytes: number) => ({
    records: t.read,
    rate: t.rate,
    sent: t.sent,
    dead: t.dead,
    done: formatBytes(bytes),
    total_h: formatBytes(options.totalBytes ?? 0),
    elapsed: formatDuration(now() - started),
  });
  bar?.start(byBytes ? options.totalBytes! : 1, byBytes ? startBytes : 0, payload(totals(), startBytes));

  return {
    update(summary) {
      bySource.set(summary.source, summary);
      const t = totals();
      if (bar) {
        if (byBytes) {
          lastBytes = options.bytesDone!();
          bar.update(Math.min(lastBytes, options.totalBytes!), payload(t, lastBytes));
        } else {
          bar.setTotal(Math.max(1, t.read));
          bar.update(t.read, payload(t, 0));
        }
        return;
      }
      if (now() - lastLog < (options.logEverySeconds ?? 10) * 1000) return;
      lastLog = now();
      const line: Record<string, unknown> = { records: t.read, sent: t.sent, deadLettered: t.dead, recordsPerSecond: t.rate };
      if (byBytes) {
        lastBytes = options.bytesDone!();
        const fraction = Math.min(1, lastBytes / options.totalBytes!);
        const bytesPerSecond = (lastBytes - startBytes) / Math.max(0.001, (now() - started) / 1000);
        line.percent = Math.round(fraction * 1000) / 10;
        if (bytesPerSecond > 0) line.etaSeconds = Math.round((options.totalBytes! - lastBytes) / bytesPerSecond);
      }
      options.log.info(line, 'progress');
    },
    stop() {
      const t = totals();
      if (bar) {
        if (byBytes) bar.update(Math.min(options.bytesDone!(), options.totalBytes!), payload(t, lastBytes));
        bar.stop();
      } else {
        options.log.info({ records: t.read, sent: t.sent, deadLettered: t.dead, recordsPerSecond: t.rate, seconds: Math.round((now() - started) / 1000) }, 'done reading');
      }
    },
  };
}
