// The records of inbound-call variable requests (src/ingest/inbound/): what came in, what was
// answered and how each lookup went. Kept apart from deliveries: nothing runs from them.

/** How one lookup of an inbound request ended. */
export interface InboundLookupOutcome {
  /** The lookup's name in the mapping's `inbound.lookups`. */
  name: string;
  mapping: string;
  /** Its kind: `earlier_calls` or a step kind (`hubspot.contact.find_by_phone`, `http.request`). */
  use: string;
  outcome: 'ok' | 'cached' | 'timeout' | 'failed' | 'skipped';
  /** Milliseconds until it ended, or until the deadline when it did not. */
  ms: number;
  /** Why it failed or was skipped (masked). */
  error?: string;
}

/** What the record of a request and its summary in a list both show. */
export interface InboundRecordFacts {
  requestId: string;
  sender: string;
  receivedAt: number;
  /** `answered` (200 with variables) or `invalid` (4xx: the body is kept to see why). */
  outcome: 'answered' | 'invalid';
  status: number;
  customerPhone: string | null;
  assistantPhone: string | null;
  mappings: string[];
  durationMs: number;
  /** At the deadline: some lookups had not ended and their variables got the defaults. */
  deadlineHit: boolean;
}

export interface InboundRecordInput extends InboundRecordFacts {
  rawBody: Buffer;
  /** The JSON answer given (variables, or the error). */
  answer: unknown;
  lookups: InboundLookupOutcome[];
}

export interface InboundSummary extends InboundRecordFacts {
  id: number;
  /** Lookups that timed out or failed. */
  problems: number;
}

export interface InboundDetail extends InboundSummary {
  rawBody: Buffer;
  answer: unknown;
  lookups: InboundLookupOutcome[];
}

/** What aftercall's own store knows of earlier calls from a number (the `earlier_calls` lookup). */
export interface EarlierCalls {
  /** Distinct calls with this customer phone. */
  count: number;
  /** ISO 8601 time of the newest one's latest revision, or null. */
  last_call_at: string | null;
  /** `extracted_variables.summary` of that revision, or null. */
  last_summary: string | null;
  /** Its status. */
  last_status: string | null;
}
