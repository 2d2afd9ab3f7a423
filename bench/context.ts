// What every part of the benchmark shares: the settings, the temp dir, the failure list and
// the Ctrl-C state, the server processes (each one started here is stopped here), and the
// load and drain helpers that check their results on the way.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildServers, builtScript } from './build.js';
import { ROOT, spawnServer, type ServerProcess, type SpawnOptions } from './child.js';
import { waitForDrain, type DrainResult, type RunsSource } from './drain.js';
import { runLoad, runPaced, type LoadOptions, type LoadResult, type Stoppable } from './load.js';

export const TOKEN = 'bench-token-0123456789abcdef';
export const HOOK_PATH = `/webhooks/post-call/${TOKEN}`;

export type Section = 'ingest' | 'mapping' | 'e2e' | 'volume' | 'inbound';
export const SECTIONS: readonly Section[] = ['ingest', 'mapping', 'e2e', 'volume', 'inbound'];

export interface Settings {
  durationSec: number;
  rounds: number;
  connections: number;
  warmupSec: number;
  drainTimeoutSec: number;
  /** The fixed rate of the latency figure (req/s). */
  rate: number;
  /** Pre-filled stored calls of the volume figure: [small, large]. */
  volume: [number, number];
  large: boolean;
  /** In-process mapping micro-benchmark: rounds of this many ms per figure. */
  microRoundMs: number;
  microRounds: number;
  sections: Section[];
  quick: boolean;
}

/** aftercall settings a user's environment must not leak into the measured services. */
const SERVICE_ENV_KEYS = [
  'PORT', 'HOST', 'PUBLIC_URL', 'WEBHOOK_TOKENS', 'WEBHOOK_SIGNING_SECRET', 'WEBHOOK_SIGNATURE_HEADER', 'SQLITE_PATH',
  'DATABASE_URL', 'MAPPINGS_DIR', 'SCHEMA_MODE', 'LOG_LEVEL', 'BODY_LIMIT_BYTES', 'RATE_LIMIT_PER_MINUTE', 'TRUST_PROXY',
  'ADMIN_TOKEN', 'METRICS_TOKEN', 'RETENTION_DAYS', 'NODE_OPTIONS', 'SMTP_URL', 'EMAIL_FROM',
  // the connectors' SDKs would send the stub vendors' traffic through a proxy
  'HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy', 'ALL_PROXY', 'all_proxy',
];
const SERVICE_ENV_PREFIXES = ['HUBSPOT_', 'SALESFORCE_', 'PIPEDRIVE_', 'TWILIO_'];

/** The servers whose figures are reported: they run transpiled (build.ts) unless BENCH_TSX=1. */
export const SERVER_SCRIPTS = {
  aftercall: join(ROOT, 'bench', 'servers', 'aftercall.ts'),
  bare: join(ROOT, 'bench', 'servers', 'bare.ts'),
  reference: join(ROOT, 'bench', 'servers', 'reference.ts'),
  vendors: join(ROOT, 'bench', 'servers', 'vendors.ts'),
};
const MEASURED_SERVERS = [SERVER_SCRIPTS.aftercall, SERVER_SCRIPTS.bare, SERVER_SCRIPTS.reference, join(ROOT, 'bench', 'servers', 'lifecycle.ts')];

/** The node flags of `npm start` (the heap limit): the measured aftercall runs as deployed. */
export function startNodeFlags(): string[] {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.split(/\s+/);
  return words.slice(words.indexOf('node') + 1).filter((w) => w.startsWith('--'));
}

export class Interrupted extends Error {}
/** Thrown once a failure has been recorded (and printed) by fail(). */
export class Failed extends Error {}

const TMP_PREFIX = 'aftercall-bench-';
const OWNER_FILE = 'owner.pid';

export class Bench {
  readonly failures: string[] = [];
  /** Things worth saying next to the figures (skipped parts and why). */
  readonly notes: string[] = [];
  interrupted = false;
  readonly tmp: string;
  readonly baseEnv: NodeJS.ProcessEnv;
  readonly logLevel = process.env.BENCH_LOG_LEVEL ?? 'warn';
  private current: Stoppable | null = null;
  private readonly servers = new Set<ServerProcess>();
  /** The transpiled servers (see build.ts), or null under BENCH_TSX=1 or before the first start. */
  private build: string | null = null;
  /** BENCH_TSX=1: run the measured servers under tsx instead (a check that both agree). */
  readonly underTsx = /^(1|true|yes)$/i.test(process.env.BENCH_TSX ?? '');

  constructor(readonly settings: Settings) {
    removeStaleTempDirs();
    this.tmp = mkdtempSync(join(tmpdir(), TMP_PREFIX));
    writeFileSync(join(this.tmp, OWNER_FILE), String(process.pid));
    process.on('exit', () => this.removeTmp()); // last resort; normally removed by close()
    this.baseEnv = { ...process.env, NODE_ENV: 'production' };
    for (const key of Object.keys(this.baseEnv)) {
      if (SERVICE_ENV_KEYS.includes(key) || SERVICE_ENV_PREFIXES.some((p) => key.startsWith(p))) delete this.baseEnv[key];
    }
  }

  dir(name: string): string {
    const path = join(this.tmp, name);
    mkdirSync(path, { recursive: true });
    return path;
  }

  fail(message: string): void {
    this.failures.push(message);
    console.error(`bench: ${message}`);
  }

  /** Throws when the run must end: Ctrl-C, or a failure recorded. */
  checkpoint(): void {
    if (this.interrupted) throw new Interrupted();
    if (this.failures.length > 0) throw new Failed();
  }

  onSignal(signal: NodeJS.Signals): void {
    if (this.interrupted) process.exit(130); // second Ctrl-C: the exit hooks still kill the servers
    this.interrupted = true;
    console.error(`bench: ${signal}, stopping`);
    this.current?.stop();
  }

