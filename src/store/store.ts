// The Store contract, split by who uses it: ingest (IngestStore), the worker (RunQueue) and
// the operator's tools (OperatorQueries). Every backend (SQLite, PostgreSQL) implements all of
// it and passes the same conformance suite (test/store/store-conformance.ts).
import type { Call } from '../payload/call.js';
import type { AcceptInput, AcceptResult, CallPayload, ClaimedRun, EarlierEffect, PurgeCounts, QuarantineInput } from './records.js';
import type { Receipt, RunDetail, RunFilter, RunScore, RunSummary, StepFinish, StepResult } from './records.js';
import type { Activity, CallHistory, RunCount } from './records.js';

import type { EarlierCalls, InboundDetail, InboundRecordInput, InboundSummary } from './inbound-records.js';

export type * from './records.js';
export type * from './inbound-records.js';
export { REQUEUEABLE, RUN_STATUSES, type RunStatus } from './run-status.js';

/** The mapping name of the `skipped` run that records a call no mapping took. */
export const NO_MAPPING = '(no mapping)';

export interface IngestStore {
  /** Receipt + call revision + pending runs, committed together before this resolves. */
  acceptDelivery(input: AcceptInput): Promise<AcceptResult>;
  /** Keeps a rejected body with its problems, for a replay once the schema allows it. */
  quarantineDelivery(input: QuarantineInput): Promise<{ receiptId: number }>;
  getReceipt(id: number): Promise<Receipt | null>;
  markReplayed(receiptId: number, at: number): Promise<void>;
}

/**
 * A claimed run's writes as the worker makes them, applied in call order. A step's finish (and
 * the score) is a record only a later resume reads, so it is sent without waiting and shares the
 * next write's commit; the other writes (a step's start, the run's end) are awaited and are on
 * disk before anything happens outside. Answers are
 * false when the lease is gone. A record that failed stops the run: every later write throws
 * its error, so a run never completes, retries or dies with a step's record missing; the run
 * is then left to its lease.
 */
export interface StepLog {
  /** Sent without waiting: answered with the next awaited write. */
  saveScore(score: RunScore): void;
  /** Sent without waiting: answered with the next awaited write. */
  finish(stepId: string, result: StepFinish, at: number): void;
  /** Records that a step is about to execute, before the side effect. */
  start(stepId: string, input: unknown, inputHash: string, at: number): Promise<boolean>;
  complete(at: number): Promise<boolean>;
  retry(error: string, nextRunAt: number, at: number): Promise<boolean>;
  kill(error: string, at: number, status?: 'dead' | 'invalid-variables'): Promise<boolean>;
  release(notBefore?: number): Promise<boolean>;
  /** Throws the first failed record's error, if any. */
  check(): void;
}

/**
 * Every store applies a claimed run's writes in call order, waited for or not, and stops them at
 * the first that fails: until the run is claimed again, each later one is refused, not applied.
 */
export interface RunQueue {
  /** The step log of a run this store just claimed. */
  stepLog(run: ClaimedRun): StepLog;
  /** Leases up to `limit` due runs to `owner`. */
  claimRuns(owner: string, limit: number, now: number, leaseMs: number): Promise<ClaimedRun[]>;
  extendLease(runId: number, owner: string, until: number): Promise<boolean>;
  getStepResults(runId: number): Promise<StepResult[]>;
  /** Records that a step is about to execute (attempts + 1), before the side effect. */
  startStep(runId: number, owner: string, stepId: string, input: unknown, inputHash: string, at: number): Promise<boolean>;
  finishStep(runId: number, owner: string, stepId: string, result: StepFinish, at: number): Promise<boolean>;
  /**
   * The latest succeeded execution of a step for an earlier revision of the same call and
   * mapping; with `includeUnknown`, also one left `started` (its outcome unknown).
   */
  findEarlierEffect(
    callRowId: number,
    mappingName: string,
    stepId: string,
    beforeRevision: number,
    includeUnknown?: boolean,
  ): Promise<EarlierEffect | null>;
  completeRun(runId: number, owner: string, at: number): Promise<boolean>;
  /** Transient failure: back to the queue at `nextRunAt`, attempts + 1. */
  retryRunLater(runId: number, owner: string, error: string, nextRunAt: number, at: number): Promise<boolean>;
  /** Permanent failure or retries exhausted: dead letter (or `invalid-variables`). */
  killRun(runId: number, owner: string, error: string, at: number, status?: 'dead' | 'invalid-variables'): Promise<boolean>;
  /** Stores the run's lead score, computed when the run starts. */
  saveRunScore(runId: number, owner: string, score: RunScore): Promise<boolean>;
  /**
   * Gives a claimed run back without spending an attempt: at shutdown (due as it was), or when a
   * step's connector is busy (`notBefore`: due again then).
   */
  releaseRun(runId: number, owner: string, notBefore?: number): Promise<boolean>;
  /** Runs whose lease ran out (their instance died) become claimable again; returns how many. */
  sweepExpiredLeases(now: number): Promise<number>;
  /**
   * Operator retry of a dead or invalid-variables run: pending again, attempts reset,
   * completed steps kept, steps left `started` by an interruption marked failed (the operator
   * checked them), and the mapping version forgotten so the current one runs.
   */
  requeueDeadRun(runId: number, at: number): Promise<'requeued' | 'not-found' | 'not-dead'>;
  /**
   * Operator re-run of a finished run with the current mappings: pending again; steps that
   * succeeded become `done-before` (their repeat policy decides), skipped steps are forgotten
   * (their `when` is evaluated again), interrupted ones count as failed.
   */
  requeueForRerun(runId: number, at: number): Promise<'requeued' | 'not-found' | 'not-finished'>;
  /** Runs due and unclaimed, and the oldest due time (queue lag), for metrics and /readyz. */
  queueStats(now: number): Promise<{ depth: number; oldestDueAt: number | null }>;
}

