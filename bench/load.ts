// One bounded load round against a 127.0.0.1 target, POSTing a fresh body per request, with
// one of two generators:
//   - autocannon (runLoad): as fast as `connections` allow, or autocannon's `overallRate`
//     (each connection sends its share of the second's requests back to back as soon as the
//     second starts, then waits: a burst per second, not an even pace);
//   - an evenly paced open loop (runPaced): one request every 1/rate s on a keep-alive pool,
//     each latency measured from the time the request was due, so a slow reply that holds up
//     the next ones counts against them too (no coordinated omission).
// Both count replies by status, measure the CPU of the server, of this process, of a helper
// (PostgreSQL, the stub vendors; when given) and of everything else, and sample the server's
// resident memory.
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { machineBusySeconds } from './proc.js';

export interface LoadOptions {
  label: string;
  port: number;
  path: string;
  connections: number;
  durationSec: number;
  /** Requests per second over all connections; unset: as fast as the server answers. */
  overallRate?: number;
  /** autocannon only: stop after this many requests instead of after `durationSec` (still the watchdog's limit). */
  amount?: number;
  /** A new body for every request. */
  nextBody: () => string;
  /** The one status every reply must carry. */
  expectStatus: number;
  /** CPU seconds of the server process so far, if known. */
  serverCpu: () => number | null;
  /** Resident memory of the server in MB, sampled every 100 ms during the round. */
  serverRss?: () => number | null;
  /**
   * CPU seconds so far of a helper the server depends on (PostgreSQL's processes, the stub
   * vendors), reported apart from "other".
   */
  helperCpu?: () => number | null;
  /** Lets the caller stop a running round (SIGINT, a server died); called with null at the end. */
  onStoppable?: (stoppable: Stoppable | null) => void;
}

export interface Stoppable {
  stop(): void;
}

export type Generator = 'autocannon' | 'autocannon-rate' | 'paced';

export interface LoadResult {
  label: string;
  generator: Generator;
  seconds: number;
  completed: number;
  reqPerSec: number;
  latency: { p50: number; p90: number; p99: number; max: number; mean: number };
  expected: number;
  /** Replies with any other status than expectStatus. */
  unexpected: number;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
  /** Wall clock (ms) of the last reply with the expected status. */
  lastAckAt: number;
  startedAt: number;
  finishedAt: number;
  /** Share of one core used by the server / by this (load generator) process, 1 = 100 %. */
  serverCpu: number | null;
  loadCpu: number;
  /** Share of one core used by the helper (PostgreSQL, stub vendors), when measured. */
  helperCpu: number | null;
  /** CPU used by everything else on the machine (other processes, the idle server), same unit. */
  otherCpu: number | null;
  /** Highest resident memory of the server seen during the round, MB. */
  rssMaxMb: number | null;
  /** The rate asked for, if any. */
  rate: number | null;
  /** The number of requests asked for, if any (instead of a duration). */
  amount: number | null;
  /** True when the round had to be cut off by the watchdog. */
  overran: boolean;
}

type Measured = Pick<LoadResult, 'serverCpu' | 'loadCpu' | 'helperCpu' | 'otherCpu' | 'rssMaxMb'>;

/** CPU and memory around one round: call the returned function when the round is over. */
function startMeter(options: LoadOptions): (wallSec: number) => Measured {
  const serverCpuBefore = options.serverCpu();
  const helperBefore = options.helperCpu?.() ?? null;
  const loadCpuBefore = process.cpuUsage();
  const machineBefore = machineBusySeconds();
  let rssMaxMb: number | null = null;
  const sampleRss = () => {
    const rss = options.serverRss?.() ?? null;
    if (rss !== null && (rssMaxMb === null || rss > rssMaxMb)) rssMaxMb = rss;
  };
  sampleRss();
  const rssTimer = options.serverRss ? setInterval(sampleRss, 100) : undefined;
  return (wall) => {
    clearInterval(rssTimer);
    sampleRss();
    const serverCpuAfter = options.serverCpu();
    const helperAfter = options.helperCpu?.() ?? null;
    const loadCpu = process.cpuUsage(loadCpuBefore);
    const machineAfter = machineBusySeconds();
    const serverShare = serverCpuBefore !== null && serverCpuAfter !== null ? (serverCpuAfter - serverCpuBefore) / wall : null;
    const loadShare = (loadCpu.user + loadCpu.system) / 1e6 / wall;
    const helperShare = helperBefore !== null && helperAfter !== null ? Math.max(0, helperAfter - helperBefore) / wall : null;
    const machineShare = machineBefore !== null && machineAfter !== null ? (machineAfter - machineBefore) / wall : null;
    return {
      serverCpu: serverShare,
      loadCpu: loadShare,
      helperCpu: helperShare,
      otherCpu:
        machineShare !== null && serverShare !== null ? Math.max(0, machineShare - serverShare - loadShare - (helperShare ?? 0)) : null,
      rssMaxMb,
    };
  };
}

function checkDuration(options: LoadOptions): void {
  if (!Number.isFinite(options.durationSec) || options.durationSec <= 0) throw new Error('durationSec must be positive');
  if (options.overallRate !== undefined && !(options.overallRate > 0)) throw new Error('overallRate must be positive');
}

