/**
 * Renders the delivery report as ONE self-contained HTML file: chart.js's UMD build and the data are inlined, and a
 * Content-Security-Policy forbids every network request, so the page works offline and leaks nothing.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ReportData } from './report-data.js';

/** chart.js's minified UMD build (defines `window.Chart`). */
export function chartJsSource(): string {
  const require = createRequire(import.meta.url);
  // The package's exports map hides its UMD file; resolve the main entry (in dist/) and read the file beside it.
  const main = require.resolve('chart.js');
  return readFileSync(join(dirname(main), 'chart.umd.min.js'), 'utf8');
}

const escapeHtml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** JSON safe inside a <script> element. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

const PALETTE = ['#2f6fdf', '#e8743b', '#19a979', '#ed4a7b', '#945ecf', '#13a4b4', '#6c8893', '#d6bb00', '#525df4', '#bf399e'];

function renderTable(t: ReportData['tables'][number]): string {
  if (t.rows.length === 0) return `<div class="table"><h3>${escapeHtml(t.title)}</h3><p class="empty">none</p></div>`;
  const head = t.headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const body = t.rows
    .map((r) => `<tr>${r.map((c) => `<td${typeof c === 'number' ? ' class="num"' : ''}>${escapeHtml(String(c))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<div class="table"><h3>${escapeHtml(t.title)}</h3><table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

/** Builds the whole page. */
export function renderReportHtml(data: ReportData, chartJs: string = chartJsSource()): string {
  const period =
    data.window.from || data.window.to
      ? `events from ${escapeHtml(data.window.from ?? 'the beginning')} to ${escapeHtml(data.window.to ?? 'now')} (provider time; runs and dead letters by when they happened)`
      : 'all events in the state file';
  const charts = data.charts
    .map(
      (c) => `<section class="chart" id="section-${escapeHtml(c.id)}">
  <h2>${escapeHtml(c.title)}</h2>
  <p class="note">${escapeHtml(c.note)}</p>
  ${c.labels.length === 0 ? '<p class="empty">no data in this period</p>' : ''}
  <div class="canvas-box"><canvas id="chart-${escapeHtml(c.id)}" data-chart="${escapeHtml(c.id)}" role="img" aria-label="${escapeHtml(c.title)}"></canvas></div>
</section>`,
    )
    .join('\n');
  const totals = [
    ['events sent', data.totals.events],
    ['outcomes', data.totals.outcomes],
    ['opens, clicks and other interactions', data.totals.interactions],
    ['runs', data.totals.runs],
    ['open dead letters', data.totals.openDeadLetters],
  ]
    .map(([k, v]) => `<div class="kpi"><span class="v" data-total="${escapeHtml(String(k))}">${v}</span><span class="k">${escapeHtml(String(k))}</span></div>`)
    .join('');
  // Script bodies must not contain "</script" (the parser would end the element there).
  const library = chartJs.replace(/<\/script/gi, '<\\/script');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.title)}</title>
<style>
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d2733; background: #f6f7f9; }
  header { background: #1d2733; color: #fff; padding: 20px 32px; }
  header h1 { margin: 0 0 4px; font-size: 22px; }
  header p { margin: 0; opacity: .8; }
  main { padding: 24px 32px; max-width: 1280px; }
  .kpis { display: flex; gap: 16px; flex-wrap: wrap; margin-bottom: 24px; }
  .kpi { background: #fff; border-radius: 8px; padding: 12px 18px; min-width: 140px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
  .kpi .v { display: block; font-size: 24px; font-weight: 600; }
  .kpi .k { color: #5b6b7b; }
  .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 20px; }
  .chart { background: #fff; border-radius: 8px; padding: 16px 20px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
  .chart h2 { font-size: 16px; margin: 0 0 2px; }
  .note { color: #5b6b7b; margin: 0 0 8px; font-size: 13px; }
  .canvas-box { position: relative; height: 300px; }
  .empty { color: #8a97a5; font-style: italic; }
  .tables { margin-top: 8px; display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 8px 24px; align-items: start; }
  table { border-collapse: collapse; background: #fff; width: 100%; margin-bottom: 12px; }
  th, td { text-align: left; padding: 4px 10px; border-bottom: 1px solid #e3e7ec; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  h3 { font-size: 14px; margin: 16px 0 6px; }
</style>
</head>
<body>
<header>
  <h1>${escapeHtml(data.title)}</h1>
  <p>${period} · generated ${escapeHtml(data.generatedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))}</p>
</header>
<main>
<div class="kpis">${totals}</div>
<div class="grid">
${charts}
</div>
<h2>The numbers</h2>
<div class="tables">
${data.tables.map(renderTable).join('\n')}
</div>
</main>
<script id="report-data" type="application/json">${scriptJson(data)}</script>
<script>${library}</script>
<script>
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var palette = ${JSON.stringify(PALETTE)};
  Chart.defaults.animation = false;
  Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", sans-serif';
  data.charts.forEach(function (spec) {
    var canvas = document.getElementById('chart-' + spec.id);
    var many = spec.type === 'doughnut';
    var datasets = spec.datasets.map(function (d, i) {
      var color = palette[i % palette.length];
      return {
        label: d.label,
        data: d.data,
        backgroundColor: many ? spec.labels.map(function (_, j) { return palette[j % palette.length]; }) : color,
        borderColor: spec.type === 'line' ? color : (many ? '#fff' : color),
        fill: false,
        tension: 0
      };
    });
    var scales = spec.type === 'doughnut' ? {} : {
      x: { stacked: !!spec.stacked, beginAtZero: true },
      y: { stacked: !!spec.stacked, beginAtZero: true }
    };
    new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: spec.horizontal ? 'y' : 'x',
        scales: scales,
        plugins: { legend: { display: spec.datasets.length > 1 || many } }
      }
    });
  });
  document.body.setAttribute('data-rendered', String(data.charts.length));
})();
</script>
</body>
</html>
`;
}
