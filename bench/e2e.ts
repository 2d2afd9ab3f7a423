// Figures 3 and 4 (issue 8): the whole path on SQLite — ingest → worker → the connector example
// examples/hubspot-twilio/sales-qualification.yaml (HubSpot contact upsert, note, deal, task,
// Twilio SMS through the vendors' SDKs) → stub vendors in a child process answering at once
// (bench/servers/vendors.ts, built on test/connectors/support) — with the sales-qualification
// fixture, a unique call id per request (a hot lead: every step runs, 6 vendor requests).
// Per round, alternating with the bare endpoint on the same body:
//   1. the fixed rate (500 req/s) with autocannon's overallRate: ack latency p99;
//   2. the same rate evenly paced (open loop): ack latency p99, and from the SQLite file the
//      latency from receipt (runs.created_at) to the last step (runs.finished_at);
//   3. a burst of rate × duration calls as fast as possible (the bare endpoint: as fast as possible
//      for the duration): calls/s end to end = the burst's runs / (last finish − burst start).
// Then, per round, the same burst through a second aftercall serving the default example
// mappings (mappings/, http.request to a stub receiver): the worker's own machinery without SDKs.
// Each aftercall round is drained before the next bare one. RSS (VmRSS) of both processes is
// read at idle and sampled under load.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import { ROOT, type ServerProcess } from './child.js';
import { probe, SERVER_SCRIPTS, sleep, TOKEN, type Bench } from './context.js';
import { percentile, SqliteRuns, type DrainResult } from './drain.js';
import type { LoadResult } from './load.js';
import { buildPayload, FIXTURES } from './payload.js';
import { CPU_NOTE, fixed, loadLabel, maxOf, meanOf, ratio, roundsTable, table, verdict, type Figure, type RoundRow } from './report.js';

const TARGET_E2E_PER_SEC = 500;
const TARGET_ACK_P99_MS = 20;
const TARGET_RSS_MB = 200;
const EXAMPLE_DIR = join(ROOT, 'examples', 'hubspot-twilio');
/** Records each call writes or reads at the stub vendors (a batch request counts its inputs). */
const VENDOR_OPERATIONS_PER_CALL = 6;
/** The service's settings when the environment sets none, to name the worker settings measured. */
const DEFAULTS = loadConfig({});
// The service's own example mappings (what `npm start` serves): for the sales fixture,
// sales-qualification (crm + alert_sales http.request steps, scored) and forward-completed-calls
// (log + forward): 2 runs, 3 requests to the local receiver, no SDK.
const DEFAULT_MAPPINGS_DIR = join(ROOT, 'mappings');
const DEFAULT_RECEIVER = 'http://127.0.0.1:4000';
const DEFAULT_RUNS_PER_CALL = 2;
const DEFAULT_REQUESTS_PER_CALL = 3;

type Phase = 'rate' | 'paced' | 'max';
const PHASES: readonly Phase[] = ['rate', 'paced', 'max'];

interface E2eLoad {
  load: LoadResult;
  runs: number;
  finishedDuringLoad: number;
  drain: DrainResult;
  /** Runs of this load / (last finish − load start). */
  callsPerSec: number | null;
  /** CPU of the aftercall process from the load's start to the end of the drain, per run (ms). */
  cpuMsPerCall: number | null;
  /** The same for the stub vendors. */
  vendorCpuMsPerCall: number | null;
  latency: { p50: number | null; p90: number | null; p99: number | null; max: number | null };
}

interface Round {
  round: number;
  bare: Record<Phase, LoadResult>;
  e2e: Record<Phase, E2eLoad>;
  /** The same burst through the default example mappings (http.request to a stub receiver). */
  defaults: E2eLoad;
}

export interface E2eOutcome {
  rounds: Round[];
  rate: number;
  payloadBytes: number;
  rss: { bareIdle: number | null; e2eStart: number | null; e2eIdle: number | null; e2eIdleEnd: number | null };
  statusCounts: Record<string, number>;
  vendorRequests: number;
  vendorOperations: number;
  vendorCounts: Record<string, number>;
  runsSucceeded: number;
  workerConcurrency: string;
  workerYield: string;
  underTsx: boolean;
  defaultRequests: number;
}

