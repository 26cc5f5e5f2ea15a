/** `report`: writes the self-contained HTML delivery report for a window from the state database. */
import { writeFileSync } from 'node:fs';
import type { Db } from '../store/db.js';
import { buildReportData, type ReportData } from './report-data.js';
import { renderReportHtml } from './report-html.js';
import type { EventTimeWindow } from './queries.js';

/** Builds the report from `db` and writes it to `path`; returns the data it embedded. */
export function writeReport(db: Db, path: string, window: EventTimeWindow = {}): ReportData {
  const data = buildReportData(db, window);
  writeFileSync(path, renderReportHtml(data));
  return data;
}
