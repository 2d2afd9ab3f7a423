// One bounded load round with autocannon against a 127.0.0.1 target: POSTs a fresh body per
// request (setupRequest), counts replies by status, and measures CPU of both sides.
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';

export interface LoadOptions {
  label: string;
  port: number;
  path: string;
  connections: number;
  durationSec: number;
  /** A new body for every request. */
  nextBody: () => string;
  /** The one status every reply must carry. */
  expectStatus: number;
  /** CPU seconds of the server process so far, if known. */
  serverCpu: () => number | null;
  /** Lets the caller stop a running round (SIGINT, a server died). */
  onInstance?: (instance: autocannon.Instance | null) => void;
}

export interface LoadResult {
  label: string;
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
  /** CPU used by everything else on the machine (other processes, the idle server), same unit. */
  otherCpu: number | null;
  /** True when the round had to be cut off by the watchdog. */
  overran: boolean;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (!Number.isFinite(options.durationSec) || options.durationSec <= 0) throw new Error('durationSec must be positive');
  const serverCpuBefore = options.serverCpu();
  const loadCpuBefore = process.cpuUsage();
  const machineBefore = machineBusySeconds();
  const startedAt = Date.now();
  let lastAckAt = startedAt;
  let overran = false;

  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${options.port}`,
        connections: options.connections,
        duration: options.durationSec,
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
        options.onInstance?.(null);
        if (error) reject(error);
        else resolve(res);
      },
    );
    instance.on('response', (_client: unknown, status: number) => {
      if (status === options.expectStatus) lastAckAt = Date.now();
    });
    // autocannon ends on its own after `duration`; this only guards against a stuck round.
    const watchdog = setTimeout(() => {
      overran = true;
      instance.stop();
    }, (options.durationSec + 30) * 1000);
    options.onInstance?.(instance);
  });

  const finishedAt = Date.now();
  const wall = (finishedAt - startedAt) / 1000;
  const serverCpuAfter = options.serverCpu();
  const loadCpu = process.cpuUsage(loadCpuBefore);
  const machineAfter = machineBusySeconds();
  const serverShare = serverCpuBefore !== null && serverCpuAfter !== null ? (serverCpuAfter - serverCpuBefore) / wall : null;
  const loadShare = (loadCpu.user + loadCpu.system) / 1e6 / wall;
  const machineShare = machineBefore !== null && machineAfter !== null ? (machineAfter - machineBefore) / wall : null;
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCodes[code] = Number(count);
  const expected = statusCodes[String(options.expectStatus)] ?? 0;
  const completed = Object.values(statusCodes).reduce((a, b) => a + b, 0);
  const seconds = result.duration > 0 ? result.duration : wall;
  return {
    label: options.label,
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
    serverCpu: serverShare,
    loadCpu: loadShare,
    otherCpu: machineShare !== null && serverShare !== null ? Math.max(0, machineShare - serverShare - loadShare) : null,
    overran,
  };
}

/** Busy CPU seconds of the whole machine, all cores (Linux /proc/stat, USER_HZ = 100), or null. */
function machineBusySeconds(): number | null {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...: everything but idle and iowait
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) / 100;
  } catch {
    return null;
  }
}
