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
import { join } from 'node:path';
import { loadConfig } from '../src/config.js';
import type { ServerProcess } from './child.js';
import { sleep, type Bench } from './context.js';
import { e2eLoaders } from './e2e-loads.js';
import { PHASES, type E2eOutcome, type Round } from './e2e-outcome.js';
import { DEFAULT_REQUESTS_PER_CALL, DEFAULT_RUNS_PER_CALL, releaseE2e, startE2eScenario, vendorStats, type E2eCallIds, type E2eResources } from './e2e-scenario.js';
import { buildPayload, FIXTURES } from './payload.js';

export { e2eDetail, e2eFigures } from './e2e-report.js';
export type { E2eOutcome } from './e2e-outcome.js';

/** Records each call writes or reads at the stub vendors (a batch request counts its inputs). */
const VENDOR_OPERATIONS_PER_CALL = 6;
/** The service's settings when the environment sets none, to name the worker settings measured. */
const DEFAULTS = loadConfig({});

export async function runE2e(bench: Bench, bare: ServerProcess): Promise<E2eOutcome> {
  const { settings } = bench;
  const payload = buildPayload(0, join(FIXTURES, 'sales-qualification.json'));
  const ids: E2eCallIds = { call: 50_000_000, bare: 50_000_000 };
  const resources: E2eResources = { servers: [], reader: null, defaultsReader: null };
  try {
    const scenario = await startE2eScenario(bench, payload, ids, resources);
    const { e2e, source, defaultsTarget, vendorUrl, rssStart } = scenario;
    const defaultsSource = defaultsTarget.runs;
    const requestsBefore = await vendorStats(vendorUrl);
    const { loadE2e, loadBare } = e2eLoaders(bench, bare, scenario, payload, ids);

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
    await releaseE2e(bench, resources);
  }
}
