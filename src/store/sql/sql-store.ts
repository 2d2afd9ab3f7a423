// The store operations written once for both backends. A backend supplies exec (how it runs
// an operation's statements) and its flavor, and implements what its database does
// differently: accepting a delivery, claiming runs, sweeping leases, retention, counts.
import type { AcceptInput, AcceptResult, CallPayload, ClaimedRun, EarlierEffect, PurgeCounts, QuarantineInput } from '../records.js';
import type { Receipt, RunDetail, RunFilter, RunScore, RunSummary, StepFinish, StepResult } from '../records.js';
import type { Activity, CallHistory, RunCount } from '../records.js';
import { openStepLog } from '../step-log.js';
import type { StepLog, Store } from '../store.js';
import type { EarlierCalls, InboundDetail, InboundRecordInput, InboundSummary } from '../inbound-records.js';
import { activity } from './activity.js';
import { getCallHistory, listCallRuns } from './call-history.js';
import { countRuns, listRuns } from './list-runs.js';
import * as inbound from './inbound.js';
import * as receipts from './receipts.js';
import { requeueDeadRun, requeueForRerun } from './requeue.js';
import * as ends from './run-ends.js';
import { getRun, queueStats } from './run-reads.js';
import * as sessions from './sessions.js';
import * as steps from './step-records.js';
import type { Flavor, How, Work } from './work.js';

/** Counting stops here: the Runs page says "more than 10,000" instead of walking every run. */
const COUNT_BOUND = 10_000;

export abstract class SqlStore implements Store {
  abstract readonly kind: 'sqlite' | 'postgres';
  protected abstract readonly flavor: Flavor;

  /** Runs an operation's statements; database failures that mean "cannot commit now" become StoreUnavailableError. */
  protected abstract exec<T>(work: Work<T>, how?: How): Promise<T>;

  abstract acceptDelivery(input: AcceptInput): Promise<AcceptResult>;
  abstract claimRuns(owner: string, limit: number, now: number, leaseMs: number): Promise<ClaimedRun[]>;
  abstract sweepExpiredLeases(now: number): Promise<number>;
  abstract purgePayloads(before: number, at: number): Promise<PurgeCounts>;
  abstract countRunsByStatus(): Promise<Record<string, number>>;
  abstract close(): Promise<void>;

  stepLog(run: ClaimedRun): StepLog {
    return openStepLog(this, run);
  }

  quarantineDelivery(input: QuarantineInput): Promise<{ receiptId: number }> {
    return this.exec(receipts.quarantineDelivery(this.flavor, input), { write: true });
  }

  getReceipt(id: number): Promise<Receipt | null> {
    return this.exec(receipts.getReceipt(this.flavor, id));
  }

  listQuarantine(limit = 100): Promise<Receipt[]> {
    return this.exec(receipts.listQuarantine(this.flavor, limit));
  }

  markReplayed(receiptId: number, at: number): Promise<void> {
    return this.exec(receipts.markReplayed(receiptId, at), { write: true });
  }

  getCallPayloads(callId: string, revision?: number): Promise<CallPayload[]> {
    return this.exec(receipts.getCallPayloads(this.flavor, callId, revision));
  }

  extendLease(runId: number, owner: string, until: number): Promise<boolean> {
    return this.exec(ends.extendLease(runId, owner, until), { write: true, worker: true });
  }

  getStepResults(runId: number): Promise<StepResult[]> {
    return this.exec(steps.getStepResults(this.flavor, runId), { worker: true });
  }

  startStep(runId: number, owner: string, stepId: string, input: unknown, inputHash: string, at: number): Promise<boolean> {
    return this.exec(steps.startStep(this.flavor, runId, owner, stepId, input, inputHash, at), this.runWrite(runId));
  }

  finishStep(runId: number, owner: string, stepId: string, result: StepFinish, at: number): Promise<boolean> {
    return this.exec(steps.finishStep(this.flavor, runId, owner, stepId, result, at), this.runWrite(runId));
  }

  findEarlierEffect(callRowId: number, mappingName: string, stepId: string, beforeRevision: number, includeUnknown = false): Promise<EarlierEffect | null> {
    return this.exec(steps.findEarlierEffect(callRowId, mappingName, stepId, beforeRevision, includeUnknown), { worker: true });
  }

