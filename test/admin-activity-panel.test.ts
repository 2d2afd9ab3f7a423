// The Runs page's "At a glance" panel as markup: the SVG bars must say what the counts say,
// every value must be escaped, and the empty states must read as such.
import { describe, expect, it } from 'vitest';
import type { Activity, ActivityBucket, StepOutcomes } from '../src/store/store.js';
import { ACTIVITY_CSS, activityPanel, connectorRates, type ConnectorRate } from '../src/http/admin/views/activity-panel.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// A Monday, so the 7-day labels are easy to read.
const FROM = Date.UTC(2024, 0, 1);

function activity(counts: Omit<ActivityBucket, 'at'>[], bucketMs = HOUR): Activity {
  return {
    from: FROM,
    to: FROM + counts.length * bucketMs,
    bucketMs,
    buckets: counts.map((c, i) => ({ at: FROM + i * bucketMs, ...c })),
    steps: [],
  };
}

const empty = { calls: 0, succeeded: 0, failed: 0 };
const href = (range: '24h' | '7d') => `/admin?range=${range}`;

function render(a: Activity, rates: ConnectorRate[] = [], range: '24h' | '7d' = '24h'): string {
  return activityPanel({ activity: a, rates, range, rangeHref: href }).value;
}

interface Rect {
  kind: string;
  x: number;
  y: number;
  width: number;
  height: number;
  title: string;
}

