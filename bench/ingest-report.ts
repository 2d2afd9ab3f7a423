// Figure 1's report: the ingest rounds (ingest.ts) as figures against their targets, and the
// detail section with every round, the worker's drain and what the stores hold at the end.
import { LABEL, REFERENCE_LABEL, type IngestOutcome, type StoreRound } from './ingest.js';
import { CPU_NOTE, fixed, maxOf, meanOf, ratio, roundsTable, table, verdict, type Figure, type RoundRow } from './report.js';

const TARGET_RATIO = 0.55;
/** Issue 24: PostgreSQL shares the machine's cores with aftercall, so its target is lower. */
const TARGET_RATIO_POSTGRES = 0.4;
const TARGET_P99_MS = 50;

export function ingestFigures(outcome: IngestOutcome, connections: number): Figure[] {
  const n = outcome.rounds.length;
  const bareRps = meanOf(outcome.rounds.map((r) => r.bare.reqPerSec));
  const bareP99 = maxOf(outcome.rounds.map((r) => r.bare.latency.p99));
  const figures: Figure[] = outcome.references.map((name) => {
    const rps = meanOf(outcome.rounds.map((r) => r.references[name]!.reqPerSec));
    return {
      figure: `reference: ${REFERENCE_LABEL[name]}, req/s (mean of ${n})`,
      baseline: `${fixed(bareRps)} (bare)`,
      value: fixed(rps),
      ratio: ratio(rps / bareRps),
      target: 'report only',
      result: 'report only',
    };
  });
  for (const store of ['sqlite', 'postgres'] as const) {
    const label = LABEL[store];
    if (!outcome.stores.includes(store)) {
      // The reason is printed under the summary (bench.notes).
      figures.push({ figure: `durable ingest ${label}, req/s`, baseline: `${fixed(bareRps)} (bare)`, value: '—', ratio: '—', target: 'report only', result: 'SKIPPED' });
      continue;
    }
    const rounds = outcome.rounds.map((r) => r.stores[store]!);
    const rps = meanOf(rounds.map((r) => r.load.reqPerSec));
    const p99 = maxOf(rounds.map((r) => r.load.latency.p99));
    const drains = rounds.map((r) => r.drain.runsPerSec).filter((v): v is number => v !== null);
    const isSqlite = store === 'sqlite';
    const target = isSqlite ? TARGET_RATIO : TARGET_RATIO_POSTGRES;
    figures.push({
      figure: `durable ingest ${label}, req/s (mean of ${n})`,
      baseline: `${fixed(bareRps)} (bare)`,
      value: fixed(rps),
      ratio: ratio(rps / bareRps),
      target: `≥ ${target} × bare`,
      result: verdict(rps / bareRps >= target),
    });
    if (!isSqlite && outcome.stores.includes('sqlite')) {
      // Beside SQLite's, in the same rounds: how far the shared-database backend is behind.
      const sqliteRps = meanOf(outcome.rounds.map((r) => r.stores.sqlite!.load.reqPerSec));
      figures.push({
        figure: `durable ingest PostgreSQL vs SQLite, req/s (mean of ${n})`,
        baseline: `${fixed(sqliteRps)} (SQLite)`,
        value: fixed(rps),
        ratio: ratio(sqliteRps ? rps / sqliteRps : null),
        target: 'report only',
        result: 'report only',
      });
    }
    figures.push({
      figure: `ingest p99 ${label}, ms (worst of ${n}), ${connections} conn.`,
      baseline: `${fixed(bareP99)} (bare)`,
      value: fixed(p99),
      ratio: ratio(p99 !== null && bareP99 ? p99 / bareP99 : null),
      target: isSqlite ? `< ${TARGET_P99_MS} ms` : 'report only',
      result: verdict(isSqlite ? p99 !== null && p99 < TARGET_P99_MS : null),
    });
    if (isSqlite) {
      figures.push(...sqliteSizeFigures(outcome, rounds));
      // Another platform in the same rounds: Retell's call_analyzed on /webhooks/retell.
      const retellRps = meanOf(outcome.rounds.map((r) => r.retell.load.reqPerSec));
      figures.push({
        figure: `durable ingest SQLite, Retell call_analyzed, req/s (mean of ${n})`,
        baseline: `${fixed(rps)} (SQLite, autocalls)`,
        value: fixed(retellRps),
        ratio: ratio(rps ? retellRps / rps : null),
        target: 'report only',
        result: 'report only',
      });
    }
    figures.push({
      figure: `worker drain ${label} after last ack, runs/s`,
      baseline: '—',
      value: fixed(drains.length ? meanOf(drains) : null),
      ratio: '—',
      target: 'report only',
      result: 'report only',
    });
  }
  return figures;
}

const kb = (bytes: number | null) => (bytes === null ? null : bytes / 1024);

