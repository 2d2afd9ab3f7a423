// Rows of both SQL backends, as their drivers return them, and their conversion to the Store
// types. The schemas share column names; SQLite has no BOOLEAN (0/1), node-postgres returns
// booleans (and BIGINT as numbers, BYTEA as Buffer); JSON is stored as TEXT in both.
import type { Call } from '../payload/call.js';
import type { PayloadIssue } from '../payload/parse-payload.js';
import type { CallPayload, ClaimedRun, EarlierEffect, Receipt, RunScore, RunStatus, RunSummary, SenderHeaders, StepEvidence, StepResult, StepStatus } from './store.js';

export interface RunRow {
  id: number;
  sender: string;
  call_key: string;
  revision: number;
  mapping_name: string;
  mapping_hash: string;
  status: RunStatus;
  is_test: boolean | number;
  attempts: number;
  next_run_at: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  score: string | null;
  finished_at: number | null;
  customer_phone: string | null;
}

/** Needs `runs r`, `calls c` and `revisions v` joined. */
export const RUN_COLUMNS = `r.id, c.sender, c.call_key, r.revision, r.mapping_name, r.mapping_hash, r.status, r.is_test,
  r.attempts, r.next_run_at, r.last_error, r.created_at, r.updated_at, r.score, r.finished_at, v.customer_phone`;

export interface ClaimedRow {
  id: number;
  mapping_name: string;
  mapping_hash: string;
  attempts: number;
  is_test: boolean | number;
  call_row_id: number;
  revision: number;
  next_run_at: number;
  call_json: string;
}

export interface StepRow {
  step_id: string;
  status: StepResult['status'];
  input: string | null;
  input_hash: string | null;
  output: string | null;
  error: string | null;
  attempts: number;
  started_at: number | null;
  finished_at: number | null;
  evidence: string | null;
}

/** The step_results columns StepRow holds, in the order both backends select them. */
export const STEP_COLUMNS = 'step_id, status, input, input_hash, output, error, attempts, started_at, finished_at, evidence';

export interface ReceiptRow {
  id: number;
  request_id: string;
  sender: string;
  received_at: number;
  outcome: Receipt['outcome'];
  reason: string | null;
  issues: string | null;
  raw_body: Buffer | null;
  call_key: string | null;
  revision: number | null;
  replayed_at: number | null;
  headers: string | null;
  dismissed_at: number | null;
}

export const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));
export const parse = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

/** A stored call's JSON as a Call; calls stored before platforms existed were all the autocalls.ai family's. */
export function readStoredCall(json: string): Call {
  const call = JSON.parse(json) as Call | null;
  // Null where the claimer holds the call already (claimRuns' callsHeld).
  if (call === null || call.platform) return call as Call;
  return { ...call, platform: 'autocalls' };
}

export function toClaimedRun(row: ClaimedRow, owner: string, steps: StepResult[]): ClaimedRun {
  return {
    id: row.id,
    mappingName: row.mapping_name,
    mappingHash: row.mapping_hash,
    attempts: row.attempts,
    isTest: Boolean(row.is_test),
    callRowId: row.call_row_id,
    revision: row.revision,
    call: readStoredCall(row.call_json),
    leaseOwner: owner,
    steps,
  };
}

export function toRunSummary(row: RunRow): RunSummary {
  return {
    id: row.id,
    sender: row.sender,
    callId: row.call_key,
    revision: row.revision,
    mappingName: row.mapping_name,
    mappingHash: row.mapping_hash,
    status: row.status,
    isTest: Boolean(row.is_test),
    attempts: row.attempts,
    nextRunAt: row.next_run_at,
    lastError: row.last_error,
    score: parse(row.score) as RunScore | null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    customerPhone: row.customer_phone,
  };
}

export function toStepResult(row: StepRow): StepResult {
  return {
    stepId: row.step_id,
    status: row.status,
    input: parse(row.input),
    inputHash: row.input_hash,
    output: parse(row.output),
    error: row.error,
    attempts: row.attempts,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    evidence: parse(row.evidence) as StepEvidence | null,
  };
}

export interface EarlierEffectRow {
  revision: number;
  status: StepStatus;
  input_hash: string | null;
  output: string | null;
}

export function toEarlierEffect(row: EarlierEffectRow): EarlierEffect {
  return {
    revision: row.revision,
    outcome: row.status === 'succeeded' ? 'succeeded' : 'unknown',
    inputHash: row.input_hash,
    output: parse(row.output),
  };
}

export interface CallPayloadRow {
  sender: string;
  call_key: string;
  revision: number;
  latest_revision: number;
  created_at: number;
  request_id: string | null;
  raw_body: Buffer | null;
}

export function toCallPayload(row: CallPayloadRow): CallPayload {
  return {
    sender: row.sender,
    callId: row.call_key,
    revision: row.revision,
    latestRevision: row.latest_revision,
    receivedAt: row.created_at,
    requestId: row.request_id,
    body: row.raw_body === null ? null : Buffer.from(row.raw_body).toString('utf8'),
  };
}

export function toReceipt(row: ReceiptRow): Receipt {
  return {
    id: row.id,
    requestId: row.request_id,
    sender: row.sender,
    receivedAt: row.received_at,
    outcome: row.outcome,
    reason: row.reason,
    issues: (parse(row.issues) as PayloadIssue[] | null) ?? [],
    rawBody: row.raw_body,
    callKey: row.call_key,
    revision: row.revision,
    replayedAt: row.replayed_at,
    dismissedAt: row.dismissed_at,
    headers: parse(row.headers) as SenderHeaders | null,
  };
}
