// `npm run bench`: durable ingest throughput of aftercall against a bare Express baseline, both
// in their own child process on 127.0.0.1, loaded by autocannon from this process in
// alternating rounds (bare, aftercall, bare, aftercall, ...). After every aftercall round the
// worker's drain rate is read from the SQLite file. Prints a markdown report.
//
//   npm run bench -- [--duration 5] [--rounds 3] [--connections 32] [--warmup 2] [--drain-timeout 120]
//   BENCH_QUICK=1 npm run bench          one round of 2 s (1 s warm-up)
//   BENCH_CPU_PROF=<dir> npm run bench   also write a V8 CPU profile of the aftercall process
//   BENCH_LOG_LEVEL=<level>              LOG_LEVEL of the aftercall process (default warn)
//   WORKER_CONCURRENCY, WORKER_POLL_INTERVAL_MS, LEASE_MS ... are passed on to the aftercall process
//
// Exit code: 0 when the run completed (targets missed or not: it is a report); 1 when a server
// failed, a reply was not 202, a request errored, the worker did not drain or a run died;
// 130 on Ctrl-C.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type autocannon from 'autocannon';
import { spawnServer, ROOT, type ServerProcess } from './child.js';
import { RunsReader, type DrainResult } from './drain.js';
import { runLoad, type LoadOptions, type LoadResult } from './load.js';
import { buildPayload } from './payload.js';

const TOKEN = 'bench-token-0123456789abcdef';
const HOOK_PATH = `/webhooks/post-call/${TOKEN}`;
const TARGET_RATIO = 0.55;
const TARGET_P99_MS = 50;

const MAPPING = `# Benchmark sink: one log step at debug level, a no-op at LOG_LEVEL=warn.
name: bench-log
description: Log every call at debug level.
steps:
  - id: note
    use: log
    with:
      level: debug
      message: "call {{ call.id }} ({{ call.variant }}) finished after {{ call.duration }} s"
`;

/** aftercall settings a user's environment must not leak into the measured service. */
const SERVICE_ENV_KEYS = [
  'PORT', 'HOST', 'PUBLIC_URL', 'WEBHOOK_TOKENS', 'WEBHOOK_SIGNING_SECRET', 'WEBHOOK_SIGNATURE_HEADER', 'SQLITE_PATH',
  'DATABASE_URL', 'MAPPINGS_DIR', 'SCHEMA_MODE', 'LOG_LEVEL', 'BODY_LIMIT_BYTES', 'RATE_LIMIT_PER_MINUTE', 'TRUST_PROXY',
  'ADMIN_TOKEN', 'NODE_OPTIONS',
];

interface Settings {
  durationSec: number;
  rounds: number;
  connections: number;
  warmupSec: number;
  drainTimeoutSec: number;
  quick: boolean;
}

const USAGE = `usage: npm run bench -- [--duration SEC] [--rounds N] [--connections N] [--warmup SEC] [--drain-timeout SEC]
  defaults: 3 rounds of 5 s per server, 32 connections, 2 s warm-up; BENCH_QUICK=1: 1 round of 2 s, 1 s warm-up`;

function readSettings(): Settings {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string' },
      warmup: { type: 'string' },
      'drain-timeout': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = /^(1|true|yes)$/i.test(process.env.BENCH_QUICK ?? '');
  const num = (name: string, given: string | undefined, fallback: number, min: number, max: number, integer = false) => {
    if (given === undefined) return fallback;
    const value = Number(given);
    if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      throw new Error(`--${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}\n${USAGE}`);
    }
    return value;
  };
  return {
    durationSec: num('duration', values.duration, quick ? 2 : 5, 0.5, 600),
    rounds: num('rounds', values.rounds, quick ? 1 : 3, 1, 50, true),
    connections: num('connections', values.connections, 32, 1, 1024, true),
    warmupSec: num('warmup', values.warmup, quick ? 1 : 2, 0, 60),
    drainTimeoutSec: num('drain-timeout', values['drain-timeout'], 120, 1, 3600),
    quick,
  };
}

interface Round {
  round: number;
  bare: LoadResult;
  aftercall: LoadResult;
  /** Runs finished while the aftercall round was running. */
  finishedDuringLoad: number;
  drain: DrainResult;
}

