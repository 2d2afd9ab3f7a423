// What one load round takes and gives back: its options, the handle to stop it, and its result.
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

/** Shared by both generators: a round needs a positive duration, and a positive rate when one is set. */
export function checkDuration(options: LoadOptions): void {
  if (!Number.isFinite(options.durationSec) || options.durationSec <= 0) throw new Error('durationSec must be positive');
  if (options.overallRate !== undefined && !(options.overallRate > 0)) throw new Error('overallRate must be positive');
}
