// Figure 5 (issue 8): ingest throughput on a SQLite file already holding many calls. Two files
// are pre-filled through the store API (bench/prefill.ts: N calls, each with its revision,
// receipt and raw body, one finished run with its step) — 10k and 100k by default, 10k and 1M
// with --large / BENCH_LARGE=1 — then one aftercall serves each (normal settings: WAL,
// synchronous=FULL), loaded in alternating rounds with the same 8 KB body as figure 1, each
// round drained before the next. Target: the large file within 20 % of the small one.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { BENCH_MAPPING, BENCH_MAPPING_NAME, BENCH_MAPPING_STEP, writeBenchMapping } from './bench-mapping.js';
import type { ServerProcess } from './child.js';
import { probe, SERVER_SCRIPTS, TOKEN, type Bench } from './context.js';
import { SqliteRuns, type DrainResult } from './drain.js';
import type { LoadResult } from './load.js';
import type { BenchPayload } from './payload.js';
import { mappingFileHash, prefillSqlite, type PrefillResult } from './prefill.js';
import { CPU_NOTE, fixed, maxOf, meanOf, ratio, roundsTable, table, verdict, type Figure, type RoundRow } from './report.js';
import { parsePayload } from '../src/payload/parse-payload.js';
import { searchDocument } from '../src/store/search-document.js';
import { PAGE_QUERIES, PAGE_QUERY_TARGET_MS, PAGE_REPEATS, timeRunsPage, type PageQueryContext } from './runs-page-queries.js';

const TARGET_SHARE = 0.8;
/** Pre-filled call ids start here; the load's ids start at 1,000,000 and stay far below. */
const PREFILL_FIRST_ID = 500_000_000;


interface SizeRound {
  load: LoadResult;
  drain: DrainResult;
}

interface Round {
  round: number;
  small: SizeRound;
  large: SizeRound;
}

export interface VolumeOutcome {
  sizes: [number, number];
  fills: [PrefillResult, PrefillResult];
  fileMb: [number, number];
  /** Median ms of each Runs page query on each file. */
  page: [Record<string, number>, Record<string, number>];
  rounds: Round[];
  large: boolean;
  quick: boolean;
}

const human = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1_000 ? `${n / 1_000}k` : String(n));

