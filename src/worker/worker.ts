// The worker loop, built from injected parts: it claims due runs up to its concurrency,
// executes them, heartbeats their leases, and on stop finishes or releases what it holds.
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Logger } from '../logger.js';
import type { MappingRegistry } from '../mapping/mapping-registry.js';
import type { ClaimedRun, Store } from '../store/store.js';
import type { BackoffPolicy } from './backoff.js';
import { createBulkhead } from './bulkhead.js';
import { executeRun, type RunExecutionDeps, type RunOutcome } from './execute-run.js';
import type { IngestPriority } from './ingest-priority.js';

export interface WorkerOptions {
  concurrency: number;
  /** Steps of one connector (one http.request host) running at once; unset: no limit. */
  connectorConcurrency?: number;
  pollIntervalMs: number;
  leaseMs: number;
  stepTimeoutMs: number;
  maxAttempts: number;
  backoff: BackoffPolicy;
  /** What a test delivery's steps do (TEST_DELIVERIES); default `run`. */
  testDeliveries?: RunExecutionDeps['testDeliveries'];
  /** The Runs page (PUBLIC_URL + /admin), for `run.url` in templates. */
  runsPageUrl?: string;
}

export interface WorkerDeps {
  store: Store;
  mappings: MappingRegistry;
  logger: Logger;
  options: WorkerOptions;
  clock?: { now(): number };
  random?: () => number;
  /** Lowers the number of active runs while deliveries arrive and the event loop is busy. */
  ingestPriority?: IngestPriority;
  /** Called after every run settles (metrics, tests). */
  onRunSettled?: (run: ClaimedRun, outcome: RunOutcome | 'error') => void;
  /** Called after every step execution (metrics). */
  onStepSettled?: RunExecutionDeps['onStepSettled'];
}

export interface Worker {
  readonly id: string;
  start(): void;
  /** Wake the loop now (a delivery was just committed). */
  wake(): void;
  /** Stop claiming; wait up to `timeoutMs` for running runs, then abort and release them. */
  stop(timeoutMs: number): Promise<void>;
}

const STORE_ERROR_BACKOFF_MS = [250, 500, 1_000, 2_000, 5_000];

export function createWorker(deps: WorkerDeps): Worker {
  const { store, logger, options } = deps;
  const now = () => (deps.clock ? deps.clock.now() : Date.now());
  const id = `worker-${randomUUID()}`;
  const active = new Map<number, Promise<void>>();
  const abort = new AbortController();
  // Every run and step in flight listens for the shutdown (deadlineSignal, the bulkhead) and
  // stops listening when it settles: more than Node's default of 10 is the normal case.
  setMaxListeners(0, abort.signal);
  let running = false;
  let loopDone: Promise<void> = Promise.resolve();
  let wakeUp: (() => void) | null = null;
  let storeErrors = 0;
  let lastSweep = 0;
  const bulkhead = options.connectorConcurrency ? createBulkhead(options.connectorConcurrency) : undefined;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakeUp = null;
        resolve();
      }
      wakeUp = done;
    });

  function launch(run: ClaimedRun): void {
    const heartbeat = setInterval(() => {
      store.extendLease(run.id, id, now() + options.leaseMs).catch((error: unknown) => {
        logger.warn({ run_id: run.id, err: error }, 'lease heartbeat failed');
      });
    }, Math.max(250, Math.floor(options.leaseMs / 3)));
    heartbeat.unref();
    const task = executeRun(
      run,
      {
        store,
        mappings: deps.mappings,
        logger,
        now,
        random: deps.random,
        stepTimeoutMs: options.stepTimeoutMs,
        stepSlot: deps.ingestPriority?.stepSlot,
        bulkhead,
        maxAttempts: options.maxAttempts,
        backoff: options.backoff,
        testDeliveries: options.testDeliveries,
        runsPageUrl: options.runsPageUrl,
        onStepSettled: deps.onStepSettled,
      },
      abort.signal,
    )
      .then((outcome) => deps.onRunSettled?.(run, outcome))
      .catch((error: unknown) => {
        // The store failed mid-run: the lease runs out and another claim resumes the run.
        logger.error({ run_id: run.id, err: error }, 'run interrupted by an unexpected error');
        deps.onRunSettled?.(run, 'error');
      })
      // Whatever happened above, the slot is freed and the loop told: a claimed run always settles.
      .finally(() => {
        clearInterval(heartbeat);
        active.delete(run.id);
        wakeUp?.();
      });
    active.set(run.id, task);
  }

  async function loop(): Promise<void> {
    while (running) {
      const limit = deps.ingestPriority?.limit() ?? options.concurrency;
      const free = limit - active.size;
      let claimedAll = false;
      if (free > 0) {
        try {
          if (now() - lastSweep > options.leaseMs / 2) {
            lastSweep = now();
            const swept = await store.sweepExpiredLeases(now());
            if (swept > 0) logger.warn({ swept }, 'resumed runs whose lease ran out');
          }
          const claimed = await store.claimRuns(id, free, now(), options.leaseMs);
          storeErrors = 0;
          for (const run of claimed) launch(run);
          claimedAll = claimed.length === free;
        } catch (error) {
          const wait = STORE_ERROR_BACKOFF_MS[Math.min(storeErrors++, STORE_ERROR_BACKOFF_MS.length - 1)]!;
          logger.error({ err: error, retry_in_ms: wait }, 'cannot claim runs');
          await sleep(wait);
          continue;
        }
      }
      // More may be due right away when every free slot was filled; else wait for a wake-up.
      // (A run that finishes wakes the loop, so a lowered limit is looked at again soon.)
      if (!claimedAll || active.size >= limit) await sleep(options.pollIntervalMs);
    }
  }

  return {
    id,
    start() {
      if (running) return;
      running = true;
      loopDone = loop();
    },
    wake() {
      wakeUp?.();
    },
    async stop(timeoutMs: number) {
      running = false;
      wakeUp?.();
      await loopDone;
      const all = Promise.allSettled([...active.values()]);
      const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), timeoutMs).unref());
      if ((await Promise.race([all, timer])) === 'timeout') {
        logger.warn({ runs: active.size }, 'shutdown timeout: aborting and releasing running runs');
        abort.abort();
        await all;
      }
    },
  };
}
