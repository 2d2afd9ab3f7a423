// The Runs page's "At a glance" panel: calls and finished runs over time, and which connectors
// fail. Drawn as inline SVG on the server so it needs no script; colours come from classes
// (ACTIVITY_CSS) because the CSP forbids inline styles and dark mode swaps the variables.
import type { Activity, ActivityBucket, StepOutcomes } from '../../../store/store.js';
import { formatTime } from '../format.js';
import { html, type SafeHtml } from '../html.js';

export type ActivityRange = '24h' | '7d';

export interface ConnectorRate {
  connector: string;
  succeeded: number;
  failed: number;
  /** failed / (succeeded + failed), 0..1. */
  rate: number;
}

/** Where steps go whose connector is no longer known (a mapping edited or removed since). */
export const UNKNOWN_CONNECTOR = '(unknown step)';

/**
 * Step outcomes summed per connector, highest error rate first, then by name. Connectors with
 * nothing ended are left out: a row of zeros says nothing.
 */
export function connectorRates(
  steps: StepOutcomes[],
  connectorOf: (mappingName: string, stepId: string) => string | null,
): ConnectorRate[] {
  const sums = new Map<string, { succeeded: number; failed: number }>();
  for (const step of steps) {
    const connector = connectorOf(step.mappingName, step.stepId) ?? UNKNOWN_CONNECTOR;
    const sum = sums.get(connector) ?? { succeeded: 0, failed: 0 };
    sum.succeeded += step.succeeded;
    sum.failed += step.failed;
    sums.set(connector, sum);
  }
  return [...sums]
    .filter(([, s]) => s.succeeded + s.failed > 0)
    .map(([connector, s]) => ({ connector, ...s, rate: s.failed / (s.succeeded + s.failed) }))
    .sort((a, b) => b.rate - a.rate || (a.connector < b.connector ? -1 : a.connector > b.connector ? 1 : 0));
}

const RANGES: { range: ActivityRange; label: string; period: string }[] = [
  { range: '24h', label: '24 h', period: '24 hours' },
  { range: '7d', label: '7 d', period: '7 days' },
];

// The plot's own coordinates: each bucket is SLOT wide, counts are scaled to 0..PLOT_H. The
// plot is stretched to the width (preserveAspectRatio="none"), which bars survive and text
// would not, so the labels sit in the outer SVG, in CSS pixels, and never scale.
const SLOT = 10;
const BAR = 4;
const PLOT_H = 100;
const CHART_H = 180;
const PLOT_TOP = 16;
const PLOT_PX = 140;

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function axisTime(at: number, range: ActivityRange): string {
  const d = new Date(at);
  return range === '24h' ? d.toISOString().slice(11, 16) : `${DAYS[d.getUTCDay()]} ${String(d.getUTCDate()).padStart(2, '0')}`;
}

