/** `report`: writes the self-contained HTML delivery report for a window from the state database. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../errors.js';
import type { Db } from '../store/db.js';
import { buildReportData, type ReportData } from './report-data.js';
import { renderReportHtml } from './report-html.js';
import type { EventTimeWindow } from './queries.js';

/**
 * Builds the report from `db` and writes it to `path` (creating its folder); returns the data it embedded.
 * A path that cannot be written is a ConfigError naming it.
 */
export function writeReport(db: Db, path: string, window: EventTimeWindow = {}): ReportData {
  const data = buildReportData(db, window);
  const html = renderReportHtml(data);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, html);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(`report --html ${path}: cannot write the file (${code ?? (error as Error).message}); choose a path in a writable folder`);
  }
  return data;
}