/** autocannon: closed loop over `connections`, or its bursty `overallRate`. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  checkDuration(options);
  const finishMeter = startMeter(options);
  const startedAt = Date.now();
  let lastAckAt = startedAt;
  let overran = false;

  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${options.port}`,
        connections: options.connections,
        duration: options.durationSec,
        ...(options.overallRate ? { overallRate: options.overallRate } : {}),
        ...(options.amount ? { amount: options.amount } : {}),
        timeout: 10,
        title: options.label,
        requests: [
          {
            method: 'POST',
            path: options.path,
            headers: { 'content-type': 'application/json' },
            setupRequest: (request) => {
              request.body = options.nextBody();
              return request;
            },
          },
        ],
      },
      (error, res) => {
        clearTimeout(watchdog);
        options.onStoppable?.(null);
        if (error) reject(error);
        else resolve(res);
      },
    );
    instance.on('response', (_client: unknown, status: number) => {
      if (status === options.expectStatus) lastAckAt = Date.now();
    });
    // autocannon ends on its own after `duration` (or `amount`); this only guards against a stuck round.
    const limitSec = options.amount ? options.durationSec * 4 + 30 : options.durationSec + 30;
    const watchdog = setTimeout(() => {
      overran = true;
      instance.stop();
    }, limitSec * 1000);
    options.onStoppable?.(instance);
  });

  const finishedAt = Date.now();
  const measured = finishMeter((finishedAt - startedAt) / 1000);
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCodes[code] = Number(count);
  const expected = statusCodes[String(options.expectStatus)] ?? 0;
  const completed = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  const seconds = result.duration > 0 ? result.duration : (finishedAt - startedAt) / 1000;
  return {
    label: options.label,
    generator: options.overallRate ? 'autocannon-rate' : 'autocannon',
    seconds,
    completed,
    reqPerSec: expected / seconds,
    latency: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: result.latency.mean,
    },
    expected,
    unexpected: completed - expected,
    statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
    lastAckAt,
    startedAt,
    finishedAt,
    ...measured,
    rate: options.overallRate ?? null,
    amount: options.amount ?? null,
    overran,
  };
}

/** The evenly paced open loop: `overallRate` requests per second for `durationSec`. */
export async function runPaced(options: LoadOptions & { overallRate: number }): Promise<LoadResult> {
  checkDuration(options);
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const total = Math.max(1, Math.round(options.overallRate * options.durationSec));
  const interval = 1000 / options.overallRate;
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let errors = 0;
  let timeouts = 0;
  let sent = 0;
  let settled = 0;
  let stopped = false;
  let overran = false;
  const finishMeter = startMeter(options);
  const startedAt = Date.now();
  let lastAckAt = startedAt;
  const t0 = performance.now() + 5;

  await new Promise<void>((resolve) => {
    let pumpTimer: NodeJS.Timeout | undefined;
    const inFlight = new Set<ReturnType<typeof request>>();
    const done = () => {
      clearTimeout(pumpTimer);
      clearTimeout(watchdog);
      options.onStoppable?.(null);
      resolve();
    };
    const stop = () => {
      if (stopped) return;
      stopped = true;
      for (const req of inFlight) req.destroy();
      if (settled >= sent) done();
    };
    const settle = () => {
      settled += 1;
      if ((stopped || sent >= total) && settled >= sent) done();
    };
    const send = (dueAt: number) => {
      const body = options.nextBody();
      const req = request({
        agent,
        host: '127.0.0.1',
        port: options.port,
        path: options.path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        timeout: 10_000,
      });
      inFlight.add(req);
      let finished = false;
      let timedOut = false;
      const finish = (status: number | null) => {
        if (finished) return;
        finished = true;
        inFlight.delete(req);
        if (status === null) {
          if (!timedOut && !stopped) errors += 1;
        } else {
          statusCodes[status] = (statusCodes[status] ?? 0) + 1;
          latencies.push(performance.now() - dueAt);
          if (status === options.expectStatus) lastAckAt = Date.now();
        }
        settle();
      };
      req.on('response', (res) => {
        res.on('error', () => finish(null));
        res.on('end', () => finish(res.statusCode ?? 0));
        res.resume();
      });
      req.on('timeout', () => {
        timedOut = true;
        timeouts += 1;
        req.destroy();
      });
      req.on('error', () => finish(null));
      req.end(body);
    };
    const pump = () => {
      const now = performance.now();
      while (!stopped && sent < total && t0 + sent * interval <= now) {
        send(t0 + sent * interval);
        sent += 1;
      }
      if (!stopped && sent < total) pumpTimer = setTimeout(pump, Math.max(0, t0 + sent * interval - performance.now()));
      else if (settled >= sent) done();
    };
    // Replies are bounded by the request timeout; this only guards against a stuck round.
    const watchdog = setTimeout(() => {
      overran = true;
      stop();
      done();
    }, (options.durationSec + 30) * 1000);
    options.onStoppable?.({ stop });
    pumpTimer = setTimeout(pump, 5);
  });
  agent.destroy();

  const finishedAt = Date.now();
  const measured = finishMeter((finishedAt - startedAt) / 1000);
  latencies.sort((a, b) => a - b);
  const at = (share: number) => latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil(share * latencies.length) - 1))] ?? NaN;
  const expected = statusCodes[String(options.expectStatus)] ?? 0;
  const completed = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  const seconds = Math.max(options.durationSec, (finishedAt - startedAt) / 1000);
  return {
    label: options.label,
    generator: 'paced',
    seconds,
    completed,
    reqPerSec: expected / seconds,
    latency: {
      p50: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
      max: latencies.at(-1) ?? NaN,
      mean: latencies.length ? latencies.reduce((a, b) => a + b, 0) / latencies.length : NaN,
    },
    expected,
    unexpected: completed - expected,
    statusCodes,
    errors,
    timeouts,
    lastAckAt,
    startedAt,
    finishedAt,
    ...measured,
    rate: options.overallRate,
    amount: null,
    overran: overran || (stopped && sent < total),
  };
}