function per(bucketMs: number): string {
  const hours = bucketMs / 3_600_000;
  if (hours === 24) return 'day';
  if (hours === 1) return 'hour';
  return Number.isInteger(hours) ? `${hours} hours` : `${Math.round(bucketMs / 60_000)} minutes`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** Two decimals keep the markup short; the eye cannot tell the difference. */
function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function percent(rate: number): string {
  const p = rate * 100;
  if (p === 0 || p === 100) return `${p}%`;
  if (p < 0.1) return '<0.1%';
  return `${p.toFixed(p < 10 ? 1 : 0)}%`;
}

function bar(kind: 'calls' | 'succeeded' | 'failed', x: number, base: number, n: number, max: number, title: string): SafeHtml {
  if (n <= 0) return html``;
  const h = round((n / max) * PLOT_H);
  return html`<rect class="${kind}" x="${x}" y="${round(base - h)}" width="${BAR}" height="${h}"><title>${title}</title></rect>`;
}

function chart(activity: Activity, range: ActivityRange, totals: Omit<ActivityBucket, 'at'>): SafeHtml {
  const { buckets } = activity;
  const max = Math.max(1, ...buckets.map((b) => Math.max(b.calls, b.succeeded + b.failed)));
  const bars = buckets.map((b, i) => {
    const when = `${formatTime(b.at).slice(0, 16)} UTC`;
    const x = i * SLOT;
    const succeededH = round((b.succeeded / max) * PLOT_H);
    return html`${bar('calls', x + 1, PLOT_H, b.calls, max, `${when}: ${count(b.calls, 'call')}`)}${bar('succeeded', x + 1 + BAR, PLOT_H, b.succeeded, max, `${when}: ${b.succeeded} succeeded`)}${bar('failed', x + 1 + BAR, PLOT_H - succeededH, b.failed, max, `${when}: ${b.failed} failed`)}`;
  });
  // First, middle and last bucket; the outer two are anchored inwards so they stay inside.
  const last = buckets.length - 1;
  const ticks = [...new Set([0, Math.floor(buckets.length / 2), last])].map((i) => {
    const anchor = i === 0 ? 'start' : i === last ? 'end' : 'middle';
    const x = i === 0 ? '0' : i === last ? '100%' : `${round(((i + 0.5) / buckets.length) * 100)}%`;
    return html`<text class="x" x="${x}" y="${CHART_H - 6}" text-anchor="${anchor}">${axisTime(buckets[i]!.at, range)}</text>`;
  });
  const period = RANGES.find((r) => r.range === range)!.period;
  const label = `Calls and finished runs per ${per(activity.bucketMs)}, last ${period}: ${count(totals.calls, 'call')}, ${totals.succeeded} succeeded, ${totals.failed} failed`;
  return html`<svg class="chart" role="img" aria-label="${label}" width="100%" height="${CHART_H}">
<text class="y" x="0" y="11">${max}</text>
<line class="gridline" x1="0" x2="100%" y1="${PLOT_TOP}" y2="${PLOT_TOP}"/>
<svg class="plot" x="0" y="${PLOT_TOP}" width="100%" height="${PLOT_PX}" viewBox="0 0 ${buckets.length * SLOT} ${PLOT_H}" preserveAspectRatio="none">${bars}</svg>
<line class="baseline" x1="0" x2="100%" y1="${PLOT_TOP + PLOT_PX}" y2="${PLOT_TOP + PLOT_PX}"/>
${ticks}
</svg>`;
}

function ratesTable(rates: ConnectorRate[]): SafeHtml {
  if (!rates.length) return html`<p class="muted empty">No steps ended in this period.</p>`;
  const rows = rates.map(
    (r) => html`<tr>
  <td data-label="Connector">${r.connector}</td>
  <td data-label="Succeeded" class="num">${r.succeeded}</td>
  <td data-label="Failed" class="num">${r.failed}</td>
  <td data-label="Error rate" class="num">${percent(r.rate)}</td>
  <td data-label="" class="bar"><svg class="rate" viewBox="0 0 100 8" preserveAspectRatio="none" width="100%" height="8" aria-hidden="true"><rect class="track" width="100" height="8"/><rect class="failed" width="${round(r.rate * 100)}" height="8"/></svg></td>
</tr>`,
  );
  return html`<table class="rates cards">
<thead><tr><th>Connector</th><th>Succeeded</th><th>Failed</th><th>Error rate</th><th><span class="visually-hidden">Error rate bar</span></th></tr></thead>
<tbody>${rows}</tbody>
</table>`;
}

export function activityPanel(options: {
  activity: Activity;
  rates: ConnectorRate[];
  range: ActivityRange;
  rangeHref: (range: ActivityRange) => string;
}): SafeHtml {
  const { activity, range } = options;
  const totals = activity.buckets.reduce(
    (t, b) => ({ calls: t.calls + b.calls, succeeded: t.succeeded + b.succeeded, failed: t.failed + b.failed }),
    { calls: 0, succeeded: 0, failed: 0 },
  );
  const period = RANGES.find((r) => r.range === range)!.period;
  const links = RANGES.map(
    (r) => html`<a href="${options.rangeHref(r.range)}"${r.range === range ? html` aria-current="page"` : ''}>${r.label}</a>`,
  );
  const hasData = totals.calls + totals.succeeded + totals.failed > 0;
  return html`<section class="activity" aria-labelledby="activity-title">
<div class="activity-head"><h2 id="activity-title">At a glance</h2><nav class="range" aria-label="Period">${links}</nav></div>
${
  hasData
    ? html`<p class="totals">${count(totals.calls, 'call')} · ${totals.succeeded} succeeded · ${totals.failed} failed</p>
${chart(activity, range, totals)}
<ul class="legend"><li class="calls">Calls</li><li class="succeeded">Runs succeeded</li><li class="failed">Runs failed</li></ul>`
    : html`<p class="muted empty">No calls in the last ${period}.</p>`
}
<h3>Errors by connector</h3>
${ratesTable(options.rates)}
</section>`;
}

export const ACTIVITY_CSS = `
.activity { background:var(--surface); border:1px solid var(--line); border-radius:6px; padding:10px 12px; margin-bottom:16px; min-width:0; }
.activity-head { display:flex; flex-wrap:wrap; gap:4px 12px; align-items:baseline; justify-content:space-between; }
.activity h2 { margin:0; }
.activity h3 { font-size:14px; margin:14px 0 6px; }
.activity .range { display:flex; gap:4px; }
.activity .range a { padding:2px 8px; border:1px solid var(--line); border-radius:4px; text-decoration:none; }
.activity .range a[aria-current=page] { background:var(--info); border-color:var(--info); color:var(--surface); }
.activity .totals { margin:6px 0; font-variant-numeric:tabular-nums; }
.activity .empty { margin:6px 0; }
.activity svg.chart { display:block; width:100%; max-width:100%; height:180px; overflow:hidden; }
.activity svg text { fill:var(--muted); font-size:11px; font-variant-numeric:tabular-nums; }
.activity svg .gridline { stroke:var(--line); stroke-dasharray:3 3; }
.activity svg .baseline { stroke:var(--muted); }
.activity svg .calls { fill:var(--info); }
.activity svg .succeeded { fill:var(--ok); }
.activity svg .failed { fill:var(--bad); }
.activity svg .track { fill:var(--neutral-bg); }
.activity .legend { display:flex; flex-wrap:wrap; gap:4px 14px; list-style:none; margin:4px 0 0; padding:0; font-size:12px; color:var(--muted); }
.activity .legend li::before { content:''; display:inline-block; width:10px; height:10px; margin-right:5px; border-radius:2px; vertical-align:-1px; }
.activity .legend .calls::before { background:var(--info); }
.activity .legend .succeeded::before { background:var(--ok); }
.activity .legend .failed::before { background:var(--bad); }
.activity table.rates { border:0; }
.activity table.rates td.bar { width:30%; vertical-align:middle; }
.activity svg.rate { display:block; width:100%; height:8px; }
.activity .visually-hidden { position:absolute; width:1px; height:1px; overflow:hidden; clip:rect(0 0 0 0); white-space:nowrap; }
@media (max-width: 700px) {
  /* A connector is one line of four cells with its bar under them. */
  .activity table.rates tr { grid-template-columns:minmax(0, 1fr) repeat(3, auto); }
  .activity table.rates td.bar { width:auto; grid-column:1 / -1; }
  .activity table.rates td.bar::before { display:none; }
}
`;
