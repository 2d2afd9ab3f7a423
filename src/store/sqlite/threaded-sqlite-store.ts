// The serving process's SQLite store: the real SqliteStore runs in its own worker thread
// (sqlite-thread.ts) and this proxy forwards each Store call to it. Same semantics, same
// conformance suite; the main thread never waits on a COMMIT or an fsync.
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { CallHandoff } from '../call-handoff.js';
import type { AcceptInput, AcceptResult, RunDetail } from '../records.js';
import { openStepLog } from '../step-log.js';
import { StoreUnavailableError, type ClaimedRun, type Store } from '../store.js';
import type { ClaimWithoutCall, SqliteStoreOptions } from './sqlite-store.js';
import { replyFromWire, toWire, transferableBody, type StoreMethod, type WireReply, type WireRequest } from './thread-wire.js';

// From the sources (tsx, vitest) the thread is a .ts file that needs a loader of its own.
const SOURCE = fileURLToPath(import.meta.url).endsWith('.ts');
const THREAD = new URL(SOURCE ? './sqlite-thread-from-source.mjs' : './sqlite-thread.js', import.meta.url);

/** Every Store method; `satisfies` makes a method added to Store without a line here a type error. */
const FORWARDED = {
  acceptDelivery: true, quarantineDelivery: true, getReceipt: true, listQuarantine: true, markReplayed: true, getCallPayloads: true,
  claimRuns: true, extendLease: true, getStepResults: true, startStep: true, finishStep: true, findEarlierEffect: true,
  completeRun: true, retryRunLater: true, killRun: true, saveRunScore: true, releaseRun: true, sweepExpiredLeases: true,
  requeueDeadRun: true, requeueForRerun: true, queueStats: true, purgePayloads: true, listRuns: true, getRun: true,
  countRunsByStatus: true, ping: true, startAdminSession: true, adminSessionActive: true, endAdminSession: true,
  recordInbound: true, listInbound: true, getInbound: true, earlierCalls: true,
  countRuns: true, getCallHistory: true, listCallRuns: true, activity: true, dismissQuarantined: true,
  close: true,
} satisfies Record<StoreMethod, true>;

/**
 * Deliveries per message to the thread: two let the thread commit the first of a burst while
 * the main thread parses the rest; more per message wait longer to start (docs/performance.md).
 */
const DELIVERY_HANDOFF = 2;
const DELIVERIES: ReadonlySet<StoreMethod> = new Set(['acceptDelivery', 'quarantineDelivery']);

