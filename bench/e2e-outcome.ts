// What the e2e section measures: its phases, one load's figures, one round, and the whole outcome.
import type { DrainResult } from './drain.js';
import type { LoadResult } from './load.js';

export type Phase = 'rate' | 'paced' | 'max';
export const PHASES: readonly Phase[] = ['rate', 'paced', 'max'];

export interface E2eLoad {
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

export interface Round {
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