/** Bytes written per delivery at both body sizes, and the large body's ratio and memory. */
function sqliteSizeFigures(outcome: IngestOutcome, small: StoreRound[]): Figure[] {
  const n = outcome.rounds.length;
  const large = outcome.rounds.map((r) => r.large);
  const bareRps = meanOf(large.map((r) => r.bare.reqPerSec));
  const rps = meanOf(large.map((r) => r.sqlite.load.reqPerSec));
  const written = (rounds: StoreRound[]) => {
    const values = rounds.map((r) => r.bytesPerCall).filter((v): v is number => v !== null);
    return values.length ? meanOf(values) : null;
  };
  const size = `${fixed(outcome.largeBytes / 1024)} KB body`;
  return [
    {
      figure: `disk written per delivery SQLite, KB (ingest + run, mean of ${n})`,
      baseline: '—',
      value: fixed(kb(written(small)), 1),
      ratio: '—',
      target: 'report only',
      result: 'report only',
    },
    {
      figure: `durable ingest SQLite, ${size}, req/s (mean of ${n})`,
      baseline: `${fixed(bareRps)} (bare, same body)`,
      value: fixed(rps),
      ratio: ratio(rps / bareRps),
      target: 'report only',
      result: 'report only',
    },
    {
      figure: `disk written per delivery SQLite, ${size}, KB (ingest + run, mean of ${n})`,
      baseline: `${fixed(outcome.largeBytes / 1024, 1)} (body)`,
      value: fixed(kb(written(large.map((r) => r.sqlite))), 1),
      ratio: ratio((written(large.map((r) => r.sqlite)) ?? NaN) / outcome.largeBytes),
      target: 'report only',
      result: 'report only',
    },
    {
      figure: `RSS under load SQLite, ${size}, MB (max of ${n})`,
      baseline: `${fixed(maxOf(large.map((r) => r.bare.rssMaxMb)))} (bare)`,
      value: fixed(maxOf(large.map((r) => r.sqlite.load.rssMaxMb))),
      ratio: '—',
      target: 'report only',
      result: 'report only',
    },
  ];
}

export function ingestDetail(outcome: IngestOutcome): string {
  const out: string[] = [];
  const hasPg = outcome.stores.includes('postgres');
  out.push('### 1. Durable ingest: SQLite and PostgreSQL vs bare (issue 6)', '');
  out.push(
    '- references (bench/servers/reference.ts), the orientation points of issue 3 measured in the same rounds: the bare endpoint ' +
      'plus our strict zod parse and normalization (no store: no durable ingest can be faster), and plus one INSERT per request ' +
      'into SQLite (WAL, synchronous=FULL) on the main thread, and (with PostgreSQL) plus one multi-row INSERT and commit into ' +
      'PostgreSQL per event-loop turn: the cheapest durable ingest there, a floor under any PostgreSQL store design',
  );
  out.push(
    '- one mapping with a `log` step (debug, no-op sink); SQLite: WAL + synchronous=FULL in a temp dir; ' +
      ('schema' in outcome.postgres
        ? `PostgreSQL: ${outcome.postgres.describe}, fresh schema \`${outcome.postgres.schema}\` (dropped at the end), synchronous_commit as the server has it`
        : `PostgreSQL: skipped (${outcome.postgres.skipped})`),
  );
  out.push('');
  const rows: RoundRow[] = outcome.rounds.flatMap((r) => [
    { round: r.round, server: 'bare', result: r.bare },
    ...outcome.references.map((name) => ({ round: r.round, server: REFERENCE_LABEL[name], result: r.references[name]! })),
    ...outcome.stores.map((s) => ({ round: r.round, server: `aftercall ${LABEL[s]}`, result: r.stores[s]!.load })),
    { round: r.round, server: `bare, ${fixed(outcome.largeBytes / 1024)} KB body`, result: r.large.bare },
    { round: r.round, server: `aftercall SQLite, ${fixed(outcome.largeBytes / 1024)} KB body`, result: r.large.sqlite.load },
  ]);
  out.push(roundsTable(rows, hasPg ? { helper: 'PostgreSQL' } : {}), '');
  out.push(
    table(
      [
        'round', 'store', 'runs finished during load', 'open runs at last ack', 'drained after', 'runs/s after last ack',
        'aftercall CPU ms per call (ingest + run)', 'disk KB written per call (ingest + run)',
      ],
      outcome.rounds.flatMap((r) =>
        [
          ...outcome.stores.map((s) => [LABEL[s], r.stores[s]!] as const),
          [`SQLite, ${fixed(outcome.largeBytes / 1024)} KB body`, r.large.sqlite] as const,
        ].map(([name, x]) => {
          return [
            r.round,
            name,
            `${x.finishedDuringLoad} (${fixed(x.finishedDuringLoad / x.load.seconds)}/s)`,
            x.drain.openAtLastAck,
            `${fixed(x.drain.seconds, 2)} s${x.drain.timedOut ? ' (timed out)' : ''}`,
            fixed(x.drain.runsPerSec),
            fixed(x.cpuMsPerCall, 2),
            fixed(kb(x.bytesPerCall), 1),
          ];
        }),
      ),
    ),
    '',
  );
  for (const s of outcome.stores) {
    const end = outcome.ends[s];
    if (!end) continue;
    out.push(
      `- ${LABEL[s]}: runs by status at the end: ${Object.entries(end.statusCounts).map(([k, c]) => `${k} ${c}`).join(', ') || 'none'}; ` +
        `accepted receipts ${end.acceptedReceipts} vs. 202 replies received ${end.acked202} (warm-up and probe included; ` +
        `${end.acceptedReceipts >= end.acked202 ? 'requests cut off at the end of a round may still commit' : 'FEWER receipts than acks!'})`,
    );
  }
  out.push(`- ${CPU_NOTE}`);
  return out.join('\n');
}
