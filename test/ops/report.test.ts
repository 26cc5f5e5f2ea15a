import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import type { Db } from '../../src/store/db.js';
import { writeReport } from '../../src/ops/report.js';
import { buildReportData } from '../../src/ops/report-data.js';
import { renderReportHtml } from '../../src/ops/report-html.js';
import { tempDir } from '../helpers/temp.js';
import { seedState } from './seed.js';

const CHROMIUM = '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
const browserTest = haveChromium ? it : it.skip;
const skipNote = haveChromium ? '' : ` [SKIPPED: ${CHROMIUM} is missing; install it with \`apt-get update && apt-get install -y chromium\`]`;
if (!haveChromium) console.warn(`report browser tests skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

const dir = tempDir('xdmf-report-');

/** What each chart must show, computed from the database independently of the report code: label → dataset → value. */
function expectedFromDb(db: Db): Record<string, Record<string, Record<string, number>>> {
  const grid = (rows: Array<{ label: string | number; dataset: string; n: number }>) => {
    const out: Record<string, Record<string, number>> = {};
    for (const r of rows) ((out[String(r.label)] ??= {})[r.dataset] = r.n);
    return out;
  };
  const q = (sql: string) => db.prepare(sql).all() as Array<{ label: string | number; dataset: string; n: number }>;
  return {
    'outcomes-by-channel': grid(
      q(`SELECT substr(event_time,1,10) AS label, channel AS dataset, count(*) AS n FROM ledger WHERE event_type='message.feedback' GROUP BY 1,2`),
    ),
    'status-by-channel': grid(q(`SELECT status AS label, channel AS dataset, count(*) AS n FROM ledger WHERE event_type='message.feedback' GROUP BY 1,2`)),
    'bounce-soft-hard': grid(q(`SELECT failure_type AS label, channel AS dataset, count(*) AS n FROM ledger WHERE status='bounce' GROUP BY 1,2`)),
    'failure-categories': grid(q(`SELECT failure_category AS label, 'events' AS dataset, count(*) AS n FROM ledger WHERE failure_category IS NOT NULL GROUP BY 1`)),
    'top-failure-codes': grid(q(`SELECT failure_code AS label, 'events' AS dataset, count(*) AS n FROM ledger WHERE failure_code IS NOT NULL GROUP BY 1`)),
    'top-failure-reasons': grid(q(`SELECT failure_reason AS label, 'events' AS dataset, count(*) AS n FROM ledger WHERE failure_reason IS NOT NULL GROUP BY 1`)),
    'top-dead-letter-reasons': grid(q(`SELECT stage || ': ' || reason AS label, 'records' AS dataset, count(*) AS n FROM dead_letters GROUP BY 1`)),
    'retry-count': grid(q(`SELECT retry_count AS label, 'events' AS dataset, count(*) AS n FROM ledger WHERE retry_count IS NOT NULL GROUP BY 1`)),
    exclusions: grid(q(`SELECT exclusion_code AS label, 'events' AS dataset, count(*) AS n FROM ledger WHERE exclusion_code IS NOT NULL GROUP BY 1`)),
    'opens-clicks': grid(
      q(`SELECT substr(event_time,1,10) AS label, status AS dataset, count(*) AS n FROM ledger WHERE event_type='message.tracking' GROUP BY 1,2`),
    ),
    throughput: grid(
      q(`SELECT '#' || id || ' ' || command AS label, 'records/s' AS dataset,
           round(json_extract(counters,'$.read') * 1000.0 / ((julianday(ended_at) - julianday(started_at)) * 86400000.0), 1) AS n
         FROM runs WHERE ended_at IS NOT NULL`),
    ),
  };
}

/** A chart's data as label → dataset → value, zeros dropped (the DB side has no rows for them). */
function gridOf(chart: { labels: string[]; datasets: Array<{ label: string; data: number[] }> }): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  chart.labels.forEach((label, i) => {
    for (const d of chart.datasets) if (d.data[i]) (out[label] ??= {})[d.label] = d.data[i]!;
  });
  return out;
}

describe('HTML report', () => {
  let db: Db;
  let html: string;
  let browser: Browser | undefined;

  beforeAll(async () => {
    ({ db } = seedState(dir));
    // messageFailure.reason of some failures (the ledger column the pipeline fills).
    db.prepare("UPDATE ledger SET failure_reason = 'mailbox unavailable' WHERE failure_code = '5.1.1'").run();
    db.prepare("UPDATE ledger SET failure_reason = 'Unknown destination handset' WHERE failure_code = '30003'").run();
    // Give the runs real durations so throughput is not zero.
    db.prepare("UPDATE runs SET started_at = '2024-03-04T10:00:00.000Z', ended_at = '2024-03-04T10:00:02.000Z' WHERE id = 1").run();
    db.prepare("UPDATE runs SET started_at = '2024-03-04T11:00:00.000Z', ended_at = '2024-03-04T11:00:04.000Z' WHERE id = 2").run();
    html = join(dir, 'report.html');
    writeReport(db, html);
    if (haveChromium) {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
    }
  });
  afterAll(async () => {
    await browser?.close();
    db?.close();
  });

  it('embeds numbers equal to the database in every chart', () => {
    const data = buildReportData(db);
    const expected = expectedFromDb(db);
    expect(data.charts.map((c) => c.id).sort()).toEqual(Object.keys(expected).sort());
    for (const chart of data.charts) expect({ id: chart.id, grid: gridOf(chart) }).toEqual({ id: chart.id, grid: expected[chart.id] });
    expect(data.totals.events).toBe(db.prepare('SELECT count(*) FROM ledger').pluck().get());
    expect(data.totals.openDeadLetters).toBe(5);
  });

  it('is one self-contained file: chart.js inlined, no external URL, network forbidden by its CSP', () => {
    const text = readFileSync(html, 'utf8');
    expect(text).toContain("default-src 'none'");
    expect(text.length).toBeGreaterThan(100_000); // the inlined chart.js
    expect(text).not.toMatch(/<(script|link|img)[^>]+(src|href)=/i);
    expect(text).not.toMatch(/https?:\/\/(?!www\.w3\.org)[a-z0-9.-]+\.[a-z]{2,}\/[^"'\s]*\.(js|css|woff2?)/i);
  });

  it('escapes hostile text from the database so it cannot break out of the page', () => {
    const data = buildReportData(db);
    data.tables.push({ title: '<img src=x onerror=alert(1)>', headers: ['a'], rows: [['</script><script>alert(2)</script>']] });
    data.charts[0]!.labels.push('</script><b>');
    const page = renderReportHtml(data, '/* chart.js */');
    expect(page).not.toContain('<img src=x');
    expect(page.match(/<\/script>/g)).toHaveLength(3); // the data, the library and the bootstrap scripts only
  });

  browserTest(`loads in headless Chromium with no console errors and no network requests, every chart drawn with the database's numbers${skipNote}`, async () => {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    const requests: string[] = [];
    const url = pathToFileURL(html).href;
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('request', (r) => {
      if (r.url() !== url) requests.push(r.url());
    });
    await page.goto(url);
    await page.waitForSelector('body[data-rendered]');
    const charts = await page.evaluate(() => {
      // Runs in the page: the little of the DOM it uses, typed here (the tests are compiled without the DOM library).
      interface Canvas {
        width: number;
        height: number;
        dataset: Record<string, string | undefined>;
        getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
      }
      const w = globalThis as unknown as {
        Chart: { getChart(c: Canvas): { data: { labels: string[]; datasets: Array<{ label: string; data: number[] }> } } | undefined };
        document: { querySelectorAll(selector: string): Iterable<Canvas> };
      };
      return [...w.document.querySelectorAll('canvas[data-chart]')].map((canvas) => {
        const chart = w.Chart.getChart(canvas);
        const ctx = canvas.getContext('2d')!;
        const pixels = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) painted++;
        return {
          id: canvas.dataset.chart!,
          painted,
          width: canvas.width,
          data: chart ? { labels: chart.data.labels.map(String), datasets: chart.data.datasets.map((d) => ({ label: d.label, data: d.data.map(Number) })) } : null,
        };
      });
    });
    expect(errors).toEqual([]);
    expect(requests).toEqual([]);
    const expected = expectedFromDb(db);
    expect(charts.map((c) => c.id).sort()).toEqual(Object.keys(expected).sort());
    for (const c of charts) {
      expect(c.data, `chart ${c.id} was created`).not.toBeNull();
      expect(c.width, `chart ${c.id} has a size`).toBeGreaterThan(100);
      expect(c.painted, `chart ${c.id} drew something`).toBeGreaterThan(500);
      expect({ id: c.id, grid: gridOf(c.data!) }).toEqual({ id: c.id, grid: expected[c.id] });
    }
    const kpi = await page.textContent('[data-total="events sent"]');
    expect(Number(kpi)).toBe(db.prepare('SELECT count(*) FROM ledger').pluck().get());
    await page.close();
  });

  it('limits the events to the --from/--to window', () => {
    const data = buildReportData(db, { from: '2024-03-02T00:00:00.000Z', to: '2024-03-03T00:00:00.000Z' });
    const inWindow = db.prepare("SELECT count(*) FROM ledger WHERE event_time >= '2024-03-02' AND event_time < '2024-03-03'").pluck().get();
    expect(data.totals.events).toBe(inWindow);
    expect(data.charts.find((c) => c.id === 'outcomes-by-channel')!.labels).toEqual(['2024-03-02']);
  });
});