export async function runVolume(bench: Bench, payload: BenchPayload): Promise<VolumeOutcome> {
  const { settings } = bench;
  const sizes = settings.volume;
  const mappings = bench.dir('volume-mappings');
  writeBenchMapping(mappings);
  const paths = sizes.map((n, i) => join(bench.dir(`volume-${i}`), `aftercall-${human(n)}.db`)) as [string, string];
  const fills: PrefillResult[] = [];
  for (let i = 0; i < 2; i++) {
    const calls = sizes[i]!;
    console.error(`bench: volume: pre-filling ${human(calls)} stored calls through the store API (synchronous=OFF for the fill only)`);
    let reported = Date.now();
    fills.push(
      await prefillSqlite({
        path: paths[i]!,
        calls,
        payload,
        firstId: PREFILL_FIRST_ID,
        sender: 'default',
        mappingName: BENCH_MAPPING_NAME,
        mappingHash: mappingFileHash(BENCH_MAPPING),
        stepId: BENCH_MAPPING_STEP,
        aborted: () => bench.interrupted,
        onProgress: (done) => {
          if (Date.now() - reported > 10_000) {
            reported = Date.now();
            console.error(`bench: volume: ${human(calls)}: ${done} calls stored`);
          }
        },
      }),
    );
    bench.checkpoint();
  }
  const fileMb = paths.map((p) => statSync(p).size / 2 ** 20) as [number, number];
  console.error('bench: volume: timing the Runs page queries on each file');
  const context = pageQueryContext(payload);
  const page = [await timeRunsPage(paths[0], context), await timeRunsPage(paths[1], context)] as [Record<string, number>, Record<string, number>];

  const servers: ServerProcess[] = [];
  const readers: SqliteRuns[] = [];
  try {
    console.error('bench: volume: starting aftercall on each file');
    servers.push(
      ...(await bench.startAll(
        sizes.map((n, i) => ({
          name: `aftercall-${human(n)}`,
          script: SERVER_SCRIPTS.aftercall,
          env: {
            ...bench.baseEnv,
            SQLITE_PATH: paths[i]!,
            MAPPINGS_DIR: mappings,
            WEBHOOK_TOKENS: TOKEN,
            LOG_LEVEL: bench.logLevel,
            RATE_LIMIT_PER_MINUTE: '0',
          },
        })),
      )),
    );
    bench.checkpoint();
    readers.push(...paths.map((p) => new SqliteRuns(p)));
    let nextId = 1_000_000;
    for (const server of servers) await probe(server.port, payload.body(nextId++), (body) => body.status === 'accepted' && body.runs === 1);

    const load = async (i: 0 | 1, label: string, durationSec: number): Promise<SizeRound> => {
      const reader = readers[i]!;
      const sinceId = await reader.maxRunId();
      const result = await bench.load(servers[i]!, { label, durationSec, nextBody: () => payload.body(nextId++) });
      bench.checkpoint();
      const drain = await bench.drain(reader, sinceId, result.lastAckAt, label);
      bench.checkpoint();
      return { load: result, drain };
    };
    if (settings.warmupSec > 0) {
      await load(0, `volume warm-up ${human(sizes[0])}`, settings.warmupSec);
      await load(1, `volume warm-up ${human(sizes[1])}`, settings.warmupSec);
    }
    const rounds: Round[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      const small = await load(0, `volume round ${round} ${human(sizes[0])}`, settings.durationSec);
      const large = await load(1, `volume round ${round} ${human(sizes[1])}`, settings.durationSec);
      rounds.push({ round, small, large });
    }
    for (const [i, reader] of readers.entries()) {
      const dead = (await reader.countsByStatus()).dead ?? 0;
      if (dead > 0) bench.fail(`volume ${human(sizes[i]!)}: ${dead} runs ended dead`);
    }
    return { sizes, fills: fills as [PrefillResult, PrefillResult], fileMb, page, rounds, large: settings.large, quick: settings.quick };
  } finally {
    for (const reader of readers) await reader.close();
    await bench.stop(...servers);
  }
}

export function volumeFigures(outcome: VolumeOutcome, connections: number): Figure[] {
  const [small, large] = outcome.sizes;
  const n = outcome.rounds.length;
  const smallRps = meanOf(outcome.rounds.map((r) => r.small.load.reqPerSec));
  const largeRps = meanOf(outcome.rounds.map((r) => r.large.load.reqPerSec));
  const smallP99 = maxOf(outcome.rounds.map((r) => r.small.load.latency.p99));
  const largeP99 = maxOf(outcome.rounds.map((r) => r.large.load.latency.p99));
  const pair = `${human(small)} vs ${human(large)} stored calls`;
  return [
    {
      figure: `ingest req/s at ${pair}${outcome.large ? '' : ' (1M: --large)'} (mean of ${n})`,
      baseline: `${fixed(smallRps)} (${human(small)})`,
      value: fixed(largeRps),
      ratio: ratio(largeRps / smallRps),
      target: `≥ ${TARGET_SHARE} × ${human(small)}`,
      result: verdict(largeRps / smallRps >= TARGET_SHARE),
    },
    {
      figure: `Runs page, slowest store query at ${pair}, ms (median of ${PAGE_REPEATS})`,
      baseline: `${fixed(Math.max(...Object.values(outcome.page[0])), 1)} (${human(small)})`,
      value: fixed(Math.max(...Object.values(outcome.page[1])), 1),
      ratio: ratio(Math.max(...Object.values(outcome.page[1])) / Math.max(...Object.values(outcome.page[0]))),
      target: outcome.large ? `< ${PAGE_QUERY_TARGET_MS} ms at 1M` : 'report only (1M: --large)',
      result: outcome.large ? verdict(Math.max(...Object.values(outcome.page[1])) < PAGE_QUERY_TARGET_MS) : 'report only',
    },
    {
      figure: `ingest p99 at ${pair}, ms (worst of ${n}), ${connections} conn.`,
      baseline: `${fixed(smallP99)} (${human(small)})`,
      value: fixed(largeP99),
      ratio: ratio(largeP99 !== null && smallP99 ? largeP99 / smallP99 : null),
      target: 'report only',
      result: 'report only',
    },
  ];
}

