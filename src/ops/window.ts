/** Parsing the `--from`/`--to` window of backfill and report. */
import { ConfigError } from '../errors.js';

/** Parses a `--from`/`--to` value: `YYYY-MM-DD` (UTC midnight) or a full ISO-8601 time. */
export function parseWhen(flag: string, value: string): Date {
  const text = /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value;
  const date = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(date.getTime())) {
    throw new ConfigError(`${flag} ${value}: not a date; use YYYY-MM-DD (UTC) or an ISO-8601 time such as 2024-03-01T00:00:00Z`);
  }
  return date;
}

/** Rejects an empty or reversed window. */
export function checkWindow(window: { from: Date; to: Date }): void {
  if (window.to.getTime() <= window.from.getTime()) {
    throw new ConfigError(`--to must be after --from (got ${window.from.toISOString()} .. ${window.to.toISOString()})`);
  }
}
