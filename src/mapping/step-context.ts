// What expressions see: `call`, `extracted`, `input`, `lead`, `campaign`, `transfers`,
// `score`, `steps.<id>` (outputs of earlier steps) and `now`.
import type { Call } from '../payload/call.js';
import type { RunScore } from '../store/store.js';

export interface StepContextData {
  call: Call;
  extracted: Call['extracted_variables'];
  input: Call['input_variables'];
  lead: Call['lead'];
  campaign: Call['campaign'];
  transfers: Call['transfers'];
  /** `{ value, band, fired }` when the mapping has `score:`, else null. */
  score: RunScore | null;
  steps: Record<string, unknown>;
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
