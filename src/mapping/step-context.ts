// What expressions see: `call`, `extracted`, `input`, `lead`, `campaign`, `transfers`,
// `score`, `steps.<id>` (outputs of earlier steps) and `now`.
import type { Call } from '../payload/call.js';
import type { RunScore } from '../store/store.js';

// The property comments are the reference's text (docs/expressions.md is generated from this).
export interface StepContextData {
  /** The call, normalized: the same names for autocalls.ai, OtoniStark and Famulor payloads. */
  call: Call;
  /** What the assistant extracted (`extracted_variables`), checked against the mapping's `variables`, declared defaults filled in. */
  extracted: Call['extracted_variables'];
  /** The variables the call was started with (`input_variables`). */
  input: Call['input_variables'];
  /** The campaign lead the call was made to; null for calls outside a campaign. */
  lead: Call['lead'];
  /** The lead's campaign; null for calls outside a campaign. */
  campaign: Call['campaign'];
  /** Transfers to a human during the call, in order; empty when there were none. */
  transfers: Call['transfers'];
  /** `{ value, band, fired }` when the mapping has `score:`, else null. */
  score: RunScore | null;
  /** Outputs of the steps before this one, by step id. */
  steps: Record<string, unknown>;
  /** When the run started, ISO 8601 UTC. */
  now: string;
}

const NAMES: Record<keyof StepContextData, true> = {
  call: true,
  extracted: true,
  input: true,
  lead: true,
  campaign: true,
  transfers: true,
  score: true,
  steps: true,
  now: true,
};
/** The top-level names an expression can read (load-time checks refuse others). */
export const STEP_CONTEXT_NAMES: readonly string[] = Object.keys(NAMES);

export function buildStepContext(call: Call, now: number): StepContextData {
  return {
    call,
    extracted: call.extracted_variables,
    input: call.input_variables,
    lead: call.lead,
    campaign: call.campaign,
    transfers: call.transfers,
    score: null,
    steps: {},
    now: new Date(now).toISOString(),
  };
}