export interface OperatorQueries {
  listRuns(filter?: RunFilter): Promise<RunSummary[]>;
  /** How many runs match the filter (its paging ignored), counted up to `bound` (default 10,000). */
  countRuns(filter?: RunFilter, bound?: number): Promise<RunCount>;
  /** A call by sender and id (its call key) with its revisions, deliveries and runs; null when unknown. */
  getCallHistory(sender: string, callId: string): Promise<CallHistory | null>;
  /** Every run of these calls, newest first (the Runs page folds them into its rows). */
  listCallRuns(calls: ReadonlyArray<{ sender: string; callId: string }>): Promise<RunSummary[]>;
  /** Calls received, runs ended and step outcomes in [from, to), per bucket of `bucketMs`. */
  activity(from: number, to: number, bucketMs: number): Promise<Activity>;
  /** Takes a quarantined receipt off the quarantine list; false when it is not there. */
  dismissQuarantined(receiptId: number, at: number): Promise<boolean>;
  getRun(id: number): Promise<RunDetail | null>;
  countRunsByStatus(): Promise<Record<string, number>>;
  listQuarantine(limit?: number): Promise<Receipt[]>;
  /**
   * The delivered body of a call's revision (the newest when `revision` is unset), one entry
   * per sender that has a call with this id, ordered by sender; empty when none has it or
   * the revision does not exist.
   */
  getCallPayloads(callId: string, revision?: number): Promise<CallPayload[]>;
  /**
   * Sessions of the Runs page, kept here so logging out ends a session on every instance: a
   * stolen cookie stops working. Starting one also forgets the expired ones.
   */
  startAdminSession(id: string, expiresAt: number, now: number): Promise<void>;
  adminSessionActive(id: string, now: number): Promise<boolean>;
  endAdminSession(id: string): Promise<void>;
}

/** Inbound-call variable requests (src/ingest/inbound/) and what they read of earlier calls. */
export interface InboundStore {
  recordInbound(input: InboundRecordInput): Promise<{ id: number }>;
  listInbound(limit?: number): Promise<InboundSummary[]>;
  getInbound(id: number): Promise<InboundDetail | null>;
  /** Earlier calls of a customer phone (the `earlier_calls` lookup). */
  earlierCalls(phone: string): Promise<EarlierCalls>;
}

export interface Store extends IngestStore, RunQueue, OperatorQueries, InboundStore {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * Retention: drops raw bodies of deliveries received before `before`, and transcripts and
   * step inputs of revisions created before it whose runs have all finished. Content hashes
   * stay, so a late resend is still recognised as a duplicate.
   */
  purgePayloads(before: number, at: number): Promise<PurgeCounts>;
  /**
   * For /readyz: a tiny write committed like any other (a heartbeat row), so a store that can
   * read but not commit (disk full, read-only, file size limit) is unready; the SQLite store is
   * also unready for a while after any commit failed. Throws StoreUnavailableError.
   */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** Raised when the store cannot commit: the request must get 503, never a false 2xx. */
export class StoreUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`store unavailable: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StoreUnavailableError';
  }
}

/** The normalized call with what retention removes taken out (transcripts of the call and its transfers). */
export function withoutTranscripts(call: Call): Call {
  const empty = { turns: [], text: '' };
  return { ...call, transcript: empty, transfers: call.transfers.map((t) => ({ ...t, transcript: empty })) };
}

/** How many runs one page of listRuns holds: 50 unless asked, at most 500. */
export function pageSize(filter: Pick<RunFilter, 'limit'>): number {
  return Math.min(filter.limit ?? 50, 500);
}

/**
 * The dedupe key of a call within its sender. A chat's is prefixed: a conversation and a call
 * may carry the same id (the numeric ids of both count up on their own), and must never be
 * taken for revisions of each other.
 */
export function callKey(call: Pick<Call, 'id' | 'channel'>): string {
  return call.channel === 'widget' || call.channel === 'whatsapp' ? `${CONVERSATION_KEY_PREFIX}${call.id}` : String(call.id);
}

export const CONVERSATION_KEY_PREFIX = 'conversation:';