  /** Starts a server child; one that exits on its own fails the run and stops the load. */
  async start(options: Omit<SpawnOptions, 'onUnexpectedExit'>): Promise<ServerProcess> {
    const profileDir = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : null;
    const profile = profileDir && options.name.startsWith('aftercall') ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    const measured = MEASURED_SERVERS.includes(options.script) && !this.underTsx;
    if (measured && this.build === null) {
      this.build = join(this.tmp, 'build');
      const started = Date.now();
      const files = buildServers(this.build, MEASURED_SERVERS);
      console.error(`bench: transpiled ${files} files of src/ and bench/servers into ${this.build} (${Date.now() - started} ms)`);
    }
    const server = await spawnServer({
      ...options,
      ...(measured ? { script: builtScript(this.build!, options.script), loader: 'none' as const } : {}),
      nodeArgs: [...profile, ...(options.name.startsWith('aftercall') ? startNodeFlags() : []), ...(options.nodeArgs ?? [])],
      onUnexpectedExit: (name, code, signal) => {
        this.fail(`${name} server exited unexpectedly (code ${code}, signal ${signal})`);
        this.current?.stop();
      },
    });
    this.servers.add(server);
    return server;
  }

  /** Starts several at once; if one fails, the others are stopped again. */
  async startAll(list: Array<Omit<SpawnOptions, 'onUnexpectedExit'>>): Promise<ServerProcess[]> {
    const started = await Promise.allSettled(list.map((o) => this.start(o)));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await this.stop(...started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : [])));
      throw failed.reason;
    }
    return started.map((s) => (s as PromiseFulfilledResult<ServerProcess>).value);
  }

  async stop(...servers: ServerProcess[]): Promise<void> {
    await Promise.all(
      servers.map(async (server) => {
        await server.stop();
        this.servers.delete(server);
      }),
    );
  }

  /** One load round; checks every reply, error and the round's end. */
  async load(
    server: ServerProcess,
    options: Pick<LoadOptions, 'label' | 'durationSec' | 'nextBody'> &
      Partial<Pick<LoadOptions, 'overallRate' | 'amount' | 'connections' | 'helperCpu' | 'path' | 'expectStatus'>> & { paced?: boolean },
  ): Promise<LoadResult> {
    const full: LoadOptions = {
      port: server.port,
      path: HOOK_PATH,
      connections: this.settings.connections,
      expectStatus: 202,
      serverCpu: () => server.cpuSeconds(),
      serverRss: () => server.rssMb(),
      onStoppable: (s) => {
        this.current = s;
      },
      ...options,
    };
    const how = options.overallRate ? `${options.overallRate} req/s ${options.paced ? 'evenly paced' : '(autocannon overallRate)'}` : 'as fast as possible';
    const size = options.amount ? `${options.amount} requests` : `${options.durationSec} s`;
    console.error(`bench: ${options.label}: ${size}, ${full.connections} connections, ${how}`);
    const result = options.paced && options.overallRate ? await runPaced({ ...full, overallRate: options.overallRate }) : await runLoad(full);
    this.checkLoad(result);
    return result;
  }

  private checkLoad(result: LoadResult): void {
    if (result.unexpected > 0) this.fail(`${result.label}: ${result.unexpected} replies were not 202 (${JSON.stringify(result.statusCodes)})`);
    if (result.errors > 0 || result.timeouts > 0) this.fail(`${result.label}: ${result.errors} request errors, ${result.timeouts} timeouts`);
    if (result.overran && !this.interrupted) this.fail(`${result.label}: the round did not end on time and was cut off`);
    if (result.expected === 0) this.fail(`${result.label}: no reply at all`);
  }

  /** Waits for the worker to finish every open run; a timeout fails the run. */
  async drain(source: RunsSource, sinceId: number, lastAckAt: number, label: string): Promise<DrainResult> {
    const result = await waitForDrain(
      source,
      sinceId,
      lastAckAt,
      this.settings.drainTimeoutSec * 1000,
      () => this.interrupted || this.failures.length > 0,
    ).catch((error: unknown) => {
      this.checkpoint(); // stopped on purpose: report why
      throw error;
    });
    if (result.timedOut) this.fail(`${label}: the worker did not finish the open runs within ${this.settings.drainTimeoutSec} s`);
    return result;
  }

  /** Stops whatever is still running and removes the temp dir. */
  async close(): Promise<void> {
    this.current?.stop();
    await Promise.all([...this.servers].map((s) => s.stop()));
    this.servers.clear();
    this.removeTmp();
  }

  private removeTmp(): void {
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** Temp dirs of earlier runs that were killed outright (SIGKILL skips every cleanup hook). */
function removeStaleTempDirs(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(TMP_PREFIX)) continue;
    const dir = join(tmpdir(), name);
    try {
      const owner = Number(readFileSync(join(dir, OWNER_FILE), 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && !isAlive(owner)) rmSync(dir, { recursive: true, force: true });
    } catch {
      // not ours, or no owner file: leave it alone
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** One request first: the wiring is right (202, the runs planned) before any load. */
export async function probe(port: number, body: string, ok: (reply: Record<string, unknown>) => boolean): Promise<void> {
  const response = await fetch(`http://127.0.0.1:${port}${HOOK_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const reply = (await response.json()) as Record<string, unknown>;
  if (response.status !== 202 || !ok(reply)) {
    throw new Error(`probe of 127.0.0.1:${port} answered ${response.status} ${JSON.stringify(reply)}`);
  }
}

/** Call ids: one sequence per server, so every request anywhere is a new call. */
export class Ids {
  private next: number;
  constructor(first: number) {
    this.next = first;
  }
  take(): number {
    return this.next++;
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
