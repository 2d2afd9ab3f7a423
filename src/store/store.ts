// The Store contract. Every backend (SQLite, PostgreSQL) implements it and passes
// the same conformance suite (test/store/store-conformance.ts).
import type { Call } from '../payload/call.js';
import type { PayloadIssue } from '../payload/parse-payload.js';

import type { RunStatus } from './run-status.js';
export { REQUEUEABLE, RUN_STATUSES, type RunStatus } from './run-status.js';

/** The mapping name of the `skipped` run that records a call no mapping took. */
export const NO_MAPPING = '(no mapping)';

/** The lead score computed for a run (see src/scoring). */
export interface RunScore {
  value: number;
  /** The name of the highest band whose lower bound the value reaches; null without bands. */
  band: string | null;
  /** The weights and rules that changed the score, in order. */
  fired: Array<{ source: string; add?: number; set?: number }>;
}
/** `done-before`: succeeded in an earlier execution of the same run, before an operator re-run. */
export type StepStatus = 'started' | 'succeeded' | 'skipped' | 'failed' | 'done-before';
export type ReceiptOutcome = 'accepted' | 'duplicate' | 'quarantined';

export interface PlannedRun {
  mappingName: string;
  /** Hash of the mapping file's content at the time the run was planned. */
  mappingHash: string;
  /** Recorded as a finished `skipped` run with this reason instead of queued (no mapping matched). */
  skipReason?: string;
}

export interface DeliveryFacts {
  requestId: string;
  sender: string;
  receivedAt: number;
  rawBody: Buffer;
}

export interface AcceptInput extends DeliveryFacts {
  call: Call;
  contentHash: string;
  /** `JSON.stringify(call)` when the caller has it already (it hashed it); saves a pass. */
  callJson?: string;
  isTest: boolean;
  runs: PlannedRun[];
}

export type AcceptResult =
  | { outcome: 'accepted'; receiptId: number; revision: number; runIds: number[] }
  | { outcome: 'duplicate'; receiptId: number; revision: number };

export interface QuarantineInput extends DeliveryFacts {
  reason: 'malformed-json' | 'invalid-payload';
  issues: PayloadIssue[];
}

export interface Receipt {
  id: number;
  requestId: string;
  sender: string;
  receivedAt: number;
  outcome: ReceiptOutcome;
  reason: string | null;
  issues: PayloadIssue[];
  rawBody: Buffer | null;
  callKey: string | null;
  revision: number | null;
  replayedAt: number | null;
}

/** The body a call's revision was delivered with, as received (for `fixtures export`). */
export interface CallPayload {
  sender: string;
  callId: string;
  revision: number;
  /** The call's newest revision, so a caller can say which ones exist. */
  latestRevision: number;
  receivedAt: number;
  /** The raw body as UTF-8 text (accepted bodies are valid UTF-8); null once retention purged it. */
  body: string | null;
}

export interface ClaimedRun {
  id: number;
  mappingName: string;
  mappingHash: string;
  /** Failed attempts so far (the retry limit counts these). */
  attempts: number;
  isTest: boolean;
  callRowId: number;
  revision: number;
  call: Call;
  leaseOwner: string;
  /**
   * The run's step records as of the claim (steps done before a crash, a retry or a re-run),
   * read in the claim so a run starts without another round trip to the store.
   */
  steps: StepResult[];
}

export interface StepResult {
  stepId: string;
  status: StepStatus;
  input: unknown;
  inputHash: string | null;
  output: unknown;
  error: string | null;
  attempts: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** What the vendor answered the failed attempt, masked and bounded; null when it did not fail or said nothing. */
  evidence: StepEvidence | null;
}

/**
 * The request and answer behind a failed step, as stored: the URL with its secrets masked and
 * the start of the answer's body masked (src/connectors/evidence.ts makes it). `status` is null
 * when no answer came.
 */
export interface StepEvidence {
  method: string;
  url: string;
  status: number | null;
  /** At most EVIDENCE_BODY_CHARS characters of the answer; null when it had none. */
  body: string | null;
  /** True when the body was longer than what is kept. */
  truncated: boolean;
}

/** How a step ended, as `finishStep` records it. */
export interface StepFinish {
  status: 'succeeded' | 'skipped' | 'failed';
  output?: unknown;
  error?: string;
  /** A failed step's request and answer. */
  evidence?: StepEvidence;
  /** Set when the step never started (skipped before rendering). */
  input?: unknown;
}

export interface RunSummary {
  id: number;
  sender: string;
  callId: string;
  revision: number;
  mappingName: string;
  /** The mapping version the run was planned with ('operator-retry': the current one). */
  mappingHash: string;
  status: RunStatus;
  isTest: boolean;
  attempts: number;
  nextRunAt: number | null;
  lastError: string | null;
  score: RunScore | null;
  createdAt: number;
  updatedAt: number;
  /** When the run reached a final status. */
  finishedAt?: number | null;
  /** The call's customer phone, for lists and search. */
  customerPhone?: string | null;
}

export interface RunDetail extends RunSummary {
  call: Call;
  steps: StepResult[];
}

