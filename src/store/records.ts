// The records the Store reads and writes: deliveries, receipts, runs and their step records.
import type { Call } from '../payload/call.js';
import type { PayloadIssue } from '../payload/parse-payload.js';
import type { RunStatus } from './run-status.js';

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
  /** The sender's request headers as kept (src/ingest/sender-headers.ts): bounded, secrets masked. */
  headers?: SenderHeaders;
  /** The words the Runs page search finds this revision by (search-document.ts); made from `call` when unset. */
  searchText?: string;
}

/** Request headers of a delivery as stored with its receipt: lower-case names, values masked where secret. */
export type SenderHeaders = Record<string, string>;

export type AcceptResult =
  | { outcome: 'accepted'; receiptId: number; revision: number; runIds: number[] }
  | { outcome: 'duplicate'; receiptId: number; revision: number };

export interface QuarantineInput extends DeliveryFacts {
  reason: 'malformed-json' | 'invalid-payload' | 'unknown-event';
  issues: PayloadIssue[];
  headers?: SenderHeaders;
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
  /** When an operator dismissed a quarantined receipt (it leaves the quarantine list). */
  dismissedAt: number | null;
  headers: SenderHeaders | null;
}

/** The body a call's revision was delivered with, as received (for `fixtures export`). */
export interface CallPayload {
  sender: string;
  callId: string;
  revision: number;
  /** The call's newest revision, so a caller can say which ones exist. */
  latestRevision: number;
  receivedAt: number;
  /** The request id the accepted delivery was answered with (its logs carry it); null once its body was purged. */
  requestId: string | null;
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
  /** The store's id of the run's call, which `findEarlierEffect` takes. */
  callRowId: number;
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
  /** Runs with an id above this one: the page just newer than a shown one (still newest first). */
  afterId?: number;
}

/** One delivery of a call: the accepted one of each revision and every duplicate, as received. */
export interface CallDelivery {
  receiptId: number;
  requestId: string;
  receivedAt: number;
  outcome: 'accepted' | 'duplicate';
  /** The revision the delivery created (accepted) or repeated (duplicate). */
  revision: number;
  headers: SenderHeaders | null;
}

/** A revision of a call as the call page shows it. */
export interface CallRevision {
  revision: number;
  createdAt: number;
  isTest: boolean;
  call: Call;
}

/** Everything the store holds of one call: its revisions, every delivery and every run. */
export interface CallHistory {
  callRowId: number;
  sender: string;
  callId: string;
  latestRevision: number;
  createdAt: number;
  updatedAt: number;
  /** Oldest first. */
  revisions: CallRevision[];
  /** Oldest first. */
  deliveries: CallDelivery[];
  /** Newest first. */
  runs: RunSummary[];
}

/** How many runs match a filter, counted up to a bound. */
export interface RunCount {
  count: number;
  /** True when there are more than `count` (counting stopped at the bound). */
  atLeast: boolean;
}

/** Calls received and runs finished in one bucket of time [at, at + bucketMs). */
export interface ActivityBucket {
  at: number;
  calls: number;
  succeeded: number;
  /** dead or invalid-variables. */
  failed: number;
}

/** Steps of runs created in the window that ended, per mapping and step. */
export interface StepOutcomes {
  mappingName: string;
  stepId: string;
  succeeded: number;
  failed: number;
}

export interface Activity {
  from: number;
  to: number;
  bucketMs: number;
  /** Every bucket from `from` to `to`, oldest first, empty ones included. */
  buckets: ActivityBucket[];
  steps: StepOutcomes[];
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
