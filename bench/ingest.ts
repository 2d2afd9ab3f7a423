// Figure 1 (issue 6): durable ingest of aftercall on SQLite and on PostgreSQL against the bare
// Express endpoint, in alternating rounds (bare → SQLite → PostgreSQL, ...), each aftercall
// round followed by the worker's drain, so the worker never competes with the next round.
// Each service has its own MAPPINGS_DIR with the bench `log` mapping; PostgreSQL runs in a
// fresh schema that is dropped at the end, and is skipped (with the reason) when unreachable.
// Each round also sends a body of about 100 KB (a long transcript) to bare and to SQLite.
import { join } from 'node:path';
import type { ServerProcess } from './child.js';
import { writeBenchMapping } from './bench-mapping.js';
import { probe, SERVER_SCRIPTS, TOKEN, type Bench } from './context.js';
import { PostgresRuns, SqliteRuns, type DrainResult, type RunsSource } from './drain.js';
import type { LoadResult } from './load.js';
import type { BenchPayload } from './payload.js';
import { createBenchSchema, type BenchSchema } from './postgres.js';
import { postgresCpuSeconds } from './proc.js';
import { CPU_NOTE, fixed, maxOf, meanOf, ratio, roundsTable, table, verdict, type Figure, type RoundRow } from './report.js';

const TARGET_RATIO = 0.55;
/** Issue 24: PostgreSQL shares the machine's cores with aftercall, so its target is lower. */
const TARGET_RATIO_POSTGRES = 0.4;
const TARGET_P99_MS = 50;

export type StoreName = 'sqlite' | 'postgres';
const LABEL: Record<StoreName, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

interface StoreRound {
  load: LoadResult;
  /** CPU of the aftercall process from the load's start to the end of the drain, per accepted call (ms). */
  cpuMsPerCall: number | null;
  /** Runs finished while the round was running. */
  finishedDuringLoad: number;
  /** Bytes the aftercall process wrote to storage from the load's start to the end of the drain, per accepted call. */
  bytesPerCall: number | null;
  drain: DrainResult;
}

/** Issue 3's orientation points, measured in the same rounds (bench/servers/reference.ts). */
export type ReferenceName = 'validate' | 'naive-sqlite';
const REFERENCES: readonly ReferenceName[] = ['validate', 'naive-sqlite'];
const REFERENCE_LABEL: Record<ReferenceName, string> = {
  validate: 'bare + zod parse (no store)',
  'naive-sqlite': 'bare + zod parse + naive SQLite insert (FULL)',
};

interface Round {
  round: number;
  bare: LoadResult;
  references: Record<ReferenceName, LoadResult>;
  stores: Partial<Record<StoreName, StoreRound>>;
  /** The same against the large body (SQLite only). */
  large: { bare: LoadResult; sqlite: StoreRound };
}

interface StoreEnd {
  statusCounts: Record<string, number>;
  acceptedReceipts: number;
  acked202: number;
}

export interface IngestOutcome {
  rounds: Round[];
  stores: StoreName[];
  ends: Partial<Record<StoreName, StoreEnd>>;
  postgres: { schema: string; describe: string } | { skipped: string };
  largeBytes: number;
}