export interface RunFilter {
  status?: RunStatus;
  mappingName?: string;
  /** Runs created at or after this time (epoch ms). */
  createdFrom?: number;
  /** Runs created before this time (epoch ms). */
  createdTo?: number;
  /** A call id, or a customer phone (E.164, or its digits). */
  search?: string;
  limit?: number;
  /** Runs with an id below this one (keyset pagination, newest first). */
  beforeId?: number;
}

/** A step done for an earlier revision of the same call and mapping. */
export interface EarlierEffect {
  revision: number;
  /**
   * `unknown`: started and never finished (a crash mid-send, or a record lost with the
   * connection), so it may have taken effect.
   */
  outcome: 'succeeded' | 'unknown';
  inputHash: string | null;
  output: unknown;
}

export interface PurgeCounts {
  receipts: number;
  revisions: number;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /**
   * True when writes are applied in the order they are called, whether or not the caller
   * waited for the earlier ones (one writer, first in first out: SQLite's group commit). The
   * worker then sends a step's record without waiting and lets it share the next write's
   * commit. Both backends do (PostgreSQL through one queue of batches, postgres/run-writes.ts).
   * A claimed run's writes (startStep, finishStep, saveRunScore, completeRun, retryRunLater,
   * killRun, releaseRun) then also stop at the first that fails: until the run is claimed
   * again, each later one is refused with an error, not applied, so a write sent before an
   * earlier one's failure was known never lands after it.
   */
  readonly ordersWrites: boolean;

  /** Receipt + call revision + pending runs, committed together before this resolves. */
  acceptDelivery(input: AcceptInput): Promise<AcceptResult>;
  /** Keeps a rejected body with its problems, for a replay once the schema allows it. */
  quarantineDelivery(input: QuarantineInput): Promise<{ receiptId: number }>;
  getReceipt(id: number): Promise<Receipt | null>;
  listQuarantine(limit?: number): Promise<Receipt[]>;
  markReplayed(receiptId: number, at: number): Promise<void>;
  /**
   * The delivered body of a call's revision (the newest when `revision` is unset), one entry
   * per sender that has a call with this id, ordered by sender; empty when none has it or
   * the revision does not exist.
   */
  getCallPayloads(callId: string, revision?: number): Promise<CallPayload[]>;

  /** Leases up to `limit` due runs to `owner`. */
  claimRuns(owner: string, limit: number, now: number, leaseMs: number): Promise<ClaimedRun[]>;
  extendLease(runId: number, owner: string, until: number): Promise<boolean>;
  getStepResults(runId: number): Promise<StepResult[]>;
  /** Records that a step is about to execute (attempts + 1), before the side effect. */
  startStep(runId: number, owner: string, stepId: string, input: unknown, inputHash: string, at: number): Promise<boolean>;
  finishStep(
    runId: number,
    owner: string,
    stepId: string,
    result: StepFinish,
    at: number,
  ): Promise<boolean>;
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
  requeueDeadRun(runId: number, at: number): Promise<'requeued' | 'not-found' | 'not-dead'>; // dead or invalid-variables

  /**
   * Retention: drops raw bodies of deliveries received before `before`, and transcripts and
   * step inputs of revisions created before it whose runs have all finished. Content hashes
   * stay, so a late resend is still recognised as a duplicate.
   */
  purgePayloads(before: number, at: number): Promise<PurgeCounts>;

  /**
   * Operator re-run of a finished run with the current mappings: pending again; steps that
   * succeeded become `done-before` (their repeat policy decides), skipped steps are forgotten
   * (their `when` is evaluated again), interrupted ones count as failed.
   */
  requeueForRerun(runId: number, at: number): Promise<'requeued' | 'not-found' | 'not-finished'>;
  /** Runs due and unclaimed, and the oldest due time (queue lag), for metrics and /readyz. */
  queueStats(now: number): Promise<{ depth: number; oldestDueAt: number | null }>;

  listRuns(filter?: RunFilter): Promise<RunSummary[]>;
  getRun(id: number): Promise<RunDetail | null>;
  countRunsByStatus(): Promise<Record<string, number>>;

  /**
   * For /readyz: a tiny write committed like any other (a heartbeat row), so a store that can
   * read but not commit (disk full, read-only, file size limit) is unready; the SQLite store is
   * also unready for a while after any commit failed. Throws StoreUnavailableError.
   */
  ping(): Promise<void>;

  /**
   * Sessions of the Runs page, kept here so logging out ends a session on every instance: a
   * stolen cookie stops working. Starting one also forgets the expired ones.
   */
  startAdminSession(id: string, expiresAt: number, now: number): Promise<void>;
  adminSessionActive(id: string, now: number): Promise<boolean>;
  endAdminSession(id: string): Promise<void>;
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

/** What a search box query means: a call id as typed, and the phone it would be as E.164. */
export function searchTerms(query: string): { callKey: string; phone: string } {
  const trimmed = query.trim();
  const digits = trimmed.replace(/[^\d]/g, '');
  return { callKey: trimmed, phone: digits ? `+${digits}` : trimmed };
}

export function callKey(call: Pick<Call, 'id'>): string {
  return String(call.id);
}