export function volumeDetail(outcome: VolumeOutcome): string {
  const [small, large] = outcome.sizes;
  const out: string[] = [];
  out.push(`### 5. Ingest at ${human(small)} vs ${human(large)} stored calls (issue 8)`, '');
  out.push(
    `- ${outcome.large ? 'the large pair (--large / BENCH_LARGE=1)' : `the default pair${outcome.quick ? ' of BENCH_QUICK' : ''}; the 1M file is opt-in: \`npm run bench -- --large\` or BENCH_LARGE=1 (it takes minutes and ~17 GB of disk)`}`,
  );
  out.push(
    '- pre-filled through the store API (acceptDelivery in batches of 2,000 sharing a transaction, then claimRuns, startStep, finishStep, completeRun): ' +
      'each call with its revision, receipt (8 KB raw body) and one finished run with its step; `synchronous=OFF` during the fill only, then checkpointed; ' +
      'the service opens the file with its normal settings (WAL, synchronous=FULL). Same 8 KB body and `log` mapping as figure 1.',
  );
  out.push('');
  out.push(
    table(
      ['file', 'stored calls', 'fill time', 'fill calls/s', 'file size'],
      outcome.sizes.map((n, i) => [
        human(n),
        n,
        `${fixed(outcome.fills[i]!.seconds, 1)} s`,
        fixed(n / outcome.fills[i]!.seconds),
        `${fixed(outcome.fileMb[i]!)} MB`,
      ]),
    ),
    '',
  );
  out.push(
    `Runs page store queries (a page of 50, in process on the store's connection; median of ${PAGE_REPEATS}, ms):`,
    '',
    table(
      ['query', human(small), human(large)],
      PAGE_QUERIES.map((q) => [q.name, fixed(outcome.page[0][q.name], 2), fixed(outcome.page[1][q.name], 2)]),
    ),
    '',
  );
  const rows: RoundRow[] = outcome.rounds.flatMap((r) => [
    { round: r.round, server: `aftercall ${human(small)}`, result: r.small.load },
    { round: r.round, server: `aftercall ${human(large)}`, result: r.large.load },
  ]);
  out.push(roundsTable(rows), '');
  out.push(
    table(
      ['round', 'file', 'open runs at last ack', 'drained after', 'runs/s after last ack'],
      outcome.rounds.flatMap((r) =>
        (['small', 'large'] as const).map((k) => [
          r.round,
          human(k === 'small' ? small : large),
          r[k].drain.openAtLastAck,
          `${fixed(r[k].drain.seconds, 2)} s${r[k].drain.timedOut ? ' (timed out)' : ''}`,
          fixed(r[k].drain.runsPerSec),
        ]),
      ),
    ),
    '',
  );
  out.push(`- ${CPU_NOTE}`);
  return out.join('\n');
}

/** What the timed searches look for: a filled call's id, and a word and a phone every filled call has. */
function pageQueryContext(payload: BenchPayload): Omit<PageQueryContext, 'first' | 'last' | 'middleRunId'> {
  const parsed = parsePayload(JSON.parse(payload.body(PREFILL_FIRST_ID)), 'strict');
  if (!parsed.ok) throw new Error('volume: the bench payload does not validate');
  const words = searchDocument(parsed.call, []).split(' ').filter((w) => /^\p{L}{4,}$/u.test(w));
  return {
    callId: String(PREFILL_FIRST_ID + 7),
    commonWord: words.sort((a, b) => b.length - a.length)[0] ?? 'call',
    commonPhone: parsed.call.customer_phone ?? '+15550100',
    sender: 'default',
    mappingName: BENCH_MAPPING_NAME,
  };
}