function bars(markup: string): Rect[] {
  const plot = /<svg class="plot"[^>]*>([\s\S]*?)<\/svg>/.exec(markup)?.[1] ?? '';
  return [...plot.matchAll(/<rect class="(\w+)" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"><title>([^<]*)<\/title><\/rect>/g)].map(
    (m) => ({ kind: m[1]!, x: Number(m[2]), y: Number(m[3]), width: Number(m[4]), height: Number(m[5]), title: m[6]! }),
  );
}

function texts(markup: string, cls: string): string[] {
  return [...markup.matchAll(new RegExp(`<text class="${cls}"[^>]*>([^<]*)</text>`, 'g'))].map((m) => m[1]!);
}

describe('activity chart', () => {
  // 24 hourly buckets with data in three of them.
  const counts = Array.from({ length: 24 }, () => ({ ...empty }));
  counts[0] = { calls: 10, succeeded: 6, failed: 2 };
  counts[5] = { calls: 5, succeeded: 3, failed: 0 };
  counts[23] = { calls: 1, succeeded: 0, failed: 1 };
  const markup = render(activity(counts));

  it('draws bars whose heights are proportional to the counts, scaled to the largest', () => {
    const rects = bars(markup);
    const plotHeight = Number(/<svg class="plot"[^>]*viewBox="0 0 [\d.]+ ([\d.]+)"/.exec(markup)?.[1]);
    expect(plotHeight).toBeGreaterThan(0);
    const of = (kind: string) => rects.filter((r) => r.kind === kind);
    // Empty buckets draw nothing; each count > 0 is one rect.
    expect(of('calls')).toHaveLength(3);
    expect(of('succeeded')).toHaveLength(2);
    expect(of('failed')).toHaveLength(2);
    const [calls10, calls5, calls1] = of('calls');
    expect(calls10!.height).toBeCloseTo(plotHeight, 1);
    expect(calls5!.height).toBeCloseTo(plotHeight / 2, 1);
    expect(calls1!.height).toBeCloseTo(plotHeight / 10, 1);
    // Every bar stands on the baseline, except a failed segment, which sits on the succeeded one.
    for (const r of [...of('calls'), ...of('succeeded')]) expect(r.y + r.height).toBeCloseTo(plotHeight, 1);
    const [succeeded6] = of('succeeded');
    const [failed2, failed1] = of('failed');
    expect(succeeded6!.height).toBeCloseTo(plotHeight * 0.6, 1);
    expect(failed2!.height).toBeCloseTo(plotHeight * 0.2, 1);
    expect(failed2!.y + failed2!.height).toBeCloseTo(succeeded6!.y, 1);
    expect(failed2!.x).toBe(succeeded6!.x);
    // Outcomes beside the calls, in the same bucket's slot, later buckets further right.
    expect(succeeded6!.x).toBeGreaterThanOrEqual(calls10!.x + calls10!.width);
    expect(calls5!.x).toBeGreaterThan(succeeded6!.x);
    expect(failed1!.x).toBeGreaterThan(calls5!.x);
    expect(texts(markup, 'y')).toEqual(['10']);
  });

  it('scales to the stacked outcomes when they outgrow the calls', () => {
    const rects = bars(render(activity([{ calls: 2, succeeded: 8, failed: 4 }, { calls: 6, succeeded: 0, failed: 0 }])));
    const byKind = Object.fromEntries(rects.map((r) => [r.kind + (r.x > 10 ? '2' : '1'), r]));
    expect(byKind.succeeded1!.height + byKind.failed1!.height).toBeCloseTo(100, 1);
    expect(byKind.calls1!.height).toBeCloseTo(100 / 6, 1);
    expect(byKind.calls2!.height).toBeCloseTo(50, 1);
    expect(texts(render(activity([{ calls: 2, succeeded: 8, failed: 4 }])), 'y')).toEqual(['12']);
  });

  it('titles every bar with its time and count', () => {
    const titles = bars(markup).map((r) => r.title);
    expect(titles).toContain('2024-01-01 00:00 UTC: 10 calls');
    expect(titles).toContain('2024-01-01 00:00 UTC: 6 succeeded');
    expect(titles).toContain('2024-01-01 00:00 UTC: 2 failed');
    expect(titles).toContain('2024-01-01 23:00 UTC: 1 call');
  });

  it('states the totals in text and in the image label', () => {
    expect(markup).toContain('<p class="totals">16 calls · 9 succeeded · 3 failed</p>');
    const svg = /<svg class="chart"([^>]*)>/.exec(markup)?.[1] ?? '';
    expect(svg).toContain('role="img"');
    expect(svg).toContain('aria-label="Calls and finished runs per hour, last 24 hours: 16 calls, 9 succeeded, 3 failed"');
    expect(svg).toContain('width="100%"');
    expect(markup).toMatch(/<svg class="plot"[^>]*width="100%"[^>]*viewBox=/);
    expect(markup).toContain('<ul class="legend">');
  });

  it('labels the first, middle and last bucket: hours for 24 h, days for 7 d', () => {
    expect(texts(markup, 'x')).toEqual(['00:00', '12:00', '23:00']);
    const week = Array.from({ length: 7 }, (_, i) => ({ calls: i + 1, succeeded: 0, failed: 0 }));
    expect(texts(render(activity(week, DAY), [], '7d'), 'x')).toEqual(['Mon 01', 'Thu 04', 'Sun 07']);
  });

  it('says so when no bucket has anything, instead of drawing an empty chart', () => {
    const none = render(activity(Array.from({ length: 24 }, () => ({ ...empty }))));
    expect(none).toContain('No calls in the last 24 hours.');
    expect(none).not.toContain('<svg class="chart"');
    expect(none).not.toContain('class="totals"');
    expect(render(activity([]), [], '7d')).toContain('No calls in the last 7 days.');
    expect(markup).not.toContain('No calls in the last');
    // Runs that ended in the window count as data even without new calls.
    expect(render(activity([{ calls: 0, succeeded: 1, failed: 0 }]))).toContain('<svg class="chart"');
  });
});

describe('range links', () => {
  it('links both ranges and marks the current one', () => {
    const a = activity([{ calls: 1, succeeded: 1, failed: 0 }]);
    const links = (range: '24h' | '7d') =>
      [...render(a, [], range).matchAll(/<a href="([^"]*)"( aria-current="page")?>([^<]*)<\/a>/g)].map((m) => ({ href: m[1], current: !!m[2], label: m[3] }));
    expect(links('24h')).toEqual([
      { href: '/admin?range=24h', current: true, label: '24 h' },
      { href: '/admin?range=7d', current: false, label: '7 d' },
    ]);
    expect(links('7d').map((l) => l.current)).toEqual([false, true]);
  });
});

describe('errors by connector', () => {
  const hubspot = (stepId: string) => (stepId.startsWith('hubspot.') ? 'hubspot' : null);
  const step = (mappingName: string, stepId: string, succeeded: number, failed: number): StepOutcomes => ({ mappingName, stepId, succeeded, failed });

  it('sums steps per connector, unknown steps together, highest error rate first then by name', () => {
    const connectorOf = (mapping: string, stepId: string) =>
      stepId === 'gone' ? null : stepId.startsWith('slack') ? 'slack' : stepId.startsWith('email') ? 'email' : hubspot(stepId) ?? `${mapping}?`;
    const rates = connectorRates(
      [
        step('sales', 'hubspot.contact', 8, 2),
        step('support', 'hubspot.note', 10, 0),
        step('sales', 'slack.post', 3, 1),
        step('sales', 'gone', 1, 1),
        step('support', 'gone', 0, 2),
        step('sales', 'email.send', 9, 3),
        step('sales', 'empty', 0, 0),
      ],
      connectorOf,
    );
    expect(rates).toEqual([
      { connector: '(unknown step)', succeeded: 1, failed: 3, rate: 0.75 },
      { connector: 'email', succeeded: 9, failed: 3, rate: 0.25 },
      { connector: 'slack', succeeded: 3, failed: 1, rate: 0.25 },
      { connector: 'hubspot', succeeded: 18, failed: 2, rate: 0.1 },
    ]);
    expect(connectorRates([], connectorOf)).toEqual([]);
  });

  it('shows a row per connector with its error rate and a bar as wide as the rate', () => {
    const markup = render(activity([]), [
      { connector: 'email', succeeded: 9, failed: 3, rate: 0.25 },
      { connector: 'hubspot', succeeded: 20, failed: 0, rate: 0 },
    ]);
    const rows = [...markup.matchAll(/<tr>\s*<td data-label="Connector">([^<]*)<\/td>[\s\S]*?<td data-label="Error rate" class="num">([^<]*)<\/td>[\s\S]*?<rect class="failed" width="([\d.]+)"/g)].map(
      (m) => [m[1], m[2], Number(m[3])],
    );
    expect(rows).toEqual([
      ['email', '25%', 25],
      ['hubspot', '0%', 0],
    ]);
    expect(markup).toContain('<h3>Errors by connector</h3>');
    expect(markup).not.toContain('No steps ended in this period.');
  });

  it('says so when no step ended', () => {
    const markup = render(activity([{ calls: 3, succeeded: 0, failed: 0 }]), []);
    expect(markup).toContain('No steps ended in this period.');
    expect(markup).not.toContain('<table');
  });

  it('escapes a connector name and link targets', () => {
    const markup = activityPanel({
      activity: activity([]),
      rates: [{ connector: '<script>alert(1)</script>', succeeded: 0, failed: 1, rate: 1 }],
      range: '24h',
      rangeHref: (range) => `/admin?range=${range}&x="><script>`,
    }).value;
    expect(markup).not.toContain('<script>');
    expect(markup).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(markup).toContain('href="/admin?range=24h&amp;x=&quot;&gt;&lt;script&gt;"');
  });
});

describe('styles', () => {
  it('colours by class with the palette variables, never inline styles', () => {
    const counts = [{ calls: 4, succeeded: 2, failed: 1 }];
    const markup = render(activity(counts), [{ connector: 'email', succeeded: 1, failed: 1, rate: 0.5 }]);
    expect(markup).not.toMatch(/\sstyle=|\sfill=|<style/);
    expect(ACTIVITY_CSS).toMatch(/\.activity svg \.calls \{ ?fill: ?var\(--info\)/);
    expect(ACTIVITY_CSS).toMatch(/\.activity svg \.succeeded \{ ?fill: ?var\(--ok\)/);
    expect(ACTIVITY_CSS).toMatch(/\.activity svg \.failed \{ ?fill: ?var\(--bad\)/);
    // Dark mode only swaps variables, so no literal colour may appear here.
    expect(ACTIVITY_CSS).not.toMatch(/#[0-9a-f]{3,6}\b|rgb\(/i);
  });
});