async function main(): Promise<number> {
  let settings: Settings;
  try {
    settings = readSettings();
  } catch (error) {
    console.error(`bench: ${(error as Error).message}`);
    if (!(error as Error).message.includes('usage:')) console.error(USAGE);
    return 1;
  }
  const loadBefore = loadavg();
  const failures: string[] = [];
  let interrupted = false;
  let current: autocannon.Instance | null = null;
  const fail = (message: string) => {
    failures.push(message);
    console.error(`bench: ${message}`);
  };
  const stopLoad = () => current?.stop();
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) process.exit(130); // second Ctrl-C: the exit hooks still kill the servers
    interrupted = true;
    console.error(`bench: ${signal}, stopping`);
    stopLoad();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const checkpoint = () => {
    if (interrupted) throw new Interrupted();
    if (failures.length > 0) throw new Failed();
  };

  removeStaleTempDirs();
  const tmp = mkdtempSync(join(tmpdir(), TMP_PREFIX));
  writeFileSync(join(tmp, OWNER_FILE), String(process.pid));
  const removeTmp = () => rmSync(tmp, { recursive: true, force: true });
  process.on('exit', removeTmp); // last resort; normally removed in the finally below
  const servers: ServerProcess[] = [];
  let reader: RunsReader | null = null;

  try {
    const payload = buildPayload(8 * 1024);
    let nextCallId = 1_000_000; // one sequence for every aftercall request: all ids unique
    let nextBareId = 1_000_000;
    let acked202 = 0; // aftercall replies with 202, warm-up and probe included

    const mappingsDir = join(tmp, 'mappings');
    mkdirSync(mappingsDir);
    writeFileSync(join(mappingsDir, 'bench-log.yaml'), MAPPING);
    const dbPath = join(tmp, 'aftercall.db');

    const baseEnv: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' };
    for (const key of SERVICE_ENV_KEYS) delete baseEnv[key];
    const onUnexpectedExit = (name: string, code: number | null, signal: NodeJS.Signals | null) => {
      fail(`${name} server exited unexpectedly (code ${code}, signal ${signal})`);
      stopLoad();
    };
    const logLevel = process.env.BENCH_LOG_LEVEL ?? 'warn';
    const profileDir = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : null;
    if (profileDir) mkdirSync(profileDir, { recursive: true });

    console.error('bench: starting servers');
    const started = await Promise.allSettled([
      spawnServer({ name: 'bare', script: join(ROOT, 'bench', 'servers', 'bare.ts'), env: baseEnv, onUnexpectedExit }),
      spawnServer({
        name: 'aftercall',
        script: join(ROOT, 'bench', 'servers', 'aftercall.ts'),
        nodeArgs: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
        env: {
          ...baseEnv,
          SQLITE_PATH: dbPath,
          MAPPINGS_DIR: mappingsDir,
          WEBHOOK_TOKENS: TOKEN,
          LOG_LEVEL: logLevel,
          RATE_LIMIT_PER_MINUTE: '0',
        },
        onUnexpectedExit,
      }),
    ]);
    for (const s of started) if (s.status === 'fulfilled') servers.push(s.value);
    const [bare, aftercall] = servers;
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    if (!bare || !aftercall) throw new Error('servers did not start');
    checkpoint();
    reader = new RunsReader(dbPath);

    // One request each first: the wiring is right (202, one run planned) before any load.
    await probe(bare.port, payload.body(nextBareId++), (body) => body.status === 'accepted');
    await probe(aftercall.port, payload.body(nextCallId++), (body) => body.status === 'accepted' && body.runs === 1);
    acked202 += 1;

    const load = (server: ServerProcess, label: string, durationSec: number): Promise<LoadResult> => {
      const isBare = server === bare;
      const options: LoadOptions = {
        label,
        port: server.port,
        path: HOOK_PATH,
        connections: settings.connections,
        durationSec,
        nextBody: () => payload.body(isBare ? nextBareId++ : nextCallId++),
        expectStatus: 202,
        serverCpu: () => server.cpuSeconds(),
        onInstance: (instance) => {
          current = instance;
        },
      };
      console.error(`bench: ${label}: ${durationSec} s, ${settings.connections} connections`);
      return runLoad(options).then((result) => {
        if (!isBare) acked202 += result.expected;
        checkLoad(result, fail);
        return result;
      });
    };
    const drain = async (lastAckAt: number) => {
      const result = await reader!
        .waitForDrain(lastAckAt, settings.drainTimeoutSec * 1000, () => interrupted || failures.length > 0)
        .catch((error: unknown) => {
          checkpoint(); // stopped on purpose: report why
          throw error;
        });
      if (result.timedOut) fail(`the worker did not finish the open runs within ${settings.drainTimeoutSec} s`);
      return result;
    };

    if (settings.warmupSec > 0) {
      await load(bare, 'warm-up bare', settings.warmupSec);
      checkpoint();
      const warm = await load(aftercall, 'warm-up aftercall', settings.warmupSec);
      checkpoint();
      await drain(warm.lastAckAt);
      checkpoint();
    }

    const rounds: Round[] = [];
    for (let round = 1; round <= settings.rounds; round++) {
      const bareResult = await load(bare, `round ${round} bare`, settings.durationSec);
      checkpoint();
      const acResult = await load(aftercall, `round ${round} aftercall`, settings.durationSec);
      checkpoint();
      const finishedDuringLoad = reader.finishedIn(acResult.startedAt, acResult.finishedAt);
      // Drained before the next bare round, so the worker never competes with the baseline.
      const drainResult = await drain(acResult.lastAckAt);
      checkpoint();
      rounds.push({ round, bare: bareResult, aftercall: acResult, finishedDuringLoad, drain: drainResult });
    }

    console.log(report(settings, payload.bytes, payload.turns, rounds, reader.countsByStatus(), reader.acceptedReceipts(), acked202, loadBefore));
    const dead = reader.countsByStatus().dead ?? 0;
    if (dead > 0) fail(`${dead} runs ended dead`);
    if (reader.acceptedReceipts() < acked202) fail('fewer accepted receipts in the database than 202 replies');
    if (failures.length > 0) {
      console.log(`\n**Bench FAILED:** ${failures.join('; ')}`);
      return 1;
    }
    return 0;
  } catch (error) {
    if (interrupted || error instanceof Interrupted) return 130;
    if (!(error instanceof Failed) || failures.length === 0) console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    stopLoad();
    reader?.close();
    await Promise.all(servers.map((server) => server.stop()));
    removeTmp();
    if (process.env.BENCH_CPU_PROF) console.error(`bench: CPU profile of the aftercall process in ${resolve(process.env.BENCH_CPU_PROF)}`);
  }
}