export async function runE2e(bench: Bench, bare: ServerProcess): Promise<E2eOutcome> {
  const { settings } = bench;
  const payload = buildPayload(0, join(FIXTURES, 'sales-qualification.json'));
  let nextId = 50_000_000;
  let nextBareId = 50_000_000;
  const servers: ServerProcess[] = [];
  let reader: SqliteRuns | null = null;
  let defaultsReader: SqliteRuns | null = null;
  try {
    console.error('bench: e2e: starting the stub vendors and aftercall with examples/hubspot-twilio');
    const [vendors] = await bench.startAll([{ name: 'vendors', script: SERVER_SCRIPTS.vendors, env: bench.baseEnv }]);
    servers.push(vendors!);
    const vendorUrl = `http://127.0.0.1:${vendors!.port}`;
    const dbPath = join(bench.dir('e2e'), 'aftercall.db');
    const [service] = await bench.startAll([
      {
        name: 'aftercall-e2e',
        script: SERVER_SCRIPTS.aftercall,
        env: {
          ...bench.baseEnv,
          SQLITE_PATH: dbPath,
          MAPPINGS_DIR: EXAMPLE_DIR,
          WEBHOOK_TOKENS: TOKEN,
          LOG_LEVEL: bench.logLevel,
          RATE_LIMIT_PER_MINUTE: '0',
          HUBSPOT_ACCESS_TOKEN: 'pat-na1-bench',
          HUBSPOT_BASE_URL: vendorUrl,
          TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
          TWILIO_AUTH_TOKEN: 'twilio-bench',
          TWILIO_FROM: '+16505550100',
          TWILIO_BASE_URL: vendorUrl,
        },
      },
    ]);
    servers.push(service!);
    const e2e = service!;
    // The default example mappings, their receiver URL pointed at the stub vendors' /receiver/.
    const defaultsDir = bench.dir('e2e-defaults');
    const defaultMappings = join(defaultsDir, 'mappings');
    mkdirSync(defaultMappings);
    for (const file of readdirSync(DEFAULT_MAPPINGS_DIR)) {
      const text = readFileSync(join(DEFAULT_MAPPINGS_DIR, file), 'utf8');
      writeFileSync(join(defaultMappings, file), file.endsWith('.yaml') ? text.replaceAll(DEFAULT_RECEIVER, `${vendorUrl}/receiver`) : text);
    }
    const defaultsDb = join(defaultsDir, 'aftercall.db');
    const [defaultsService] = await bench.startAll([
      {
        name: 'aftercall-e2e-defaults',
        script: SERVER_SCRIPTS.aftercall,
        env: { ...bench.baseEnv, SQLITE_PATH: defaultsDb, MAPPINGS_DIR: defaultMappings, WEBHOOK_TOKENS: TOKEN, LOG_LEVEL: bench.logLevel, RATE_LIMIT_PER_MINUTE: '0' },
      },
    ]);
    servers.push(defaultsService!);
    defaultsReader = new SqliteRuns(defaultsDb);
    const defaultsSource = defaultsReader;
    bench.checkpoint();
    const rssStart = e2e.rssMb();
    reader = new SqliteRuns(dbPath);
    const source = reader;

    // One call through the whole path first: the run succeeds and the vendors saw its requests.
    await probe(e2e.port, payload.body(nextId++), (body) => body.status === 'accepted' && body.runs === 1);
    await bench.drain(source, 0, Date.now(), 'e2e probe');
    const probeStatus = await source.countsByStatus();
    if ((probeStatus.succeeded ?? 0) !== 1) throw new Error(`e2e probe: the run did not succeed (${JSON.stringify(probeStatus)}); see the aftercall-e2e log above`);
    await probe(defaultsService!.port, payload.body(nextId++), (body) => body.status === 'accepted' && body.runs === DEFAULT_RUNS_PER_CALL);
    await bench.drain(defaultsSource, 0, Date.now(), 'e2e defaults probe');
    const defaultsProbe = await defaultsSource.countsByStatus();
    if ((defaultsProbe.succeeded ?? 0) !== DEFAULT_RUNS_PER_CALL) {
      throw new Error(`e2e probe (default mappings): the runs did not succeed (${JSON.stringify(defaultsProbe)}); see the aftercall-e2e-defaults log above`);
    }
    const defaultsTarget = { service: defaultsService!, runs: defaultsSource, runsPerCall: DEFAULT_RUNS_PER_CALL };
    const requestsBefore = await vendorStats(vendorUrl);

    const loadE2e = async (
      phase: Phase,
      label: string,
      durationSec: number,
      target: { service: ServerProcess; runs: SqliteRuns; runsPerCall: number } = { service: e2e, runs: source, runsPerCall: 1 },
    ): Promise<E2eLoad> => {
      const { service, runs: runsOf, runsPerCall } = target;
      const sinceId = await runsOf.maxRunId();
      const cpuBefore = service.cpuSeconds();
      const vendorCpuBefore = vendors!.cpuSeconds();
      const load = await bench.load(service, {
        label,
        durationSec,
        nextBody: () => payload.body(nextId++),
        helperCpu: () => vendors!.cpuSeconds(),
        ...(phase === 'max' ? { amount: Math.round(settings.rate * durationSec) } : { overallRate: settings.rate, paced: phase === 'paced' }),
      });
      bench.checkpoint();
      const finishedDuringLoad = await runsOf.finishedIn(sinceId, load.startedAt, load.finishedAt);
      const drain = await bench.drain(runsOf, sinceId, load.lastAckAt, label);
      bench.checkpoint();
      const cpuAfter = service.cpuSeconds();
      const vendorCpuAfter = vendors!.cpuSeconds();
      const latencies = await runsOf.latencies(sinceId);
      const runs = latencies.length;
      const last = drain.lastFinishedAt;
      const calls = runs / runsPerCall;
      const perCall = (before: number | null, after: number | null) => (before !== null && after !== null && runs > 0 ? ((after - before) * 1000) / calls : null);
      return {
        load,
        runs,
        finishedDuringLoad,
        drain,
        callsPerSec: last !== null && last > load.startedAt ? calls / ((last - load.startedAt) / 1000) : null,
        cpuMsPerCall: perCall(cpuBefore, cpuAfter),
        vendorCpuMsPerCall: perCall(vendorCpuBefore, vendorCpuAfter),
        latency: {
          p50: percentile(latencies, 0.5),
          p90: percentile(latencies, 0.9),
          p99: percentile(latencies, 0.99),
          max: latencies.at(-1) ?? null,
        },
      };
    };
    const loadBare = async (phase: Phase, label: string, durationSec: number) => {
      const result = await bench.load(bare, {
        label,
        durationSec,
        nextBody: () => payload.body(nextBareId++),
        ...(phase === 'max' ? {} : { overallRate: settings.rate, paced: phase === 'paced' }),
      });
      bench.checkpoint();
      return result;
    };

    if (settings.warmupSec > 0) {
      await loadBare('max', 'e2e warm-up bare', settings.warmupSec);
      await loadE2e('paced', 'e2e warm-up aftercall', settings.warmupSec);
      await loadE2e('max', 'e2e warm-up aftercall (default mappings)', settings.warmupSec, defaultsTarget);
    }
    await sleep(1_000); // idle: no load, the queue empty, timers settled
    const rssIdle = { bareIdle: bare.rssMb(), e2eStart: rssStart, e2eIdle: e2e.rssMb(), e2eIdleEnd: null as number | null };

    const rounds: Round[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      const entry = { round, bare: {}, e2e: {} } as Round;
      for (const phase of PHASES) {
        const what = phase === 'max' ? 'max' : `${settings.rate}/s ${phase === 'paced' ? 'paced' : 'autocannon'}`;
        entry.bare[phase] = await loadBare(phase, `e2e round ${round} bare ${what}`, settings.durationSec);
        entry.e2e[phase] = await loadE2e(phase, `e2e round ${round} aftercall ${phase === 'max' ? 'burst' : what}`, settings.durationSec);
      }
      entry.defaults = await loadE2e('max', `e2e round ${round} aftercall burst (default mappings)`, settings.durationSec, defaultsTarget);
      rounds.push(entry);
    }
    await sleep(1_000);
    rssIdle.e2eIdleEnd = e2e.rssMb();

    const statusCounts = await source.countsByStatus();
    const dead = statusCounts.dead ?? 0;
    if (dead > 0) bench.fail(`e2e: ${dead} runs ended dead`);
    const failUnlessAllSucceeded = (label: string, counts: Record<string, number>) => {
      const notSucceeded = Object.entries(counts).filter(([s]) => s !== 'succeeded');
      if (notSucceeded.length > 0) bench.fail(`${label}: runs not succeeded: ${JSON.stringify(Object.fromEntries(notSucceeded))}`);
    };
    failUnlessAllSucceeded('e2e', statusCounts);
    const stats = await vendorStats(vendorUrl);
    const receiverRequests = (counts: Record<string, number>) =>
      Object.entries(counts).filter(([k]) => k.includes(' /receiver/')).reduce((sum, [, v]) => sum + v, 0);
    const receiverTotal = receiverRequests(stats.counts);
    const defaultRequests = receiverTotal - receiverRequests(requestsBefore.counts);
    const defaultsStatus = await defaultsSource.countsByStatus();
    failUnlessAllSucceeded('e2e (default mappings)', defaultsStatus);
    const defaultCalls = (defaultsStatus.succeeded ?? 0) / DEFAULT_RUNS_PER_CALL;
    if (receiverTotal < defaultCalls * DEFAULT_REQUESTS_PER_CALL) {
      bench.fail(`e2e (default mappings): the stub receiver saw ${receiverTotal} requests for ${defaultCalls} calls (expected ${DEFAULT_REQUESTS_PER_CALL} each)`);
    }
    // The rest of the report is about the SDK example's requests.
    stats.total -= receiverTotal;
    stats.operations -= receiverTotal;
    for (const key of Object.keys(stats.counts)) if (key.includes(' /receiver/')) delete stats.counts[key];
    const runsSucceeded = statusCounts.succeeded ?? 0;
    if (stats.operations < runsSucceeded * VENDOR_OPERATIONS_PER_CALL) {
      bench.fail(`e2e: the stub vendors saw ${stats.operations} records written or read for ${runsSucceeded} runs (expected ${VENDOR_OPERATIONS_PER_CALL} each)`);
    }
    return {
      rounds,
      rate: settings.rate,
      payloadBytes: payload.bytes,
      rss: rssIdle,
      statusCounts,
      vendorRequests: stats.total,
      vendorOperations: stats.operations,
      vendorCounts: stats.counts,
      runsSucceeded,
      workerConcurrency: process.env.WORKER_CONCURRENCY ?? `${DEFAULTS.WORKER_CONCURRENCY} (default)`,
      workerYield: process.env.WORKER_YIELD_ABOVE_UTILIZATION ?? `${DEFAULTS.WORKER_YIELD_ABOVE_UTILIZATION} (default)`,
      underTsx: bench.underTsx,
      defaultRequests,
    };
  } finally {
    await reader?.close();
    await defaultsReader?.close();
    await bench.stop(...servers.reverse());
  }
}