  completeRun(runId: number, owner: string, at: number): Promise<boolean> {
    return this.exec(ends.completeRun(runId, owner, at), this.runWrite(runId));
  }

  retryRunLater(runId: number, owner: string, error: string, nextRunAt: number, at: number): Promise<boolean> {
    return this.exec(ends.retryRunLater(runId, owner, error, nextRunAt, at), this.runWrite(runId));
  }

  killRun(runId: number, owner: string, error: string, at: number, status: 'dead' | 'invalid-variables' = 'dead'): Promise<boolean> {
    return this.exec(ends.killRun(runId, owner, error, at, status), this.runWrite(runId));
  }

  saveRunScore(runId: number, owner: string, score: RunScore): Promise<boolean> {
    return this.exec(ends.saveRunScore(runId, owner, score), this.runWrite(runId));
  }

  releaseRun(runId: number, owner: string, notBefore?: number): Promise<boolean> {
    return this.exec(ends.releaseRun(runId, owner, notBefore), this.runWrite(runId));
  }

  requeueDeadRun(runId: number, at: number): Promise<'requeued' | 'not-found' | 'not-dead'> {
    return this.exec(requeueDeadRun(runId, at), { write: true, tx: true });
  }

  requeueForRerun(runId: number, at: number): Promise<'requeued' | 'not-found' | 'not-finished'> {
    return this.exec(requeueForRerun(runId, at), { write: true, tx: true });
  }

  queueStats(now: number): Promise<{ depth: number; oldestDueAt: number | null }> {
    return this.exec(queueStats(now));
  }

  listRuns(filter: RunFilter = {}): Promise<RunSummary[]> {
    return this.exec(listRuns(this.flavor.kind, filter));
  }

  countRuns(filter: RunFilter = {}, bound = COUNT_BOUND): Promise<RunCount> {
    return this.exec(countRuns(this.flavor.kind, filter, bound));
  }

  getCallHistory(sender: string, callId: string): Promise<CallHistory | null> {
    return this.exec(getCallHistory(this.flavor, sender, callId));
  }

  listCallRuns(calls: ReadonlyArray<{ sender: string; callId: string }>): Promise<RunSummary[]> {
    return this.exec(listCallRuns(calls));
  }

  activity(from: number, to: number, bucketMs: number): Promise<Activity> {
    return this.exec(activity(this.flavor.kind, from, to, bucketMs));
  }

  dismissQuarantined(receiptId: number, at: number): Promise<boolean> {
    return this.exec(receipts.dismissQuarantined(receiptId, at), { write: true });
  }

  getRun(id: number): Promise<RunDetail | null> {
    return this.exec(getRun(this.flavor, id));
  }

  async ping(): Promise<void> {
    await this.exec(sessions.heartbeat(Date.now()), { write: true });
  }

  startAdminSession(id: string, expiresAt: number, now: number): Promise<void> {
    return this.exec(sessions.startAdminSession(id, expiresAt, now), { write: true });
  }

  adminSessionActive(id: string, now: number): Promise<boolean> {
    return this.exec(sessions.adminSessionActive(id, now));
  }

  endAdminSession(id: string): Promise<void> {
    return this.exec(sessions.endAdminSession(id), { write: true });
  }

  recordInbound(input: InboundRecordInput): Promise<{ id: number }> {
    return this.exec(inbound.recordInbound(this.flavor, input), { write: true });
  }

  listInbound(limit = 100): Promise<InboundSummary[]> {
    return this.exec(inbound.listInbound(limit));
  }

  getInbound(id: number): Promise<InboundDetail | null> {
    return this.exec(inbound.getInbound(this.flavor, id));
  }

  earlierCalls(phone: string): Promise<EarlierCalls> {
    return this.exec(inbound.earlierCalls(this.flavor, phone));
  }

  /** A claimed run's write: one of its chain (SQLite), on the worker's connections (PostgreSQL). */
  private runWrite(runId: number): How {
    return { write: true, chain: runId, worker: true };
  }
}