class Interrupted extends Error {}
/** Thrown once a failure has been recorded (and printed) by fail(). */
class Failed extends Error {}

const TMP_PREFIX = 'aftercall-bench-';
const OWNER_FILE = 'owner.pid';

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

async function probe(port: number, body: string, ok: (reply: Record<string, unknown>) => boolean): Promise<void> {
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

function checkLoad(result: LoadResult, fail: (message: string) => void): void {
  if (result.unexpected > 0) fail(`${result.label}: ${result.unexpected} replies were not 202 (${JSON.stringify(result.statusCodes)})`);
  if (result.errors > 0 || result.timeouts > 0) fail(`${result.label}: ${result.errors} request errors, ${result.timeouts} timeouts`);
  if (result.overran) fail(`${result.label}: the round did not end on time and was cut off`);
  if (result.expected === 0) fail(`${result.label}: no reply at all`);
}

// ---------------------------------------------------------------------------------------------
// Report

const sumOf = (values: number[]) => values.reduce((a, b) => a + b, 0);
const meanOf = (values: number[]) => (values.length ? sumOf(values) / values.length : NaN);
const fixed = (value: number | null, digits = 0) =>
  value === null || !Number.isFinite(value) ? '—' : value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const pct = (share: number | null) => (share === null ? '—' : `${Math.round(share * 100)} %`);

function table(head: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function report(
  settings: Settings,
  bodyBytes: number,
  turns: number,
  rounds: Round[],
  statusCounts: Record<string, number>,
  acceptedReceipts: number,
  acked202: number,
  loadBefore: number[],
): string {
  const n = rounds.length;
  const bareRps = meanOf(rounds.map((r) => r.bare.reqPerSec));
  const acRps = meanOf(rounds.map((r) => r.aftercall.reqPerSec));
  const ratio = acRps / bareRps;
  const bareP99 = Math.max(...rounds.map((r) => r.bare.latency.p99));
  const acP99 = Math.max(...rounds.map((r) => r.aftercall.latency.p99));
  const drainRates = rounds.map((r) => r.drain.runsPerSec).filter((v): v is number => v !== null);
  const drainRate = drainRates.length ? meanOf(drainRates) : null;
  const cpu = cpus()[0]?.model?.trim() ?? 'unknown';

  const out: string[] = [];
  out.push('## aftercall durable ingest benchmark', '');
  out.push(
    `- machine: nproc ${availableParallelism()} (${cpu}), node ${process.version}, ${process.platform}/${process.arch}, ` +
      `load average before the run ${loadBefore.map((l) => l.toFixed(2)).join(' / ')}`,
  );
  out.push(
    `- load: ${n} round${n === 1 ? '' : 's'} × ${settings.durationSec} s per server, alternating bare → aftercall, ` +
      `${settings.connections} connections, warm-up ${settings.warmupSec} s${settings.quick ? ' (BENCH_QUICK)' : ''}`,
  );
  out.push(`- body: ${bodyBytes} bytes (seed-001-autocalls, ${turns} transcript turns), unique call id per request, all on 127.0.0.1`);
  out.push(
    '- aftercall: SQLite WAL + synchronous=FULL in a temp dir, one mapping with a `log` step (debug, no-op sink), ' +
      `LOG_LEVEL=${process.env.BENCH_LOG_LEVEL ?? 'warn'}, WORKER_CONCURRENCY=${process.env.WORKER_CONCURRENCY ?? '8 (default)'}, rate limit off`,
  );
  out.push('');
  out.push(
    table(
      ['figure', 'bare', 'aftercall', 'ratio', 'target', 'result'],
      [
        [
          `durable ingest, req/s (mean of ${n})`,
          fixed(bareRps),
          fixed(acRps),
          fixed(ratio, 2),
          `≥ ${TARGET_RATIO} × bare`,
          ratio >= TARGET_RATIO ? 'PASS' : 'FAIL',
        ],
        [
          `p99 latency, ms (worst of ${n}), ${settings.connections} conn.`,
          fixed(bareP99),
          fixed(acP99),
          fixed(acP99 / bareP99, 1),
          `< ${TARGET_P99_MS} ms`,
          acP99 < TARGET_P99_MS ? 'PASS' : 'FAIL',
        ],
        [
          `worker drain after last ack, runs/s (mean of ${drainRates.length})`,
          '—',
          fixed(drainRate),
          '—',
          'report only',
          '—',
        ],
      ],
    ),
  );
  out.push('', '### Rounds', '');
  out.push(
    table(
      ['round', 'server', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', '202', 'not 202', 'errors', 'server CPU', 'loadgen CPU', 'other CPU'],
      rounds.flatMap((r) =>
        [r.bare, r.aftercall].map((x) => [
          r.round,
          x === r.bare ? 'bare' : 'aftercall',
          fixed(x.reqPerSec),
          fixed(x.latency.p50),
          fixed(x.latency.p90),
          fixed(x.latency.p99),
          fixed(x.latency.max),
          x.expected,
          x.unexpected,
          x.errors + x.timeouts,
          pct(x.serverCpu),
          pct(x.loadCpu),
          pct(x.otherCpu),
        ]),
      ),
    ),
  );
  out.push('', '### Worker (end-to-end)', '');
  out.push(
    table(
      ['round', 'runs finished during load', 'open runs at last ack', 'drained after', 'runs/s after last ack'],
      rounds.map((r) => [
        r.round,
        `${r.finishedDuringLoad} (${fixed(r.finishedDuringLoad / r.aftercall.seconds)}/s)`,
        r.drain.openAtLastAck,
        `${fixed(r.drain.seconds, 2)} s${r.drain.timedOut ? ' (timed out)' : ''}`,
        fixed(r.drain.runsPerSec),
      ]),
    ),
  );
  out.push('');
  out.push(
    `- runs by status at the end: ${Object.entries(statusCounts).map(([s, c]) => `${s} ${c}`).join(', ') || 'none'}; ` +
      `accepted receipts ${acceptedReceipts} vs. 202 replies received ${acked202} (warm-up and probe included; ` +
      `${acceptedReceipts >= acked202 ? 'requests cut off at the end of a round may still commit' : 'FEWER receipts than acks!'})`,
  );
  out.push(
    '- CPU columns: share of one core during the round (Linux /proc): the server under load, this load generator, and everything ' +
      'else on the machine (other processes, the idle server). A high "other CPU" means the figures are disturbed.',
  );
  return out.join('\n');
}

process.exitCode = await main();
// Nothing else should keep the process alive; make sure a stray handle cannot.
setTimeout(() => process.exit(), 1_000).unref();
