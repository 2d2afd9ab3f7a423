// What expressions see: `call`, `extracted`, `input`, `lead`, `campaign`, `transfers`,
// `score`, `steps.<id>` (outputs of earlier steps), `run` and `now`.
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
  /**
   * The run executing the steps, e.g. for a link in a team notification; null where no run
   * exists (`aftercall test`, `aftercall replay`, the Runs page's re-run preview).
   */
  run: RunLink | null;
  /** When the run started, ISO 8601 UTC. */
  now: string;
}

export interface RunLink {
  /** The run's id, as on the Runs page and in `aftercall runs show`. */
  id: number;
  /**
   * Its page on the Runs page: PUBLIC_URL + /admin/runs/<id>; null without PUBLIC_URL or
   * ADMIN_TOKEN. It differs from run to run: a step whose input holds it counts as changed for
   * `repeat: on-change`.
   */
  url: string | null;
}

/** `run` of a run's context: its id, and its page under `runsPage` (PUBLIC_URL + /admin) when given. */
export function runLink(id: number, runsPage: string | undefined): RunLink {
  return { id, url: runsPage ? `${runsPage}/runs/${id}` : null };
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
  run: true,
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
    run: null,
    now: new Date(now).toISOString(),
  };
}
