// Markdown for the benchmark report: number formatting, tables, the summary row of one figure
// and the per-round table of load results (with the CPU and memory columns).
import type { LoadResult } from './load.js';

export const sumOf = (values: number[]) => values.reduce((a, b) => a + b, 0);
export const meanOf = (values: number[]) => (values.length ? sumOf(values) / values.length : NaN);
export const maxOf = (values: Array<number | null>) => {
  const known = values.filter((v): v is number => v !== null && Number.isFinite(v));
  return known.length ? Math.max(...known) : null;
};

export const fixed = (value: number | null | undefined, digits = 0) =>
  value === null || value === undefined || !Number.isFinite(value)
    ? '—'
    : value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const pct = (share: number | null) => (share === null ? '—' : `${Math.round(share * 100)} %`);
/** Ratios: two decimals below 10, one above. */
export const ratio = (value: number | null) => (value === null || !Number.isFinite(value) ? '—' : fixed(value, value >= 10 ? 1 : 2));

export function table(head: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

export type Verdict = 'PASS' | 'FAIL' | 'report only' | 'SKIPPED';

/** One row of the summary: a figure, its baseline from the same run, the ratio and the target. */
export interface Figure {
  figure: string;
  baseline: string;
  value: string;
  ratio: string;
  target: string;
  result: Verdict;
}

export const verdict = (ok: boolean | null): Verdict => (ok === null ? 'report only' : ok ? 'PASS' : 'FAIL');

export const SUMMARY_HEAD = ['figure', 'baseline (same run)', 'aftercall', 'ratio', 'target', 'result'];

export function summaryTable(figures: Figure[]): string {
  return table(
    SUMMARY_HEAD,
    figures.map((f) => [f.figure, f.baseline, f.value, f.ratio, f.target, f.result]),
  );
}

/** How a round loaded its server: "max", "burst of N", "500/s paced", "500/s autocannon". */
export function loadLabel(x: LoadResult): string {
  if (x.rate !== null) return x.generator === 'paced' ? `${x.rate}/s paced` : `${x.rate}/s autocannon`;
  return x.amount !== null ? `burst of ${x.amount}` : 'max';
}

export interface RoundRow {
  round: number | string;
  server: string;
  result: LoadResult;
}

/** Per round: throughput, latency, replies, and CPU (server, load generator, helper, other) and peak RSS. */
export function roundsTable(rows: RoundRow[], options: { helper?: string } = {}): string {
  const head = ['round', 'server', 'load', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', '202', 'not 202', 'errors', 'server CPU', 'loadgen CPU'];
  if (options.helper) head.push(`${options.helper} CPU`);
  head.push('other CPU', 'RSS max MB');
  return table(
    head,
    rows.map(({ round, server, result: x }) => {
      const cells: Array<string | number> = [
        round,
        server,
        loadLabel(x),
        fixed(x.reqPerSec),
        fixed(x.latency.p50, x.latency.p50 < 10 ? 1 : 0),
        fixed(x.latency.p90, x.latency.p90 < 10 ? 1 : 0),
        fixed(x.latency.p99, x.latency.p99 < 10 ? 1 : 0),
        fixed(x.latency.max),
        x.expected,
        x.unexpected,
        x.errors + x.timeouts,
        pct(x.serverCpu),
        pct(x.loadCpu),
      ];
      if (options.helper) cells.push(pct(x.helperCpu));
      cells.push(pct(x.otherCpu), fixed(x.rssMaxMb));
      return cells;
    }),
  );
}

export const CPU_NOTE =
  'CPU columns: share of one core during the round (Linux /proc): the server under load, this load generator, ' +
  'a helper where there is one (PostgreSQL\'s processes, the stub vendors), and everything else on the machine ' +
  '(other processes, idle servers). A high "other CPU" means the figures are disturbed.';