async function vendorStats(vendorUrl: string): Promise<{ total: number; operations: number; counts: Record<string, number> }> {
  const response = await fetch(`${vendorUrl}/__bench/stats`, { signal: AbortSignal.timeout(5_000) });
  return (await response.json()) as { total: number; operations: number; counts: Record<string, number> };
}

export function e2eFigures(outcome: E2eOutcome): Figure[] {
  const n = outcome.rounds.length;
  const r = outcome.rounds;
  const bareMax = meanOf(r.map((x) => x.bare.max.reqPerSec));
  const e2eMax = meanOf(r.map((x) => x.e2e.max.callsPerSec ?? NaN));
  const defaultsMax = meanOf(r.map((x) => x.defaults.callsPerSec ?? NaN));
  const p99 = (phase: Phase, side: 'bare' | 'e2e') => maxOf(r.map((x) => (side === 'bare' ? x.bare[phase] : x.e2e[phase].load).latency.p99));
  const e2eLatency = (q: 'p50' | 'p99') => maxOf(r.map((x) => x.e2e.paced.latency[q]));
  const rssLoad = maxOf(r.flatMap((x) => PHASES.map((p) => x.e2e[p].load.rssMaxMb)));
  const bareRssLoad = maxOf(r.flatMap((x) => PHASES.map((p) => x.bare[p].rssMaxMb)));
  const rate = outcome.rate;
  const figures: Figure[] = [
    {
      figure: `end to end on SQLite (HubSpot + Twilio example, stub vendors), calls/s for a burst of ${r[0]?.e2e.max.load.amount ?? '—'} calls (mean of ${n})`,
      baseline: `${fixed(bareMax)} req/s (bare)`,
      value: fixed(e2eMax),
      ratio: ratio(e2eMax / bareMax),
      target: `≥ ${TARGET_E2E_PER_SEC} calls/s`,
      result: verdict(Number.isFinite(e2eMax) ? e2eMax >= TARGET_E2E_PER_SEC : false),
    },
    {
      figure: `end to end on SQLite (default example mappings: 2 runs, 3 http.request per call, stub receiver), calls/s for a burst of ${r[0]?.defaults.load.amount ?? '—'} calls (mean of ${n})`,
      baseline: `${fixed(bareMax)} req/s (bare)`,
      value: fixed(defaultsMax),
      ratio: ratio(defaultsMax / bareMax),
      target: `≥ ${TARGET_E2E_PER_SEC} calls/s`,
      result: verdict(Number.isFinite(defaultsMax) ? defaultsMax >= TARGET_E2E_PER_SEC : false),
    },
    {
      figure: `end to end latency, receipt → last step, at ${rate}/s paced, p50 / p99 ms (worst of ${n})`,
      baseline: '—',
      value: `${fixed(e2eLatency('p50'))} / ${fixed(e2eLatency('p99'))}`,
      ratio: '—',
      target: 'report only',
      result: 'report only',
    },
  ];
  // The target is a rate: requests spread evenly over each second. autocannon's overallRate sends
  // each second's 500 requests back to back at its start, so that row measures how a burst of
  // 500 queues (the bare endpoint's own p99 there is of the order of the target): reported beside it.
  for (const phase of ['paced', 'rate'] as const) {
    const ac = p99(phase, 'e2e');
    const base = p99(phase, 'bare');
    figures.push({
      figure: `ack p99 at ${rate} req/s, ${phase === 'rate' ? 'autocannon overallRate (a burst of 500 at the start of each second)' : 'evenly paced'}, ms (worst of ${n})`,
      baseline: `${fixed(base, base !== null && base < 10 ? 1 : 0)} (bare)`,
      value: fixed(ac, ac !== null && ac < 10 ? 1 : 0),
      ratio: ratio(ac !== null && base ? ac / base : null),
      target: phase === 'paced' ? `≤ ${TARGET_ACK_P99_MS} ms` : 'report only',
      result: phase === 'paced' ? verdict(ac !== null && ac <= TARGET_ACK_P99_MS) : 'report only',
    });
  }
  figures.push(
    {
      figure: 'RSS of the aftercall process at idle (after warm-up), MB',
      baseline: `${fixed(outcome.rss.bareIdle)} (bare)`,
      value: fixed(outcome.rss.e2eIdle),
      ratio: ratio(outcome.rss.e2eIdle !== null && outcome.rss.bareIdle ? outcome.rss.e2eIdle / outcome.rss.bareIdle : null),
      target: `≤ ${TARGET_RSS_MB} MB`,
      result: verdict(outcome.rss.e2eIdle !== null && outcome.rss.e2eIdle <= TARGET_RSS_MB),
    },
    {
      figure: 'RSS of the aftercall process under load (max sampled), MB',
      baseline: `${fixed(bareRssLoad)} (bare)`,
      value: fixed(rssLoad),
      ratio: ratio(rssLoad !== null && bareRssLoad ? rssLoad / bareRssLoad : null),
      target: `≤ ${TARGET_RSS_MB} MB`,
      result: verdict(rssLoad !== null && rssLoad <= TARGET_RSS_MB),
    },
  );
  return figures;
}