interface Pending {
  method: StoreMethod;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

export interface ThreadOptions {
  /** Heap limit of the thread (MB); unset: as large as the process's. */
  heapLimitMb?: number;
  /**
   * The thread died while the store was open (out of memory, or a crash): every call now fails
   * with StoreUnavailableError and nothing brings the thread back but a restart.
   */
  onThreadDeath?: (error: Error) => void;
}

export async function openThreadedSqliteStore(options: SqliteStoreOptions, thread: ThreadOptions = {}): Promise<Store> {
  const worker = new Worker(THREAD, {
    workerData: options,
    ...(thread.heapLimitMb ? { resourceLimits: { maxOldGenerationSizeMb: thread.heapLimitMb } } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    const refuse = (why: string) =>
      reject(new Error(`cannot open the SQLite store at ${options.path} (${why}); check that the folder exists, is writable and has space`));
    worker.once('message', (m: { ready: boolean; error?: string; code?: string }) => {
      if (m.ready) resolve();
      else refuse([m.code, m.error].filter(Boolean).join(': '));
    });
    // The thread itself failing (out of memory, a module that does not load) before it answers.
    worker.once('error', (error: unknown) => refuse((error as Error)?.message ?? String(error)));
    worker.once('exit', (code) => refuse(`the SQLite thread exited (${code}) before opening it`));
  });

  const pending = new Map<number, Pending>();
  let nextId = 1;
  let failed: Error | null = null;
  let closing = false;
  worker.on('message', (replies: WireReply[]) => {
    for (const reply of replies) {
      const call = pending.get(reply.id);
      if (!call) continue;
      pending.delete(reply.id);
      if (reply.ok) call.resolve(replyFromWire(call.method, reply.value));
      else {
        const error = reply.error.unavailable ? new StoreUnavailableError(new Error(reply.error.message)) : new Error(reply.error.message);
        if (reply.error.code) Object.assign(error, { code: reply.error.code });
        call.reject(error);
      }
    }
  });
  // A dead thread fails every call (503 upstream) instead of leaving them hanging.
  const failAll = (error: Error) => {
    for (const call of pending.values()) call.reject(new StoreUnavailableError(error));
    pending.clear();
    if (failed) return; // 'error' comes first, then 'exit': report the cause once
    failed = error;
    if (!closing) thread.onThreadDeath?.(error);
  };
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`the SQLite thread exited (${code})`)));

  // Calls made in the same event-loop turn travel together (one clone, one wake-up of the
  // thread), except deliveries: every DELIVERY_HANDOFF of them go at once. A burst of
  // deliveries parsed in one turn would otherwise reach the thread only at the turn's end,
  // and the thread would idle while the main thread parses, then the main thread while the
  // thread commits. The worker's writes keep one message per turn: split up, they cost more
  // messages and commits than the overlap gains. Request bodies are moved rather than copied
  // where they own their memory.
  let outbox: WireRequest[] = [];
  let transfer: ArrayBuffer[] = [];
  let deliveriesQueued = 0;
  let flushScheduled = false;
  const flush = () => {
    if (outbox.length === 0) return;
    const batch = outbox;
    const moved = transfer;
    outbox = [];
    transfer = [];
    deliveriesQueued = 0;
    worker.postMessage(batch, moved);
  };
  const invoke = (method: StoreMethod) => (...args: unknown[]) =>
    new Promise((resolve, reject) => {
      if (failed) return reject(new StoreUnavailableError(failed));
      const id = nextId++;
      pending.set(id, { method, resolve, reject });
      const wire = toWire(method, args);
      const body = transferableBody(method, wire);
      if (body && !transfer.includes(body)) transfer.push(body);
      outbox.push({ id, method, args: wire });
      if (DELIVERIES.has(method) && ++deliveriesQueued >= DELIVERY_HANDOFF) flush();
      else if (!flushScheduled) {
        flushScheduled = true;
        setImmediate(() => {
          flushScheduled = false;
          flush();
        });
      }
    });

  const proxy = Object.fromEntries(
    (Object.keys(FORWARDED) as StoreMethod[]).filter((m) => m !== 'close').map((m) => [m, invoke(m)]),
  ) as unknown as Store;
  // Accepted calls wait here for their runs' claim, which then need not bring them back.
  const handoff = new CallHandoff();
  const accept = invoke('acceptDelivery');
  const claim = invoke('claimRuns');
  const readRun = invoke('getRun');
  return Object.assign(proxy, {
    async acceptDelivery(input: AcceptInput): Promise<AcceptResult> {
      const result = (await accept(input)) as AcceptResult;
      if (result.outcome === 'accepted') {
        const queued = result.runIds.filter((_, i) => !input.runs[i]?.skipReason);
        handoff.offer(queued, input.call, input.callJson?.length ?? input.rawBody.length);
      }
      return result;
    },
    async claimRuns(owner: string, limit: number, now: number, leaseMs: number): Promise<ClaimedRun[]> {
      const claimed = (await claim(owner, limit, now, leaseMs, handoff.runIds())) as ClaimWithoutCall[];
      return Promise.all(
        claimed.map(async (run): Promise<ClaimedRun> => {
          // Taken either way: a run claimed in the commit that accepted it comes with its call.
          const held = handoff.take(run.id);
          const call = run.call ?? held ?? ((await readRun(run.id)) as RunDetail | null)?.call;
          if (!call) throw new Error(`run ${run.id} was claimed without its call`);
          return { ...run, call };
        }),
      );
    },
    kind: 'sqlite' as const,
    // Made here, on the caller's side: it only sends the store calls, which keep their order
    // (one message queue to one thread, one GroupCommit there).
    stepLog(this: Store, run: ClaimedRun) {
      return openStepLog(this, run);
    },
    async close() {
      closing = true;
      if (!failed) await invoke('close')();
      await worker.terminate();
    },
  });
}
