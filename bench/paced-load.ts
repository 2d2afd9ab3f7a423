// The evenly paced open loop: one request every 1/rate s on a keep-alive pool, latency from when each was due.
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { startMeter } from './load-meter.js';
import { checkDuration, type LoadOptions, type LoadResult } from './load-round.js';

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