export function e2eDetail(outcome: E2eOutcome): string {
  const out: string[] = [];
  out.push('### 3–4. End to end with connectors, ack latency at a fixed rate, memory (issue 8)', '');
  out.push(
    `- aftercall on SQLite (WAL, synchronous=FULL) with examples/hubspot-twilio/sales-qualification.yaml, WORKER_CONCURRENCY=${outcome.workerConcurrency}, WORKER_YIELD_ABOVE_UTILIZATION=${outcome.workerYield}; ` +
      `body: test/fixtures/sales-qualification.json (${outcome.payloadBytes} bytes, a hot lead: contact search + upsert, note, deal, task, SMS), unique call id per request; ` +
      'the bare endpoint gets the same body',
  );
  out.push(
    `- stub vendors (HubSpot and Twilio fakes from test/connectors/support, one child process, answering at once) saw ${outcome.vendorRequests} requests ` +
      `for ${outcome.runsSucceeded} succeeded runs (${fixed(outcome.vendorRequests / Math.max(1, outcome.runsSucceeded), 2)} per call; ` +
      `${fixed(outcome.vendorOperations / Math.max(1, outcome.runsSucceeded), 2)} records written or read per call, creates and updates batched across runs): ` +
      Object.entries(outcome.vendorCounts)
        .filter(([k]) => !k.includes('__bench'))
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
  );
  out.push(
    `- ${outcome.rate}/s autocannon: \`overallRate\`, each connection sends its share at the start of every second back to back (bursts of ${outcome.rate} over the connections); ` +
      `${outcome.rate}/s paced: one request every ${fixed(1000 / outcome.rate, 1)} ms on a keep-alive pool, latency from when each was due; ` +
      'max: autocannon as fast as the connections allow for the duration (the bare baseline); burst of N: N calls as fast as the connections allow (rate × duration, ' +
      'so a service that keeps the target finishes them within the duration)',
  );
  out.push(
    `- RSS (VmRSS): aftercall right after start ${fixed(outcome.rss.e2eStart)} MB, idle after warm-up ${fixed(outcome.rss.e2eIdle)} MB, ` +
      `idle at the end ${fixed(outcome.rss.e2eIdleEnd)} MB; bare idle ${fixed(outcome.rss.bareIdle)} MB` +
      (outcome.underTsx ? ' (BENCH_TSX=1: both under tsx, whose loader adds tens of MB)' : ' (both transpiled to JavaScript, as deployed; not under tsx)'),
  );
  out.push('');
  const rows: RoundRow[] = outcome.rounds.flatMap((r) => [
    ...PHASES.flatMap((p) => [
      { round: r.round, server: 'bare', result: r.bare[p] },
      { round: r.round, server: 'aftercall e2e', result: r.e2e[p].load },
    ]),
    { round: r.round, server: 'aftercall default mappings', result: r.defaults.load },
  ]);
  out.push(roundsTable(rows, { helper: 'vendors' }), '');
  out.push(
    table(
      [
        'round',
        'load',
        'acked',
        'runs finished during load',
        'open at last ack',
        'drained after',
        'calls/s end to end',
        'receipt → last step p50 / p90 / p99 / max ms',
        'CPU ms per call: aftercall / vendors',
      ],
      outcome.rounds.flatMap((r) =>
        [...PHASES.map((p) => ({ x: r.e2e[p], what: '' })), { x: r.defaults, what: ' (default mappings)' }].map(({ x, what }) => {
          return [
            r.round,
            loadLabel(x.load) + what,
            x.load.expected,
            `${x.finishedDuringLoad} (${fixed(x.finishedDuringLoad / x.load.seconds)}/s)`,
            x.drain.openAtLastAck,
            `${fixed(x.drain.seconds, 2)} s${x.drain.timedOut ? ' (timed out)' : ''}`,
            fixed(x.callsPerSec),
            [x.latency.p50, x.latency.p90, x.latency.p99, x.latency.max].map((v) => fixed(v)).join(' / '),
            `${fixed(x.cpuMsPerCall, 2)} / ${fixed(x.vendorCpuMsPerCall, 2)}`,
          ];
        }),
      ),
    ),
    '',
  );
  out.push(
    '- calls/s end to end: the runs of that load (all succeeded) / (last run finished − load start), so a backlog the worker drains after the load counts against it; ' +
      'receipt → last step: runs.finished_at − runs.created_at (created_at is taken when the delivery is received, just before its commit and ack); ' +
      'CPU ms per call: CPU time of the process from the start of the load to the end of the drain, over the runs of that load.',
  );
  out.push(
    `- default mappings: a second aftercall with the service's own mappings/ (their receiver URL pointed at the stub vendors' /receiver/), ` +
      `the same body: sales-qualification (crm, alert_sales) and forward-completed-calls (log, forward) take it, ${DEFAULT_RUNS_PER_CALL} runs and ` +
      `${DEFAULT_REQUESTS_PER_CALL} requests per call, no SDK; the receiver saw ${outcome.defaultRequests} requests; its runs and CPU are counted per call, not per run`,
  );
  out.push(`- runs by status at the end: ${Object.entries(outcome.statusCounts).map(([s, c]) => `${s} ${c}`).join(', ')}`);
  out.push(`- ${CPU_NOTE}`);
  return out.join('\n');
}
