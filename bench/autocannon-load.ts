// The autocannon generator: a closed loop over the connections, or autocannon's bursty overallRate.
import autocannon from 'autocannon';
import { startMeter } from './load-meter.js';
import { checkDuration, type LoadOptions, type LoadResult } from './load-round.js';

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
