// The e2e section's three processes (stub vendors, two aftercalls): started, probed once, released.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, type ServerProcess } from './child.js';
import { probe, SERVER_SCRIPTS, TOKEN, type Bench } from './context.js';
import { SqliteRuns } from './drain.js';
import type { BenchPayload } from './payload.js';

const EXAMPLE_DIR = join(ROOT, 'examples', 'hubspot-twilio');
// The service's own example mappings (what `npm start` serves): for the sales fixture,
// sales-qualification (crm + alert_sales http.request steps, scored) and forward-completed-calls
// (log + forward): 2 runs, 3 requests to the local receiver, no SDK.
const DEFAULT_MAPPINGS_DIR = join(ROOT, 'mappings');
const DEFAULT_RECEIVER = 'http://127.0.0.1:4000';
export const DEFAULT_RUNS_PER_CALL = 2;
export const DEFAULT_REQUESTS_PER_CALL = 3;

/** The next call id of each side: unique per request, the aftercalls sharing one sequence. */
export interface E2eCallIds {
  call: number;
  bare: number;
}

/** An aftercall under load, where its runs are read, and how many runs one call makes there. */
export interface E2eTarget {
  service: ServerProcess;
  runs: SqliteRuns;
  runsPerCall: number;
}

/** What releaseE2e closes and stops; filled in as each part starts, so a failed start is released too. */
export interface E2eResources {
  servers: ServerProcess[];
  reader: SqliteRuns | null;
  defaultsReader: SqliteRuns | null;
}

export interface E2eScenario {
  vendors: ServerProcess;
  vendorUrl: string;
  /** aftercall with examples/hubspot-twilio. */
  e2e: ServerProcess;
  /** Its SQLite runs. */
  source: SqliteRuns;
  /** The aftercall with the default example mappings. */
  defaultsTarget: E2eTarget;
  /** RSS of the e2e aftercall once all three processes are up, before any call. */
  rssStart: number | null;
}

/** Starts the three processes, each kept in `resources` as it starts, and sends one call through each aftercall. */
export async function startE2eScenario(bench: Bench, payload: BenchPayload, ids: E2eCallIds, resources: E2eResources): Promise<E2eScenario> {
  const { servers } = resources;
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
  // Files only: the mapping tests (tests/) are not what the service loads.
  for (const file of readdirSync(DEFAULT_MAPPINGS_DIR, { withFileTypes: true }).filter((f) => f.isFile()).map((f) => f.name)) {
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
  resources.defaultsReader = new SqliteRuns(defaultsDb);
  const defaultsSource = resources.defaultsReader;
  bench.checkpoint();
  const rssStart = e2e.rssMb();
  resources.reader = new SqliteRuns(dbPath);
  const source = resources.reader;

  // One call through the whole path first: the run succeeds and the vendors saw its requests.
  await probe(e2e.port, payload.body(ids.call++), (body) => body.status === 'accepted' && body.runs === 1);
  await bench.drain(source, 0, Date.now(), 'e2e probe');
  const probeStatus = await source.countsByStatus();
  if ((probeStatus.succeeded ?? 0) !== 1) throw new Error(`e2e probe: the run did not succeed (${JSON.stringify(probeStatus)}); see the aftercall-e2e log above`);
  await probe(defaultsService!.port, payload.body(ids.call++), (body) => body.status === 'accepted' && body.runs === DEFAULT_RUNS_PER_CALL);
  await bench.drain(defaultsSource, 0, Date.now(), 'e2e defaults probe');
  const defaultsProbe = await defaultsSource.countsByStatus();
  if ((defaultsProbe.succeeded ?? 0) !== DEFAULT_RUNS_PER_CALL) {
    throw new Error(`e2e probe (default mappings): the runs did not succeed (${JSON.stringify(defaultsProbe)}); see the aftercall-e2e-defaults log above`);
  }
  const defaultsTarget = { service: defaultsService!, runs: defaultsSource, runsPerCall: DEFAULT_RUNS_PER_CALL };
  return { vendors: vendors!, vendorUrl, e2e, source, defaultsTarget, rssStart };
}

export async function releaseE2e(bench: Bench, resources: E2eResources): Promise<void> {
  await resources.reader?.close();
  await resources.defaultsReader?.close();
  await bench.stop(...resources.servers.reverse());
}

/** The requests the stub vendors have seen so far, by route, and the records they wrote or read. */
export async function vendorStats(vendorUrl: string): Promise<{ total: number; operations: number; counts: Record<string, number> }> {
  const response = await fetch(`${vendorUrl}/__bench/stats`, { signal: AbortSignal.timeout(5_000) });
  return (await response.json()) as { total: number; operations: number; counts: Record<string, number> };
}
