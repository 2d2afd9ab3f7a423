// One load of an e2e round: on an aftercall, with what its SQLite file then says of the runs, or on the bare endpoint.
import type { ServerProcess } from './child.js';
import type { Bench } from './context.js';
import { percentile } from './drain.js';
import type { E2eLoad, Phase } from './e2e-outcome.js';
import type { E2eCallIds, E2eScenario, E2eTarget } from './e2e-scenario.js';
import type { BenchPayload } from './payload.js';

/** The two loads of the e2e section, on the scenario's processes; `loadE2e` drains the runs before it returns. */
export function e2eLoaders(bench: Bench, bare: ServerProcess, scenario: E2eScenario, payload: BenchPayload, ids: E2eCallIds) {
  const { settings } = bench;
  const { vendors, e2e, source } = scenario;
  const loadE2e = async (
    phase: Phase,
    label: string,
    durationSec: number,
    target: E2eTarget = { service: e2e, runs: source, runsPerCall: 1 },
  ): Promise<E2eLoad> => {
    const { service, runs: runsOf, runsPerCall } = target;
    const sinceId = await runsOf.maxRunId();
    const cpuBefore = service.cpuSeconds();
    const vendorCpuBefore = vendors.cpuSeconds();
    const load = await bench.load(service, {
      label,
      durationSec,
      nextBody: () => payload.body(ids.call++),
      helperCpu: () => vendors.cpuSeconds(),
      ...(phase === 'max' ? { amount: Math.round(settings.rate * durationSec) } : { overallRate: settings.rate, paced: phase === 'paced' }),
    });
    bench.checkpoint();
    const finishedDuringLoad = await runsOf.finishedIn(sinceId, load.startedAt, load.finishedAt);
    const drain = await bench.drain(runsOf, sinceId, load.lastAckAt, label);
    bench.checkpoint();
    const cpuAfter = service.cpuSeconds();
    const vendorCpuAfter = vendors.cpuSeconds();
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
      nextBody: () => payload.body(ids.bare++),
      ...(phase === 'max' ? {} : { overallRate: settings.rate, paced: phase === 'paced' }),
    });
    bench.checkpoint();
    return result;
  };
  return { loadE2e, loadBare };
}
