// Figure 1 (issue 6): durable ingest of aftercall on SQLite and on PostgreSQL against the bare
// Express endpoint, in alternating rounds (bare → SQLite → PostgreSQL, ...), each aftercall
// round followed by the worker's drain, so the worker never competes with the next round.
// Each service has its own MAPPINGS_DIR with the bench `log` mapping; PostgreSQL runs in a
// fresh schema that is dropped at the end, and is skipped (with the reason) when unreachable.
// Each round also sends a body of about 100 KB (a long transcript) to bare and to SQLite.
// The figures and the detail section are made in ingest-report.ts.
import { join } from 'node:path';
import type { ServerProcess } from './child.js';
import { writeBenchMapping } from './bench-mapping.js';
import { probe, SERVER_SCRIPTS, TOKEN, type Bench } from './context.js';
import { PostgresRuns, SqliteRuns, type DrainResult, type RunsSource } from './drain.js';
import type { LoadResult } from './load.js';
import type { BenchPayload } from './payload.js';
import { createBenchSchema, type BenchSchema } from './postgres.js';
import { postgresCpuSeconds } from './proc.js';

export type StoreName = 'sqlite' | 'postgres';
export const LABEL: Record<StoreName, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

export interface StoreRound {
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
export type ReferenceName = 'validate' | 'naive-sqlite' | 'batched-postgres';
export const REFERENCE_LABEL: Record<ReferenceName, string> = {
  validate: 'bare + zod parse (no store)',
  'naive-sqlite': 'bare + zod parse + naive SQLite insert (FULL)',
  'batched-postgres': 'bare + zod parse + batched PostgreSQL insert (one per turn)',
};
/** The references of a run: the PostgreSQL one only where the server is reachable. */
export const referencesOf = (postgres: boolean): ReferenceName[] =>
  postgres ? ['validate', 'naive-sqlite', 'batched-postgres'] : ['validate', 'naive-sqlite'];

export interface Round {
  round: number;
  bare: LoadResult;
  references: Partial<Record<ReferenceName, LoadResult>>;
  stores: Partial<Record<StoreName, StoreRound>>;
  /** The same against the large body (SQLite only). */
  large: { bare: LoadResult; sqlite: StoreRound };
  /** SQLite receiving Retell's call_analyzed on /webhooks/retell: another platform beside the classic path. */
  retell: StoreRound;
}

export interface StoreEnd {
  statusCounts: Record<string, number>;
  acceptedReceipts: number;
  acked202: number;
}

export interface IngestOutcome {
  rounds: Round[];
  stores: StoreName[];
  references: ReferenceName[];
  ends: Partial<Record<StoreName, StoreEnd>>;
  postgres: { schema: string; describe: string } | { skipped: string };
  largeBytes: number;
}

export async function runIngest(
  bench: Bench,
  bare: ServerProcess,
  payload: BenchPayload,
  large: BenchPayload,
  retell: BenchPayload,
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
    const referenceNames = referencesOf(schema !== null);
    const startedReferences = await bench.startAll(
      referenceNames.map((name) => ({
        name: `reference-${name}`,
        script: SERVER_SCRIPTS.reference,
        env: { ...bench.baseEnv, REFERENCE: name, ...(name === 'batched-postgres' ? { DATABASE_URL: schema!.url } : {}) },
      })),
    );
    referenceNames.forEach((name, i) => (references[name] = startedReferences[i]!));
    bench.checkpoint();
    sources.sqlite = new SqliteRuns(join(bench.tmp, 'ingest-sqlite', 'aftercall.db'));
    if (schema) sources.postgres = new PostgresRuns(schema.url);

    for (const store of stores) {
      await probe(servers[store]!.port, payload.body(nextCallId++), (body) => body.status === 'accepted' && body.runs === 1);
      acked[store] += 1;
    }

    const loadStore = async (store: StoreName, label: string, durationSec: number, body = payload, path?: string): Promise<StoreRound> => {
      const source = sources[store]!;
      const sinceId = await source.maxRunId();
      const cpuBefore = servers[store]!.cpuSeconds();
      const writtenBefore = servers[store]!.writtenBytes();
      const load = await bench.load(servers[store]!, {
        label,
        durationSec,
        nextBody: () => body.body(nextCallId++),
        ...(path ? { path } : {}),
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
    const loadBare = async (label: string, durationSec: number, server: ServerProcess = bare, body = payload, onPostgres = false) => {
      const result = await bench.load(server, {
        label,
        durationSec,
        nextBody: () => body.body(nextBareId()),
        ...(onPostgres ? { helperCpu: postgresCpuSeconds } : {}),
      });
      bench.checkpoint();
      return result;
    };
    const loadReferences = async (round: number | string, durationSec: number) => {
      const results: Partial<Record<ReferenceName, LoadResult>> = {};
      for (const name of referencesOf(schema !== null)) results[name] = await loadBare(`ingest ${round} reference ${name}`, durationSec, references[name]!, payload, name === 'batched-postgres');
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
        retell: await loadStore('sqlite', `ingest round ${round} sqlite, Retell`, settings.durationSec, retell, `/webhooks/retell/${TOKEN}`),
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
      references: referencesOf(schema !== null),
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