export async function runIngest(
  bench: Bench,
  bare: ServerProcess,
  payload: BenchPayload,
  large: BenchPayload,
  nextBareId: () => number,
): Promise<IngestOutcome> {
  const { settings } = bench;
  const pgSchema = await createBenchSchema();
  let schema: BenchSchema | null = null;
  if (pgSchema.ok) schema = pgSchema.schema;
  else {
    bench.notes.push(`PostgreSQL figure skipped: ${pgSchema.reason}`);
    console.error(`bench: PostgreSQL figure skipped: ${pgSchema.reason}`);
  }
  const stores: StoreName[] = schema ? ['sqlite', 'postgres'] : ['sqlite'];
  const servers: Partial<Record<StoreName, ServerProcess>> = {};
  const references: Partial<Record<ReferenceName, ServerProcess>> = {};
  const sources: Partial<Record<StoreName, RunsSource>> = {};
  const acked: Record<StoreName, number> = { sqlite: 0, postgres: 0 };
  let nextCallId = 1_000_000; // one sequence for both stores: every id unique

  try {
    const env = (store: StoreName): NodeJS.ProcessEnv => {
      const mappings = bench.dir(`ingest-${store}-mappings`);
      writeBenchMapping(mappings);
      return {
        ...bench.baseEnv,
        MAPPINGS_DIR: mappings,
        WEBHOOK_TOKENS: TOKEN,
        LOG_LEVEL: bench.logLevel,
        RATE_LIMIT_PER_MINUTE: '0',
        ...(store === 'sqlite' ? { SQLITE_PATH: join(bench.dir('ingest-sqlite'), 'aftercall.db') } : { DATABASE_URL: schema!.url }),
      };
    };
    console.error(`bench: ingest: starting aftercall on ${stores.map((s) => LABEL[s]).join(' and ')}`);
    const started = await bench.startAll(
      stores.map((store) => ({ name: `aftercall-${store}`, script: SERVER_SCRIPTS.aftercall, env: env(store) })),
    );
    stores.forEach((store, i) => (servers[store] = started[i]!));
    const startedReferences = await bench.startAll(
      REFERENCES.map((name) => ({ name: `reference-${name}`, script: SERVER_SCRIPTS.reference, env: { ...bench.baseEnv, REFERENCE: name } })),
    );
    REFERENCES.forEach((name, i) => (references[name] = startedReferences[i]!));
    bench.checkpoint();
    sources.sqlite = new SqliteRuns(join(bench.tmp, 'ingest-sqlite', 'aftercall.db'));
    if (schema) sources.postgres = new PostgresRuns(schema.url);

    for (const store of stores) {
      await probe(servers[store]!.port, payload.body(nextCallId++), (body) => body.status === 'accepted' && body.runs === 1);
      acked[store] += 1;
    }

    const loadStore = async (store: StoreName, label: string, durationSec: number, body = payload): Promise<StoreRound> => {
      const source = sources[store]!;
      const sinceId = await source.maxRunId();
      const cpuBefore = servers[store]!.cpuSeconds();
      const writtenBefore = servers[store]!.writtenBytes();
      const load = await bench.load(servers[store]!, {
        label,
        durationSec,
        nextBody: () => body.body(nextCallId++),
        ...(store === 'postgres' ? { helperCpu: postgresCpuSeconds } : {}),
      });
      acked[store] += load.expected;
      bench.checkpoint();
      const finishedDuringLoad = await source.finishedIn(sinceId, load.startedAt, load.finishedAt);
      const drain = await bench.drain(source, sinceId, load.lastAckAt, label);
      bench.checkpoint();
      const cpuAfter = servers[store]!.cpuSeconds();
      const cpuMsPerCall = cpuBefore !== null && cpuAfter !== null && load.expected > 0 ? ((cpuAfter - cpuBefore) * 1000) / load.expected : null;
      const writtenAfter = servers[store]!.writtenBytes();
      const bytesPerCall = writtenBefore !== null && writtenAfter !== null && load.expected > 0 ? (writtenAfter - writtenBefore) / load.expected : null;
      return { load, cpuMsPerCall, finishedDuringLoad, drain, bytesPerCall };
    };
    const loadBare = async (label: string, durationSec: number, server: ServerProcess = bare, body = payload) => {
      const result = await bench.load(server, { label, durationSec, nextBody: () => body.body(nextBareId()) });
      bench.checkpoint();
      return result;
    };
    const loadReferences = async (round: number | string, durationSec: number) => {
      const results = {} as Record<ReferenceName, LoadResult>;
      for (const name of REFERENCES) results[name] = await loadBare(`ingest ${round} reference ${name}`, durationSec, references[name]!);
      return results;
    };

    if (settings.warmupSec > 0) {
      await loadBare('ingest warm-up bare', settings.warmupSec);
      await loadReferences('warm-up', settings.warmupSec);
      for (const store of stores) await loadStore(store, `ingest warm-up ${store}`, settings.warmupSec);
    }
    const rounds: Round[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      const entry: Round = {
        round,
        bare: await loadBare(`ingest round ${round} bare`, settings.durationSec),
        references: await loadReferences(`round ${round}`, settings.durationSec),
        stores: {},
        large: {
          bare: await loadBare(`ingest round ${round} bare, large body`, settings.durationSec, bare, large),
          sqlite: await loadStore('sqlite', `ingest round ${round} sqlite, large body`, settings.durationSec, large),
        },
      };
      for (const store of stores) entry.stores[store] = await loadStore(store, `ingest round ${round} ${store}`, settings.durationSec);
      rounds.push(entry);
    }

    const ends: Partial<Record<StoreName, StoreEnd>> = {};
    for (const store of stores) {
      const source = sources[store]!;
      const end = { statusCounts: await source.countsByStatus(), acceptedReceipts: await source.acceptedReceipts(), acked202: acked[store] };
      ends[store] = end;
      const dead = end.statusCounts.dead ?? 0;
      if (dead > 0) bench.fail(`ingest ${store}: ${dead} runs ended dead`);
      if (end.acceptedReceipts < end.acked202) bench.fail(`ingest ${store}: fewer accepted receipts in the store than 202 replies`);
    }
    return {
      rounds,
      stores,
      ends,
      postgres: schema ? { schema: schema.name, describe: schema.describe } : { skipped: pgSchema.ok ? '' : pgSchema.reason },
      largeBytes: large.bytes,
    };
  } finally {
    for (const source of Object.values(sources)) await source.close();
    await bench.stop(...Object.values(servers), ...Object.values(references));
    if (schema) {
      await schema.drop().catch((error: unknown) => {
        console.error(`bench: could not drop the PostgreSQL schema ${schema.name}: ${(error as Error).message}`);
      });
    }
  }
}

export function ingestFigures(outcome: IngestOutcome, connections: number): Figure[] {
  const n = outcome.rounds.length;
  const bareRps = meanOf(outcome.rounds.map((r) => r.bare.reqPerSec));
  const bareP99 = maxOf(outcome.rounds.map((r) => r.bare.latency.p99));
  const figures: Figure[] = REFERENCES.map((name) => {
    const rps = meanOf(outcome.rounds.map((r) => r.references[name].reqPerSec));
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
    if (isSqlite) figures.push(...sqliteSizeFigures(outcome, rounds));
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
      'into SQLite (WAL, synchronous=FULL) on the main thread',
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
    ...REFERENCES.map((name) => ({ round: r.round, server: REFERENCE_LABEL[name], result: r.references[name] })),
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
