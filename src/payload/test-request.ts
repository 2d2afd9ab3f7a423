// The platform's "Make test request" button sends the sample call from its documentation.
// Its exact content is not specified, so a delivery counts as a test when it carries the
// documented sample's identity, or when the sender marks it (aftercall's own `send --test`).
// Test deliveries run like any other (the user pressed the button to see the flow work);
// they are flagged, and their runs end with status `test` instead of `succeeded`.
import type { Call } from './call.js';

/** [call id, customer phone] of the sample payloads in the vendors' documentation. */
const DOCUMENTED_SAMPLES: ReadonlyArray<readonly [number | string, string]> = [
  [12345, '+1234567890'], // autocalls.ai and OtoniStark
  [480336, '+4915123456789'], // Famulor
];

export const TEST_HEADER = 'x-aftercall-test';

export function isDocumentedSample(call: Call): boolean {
  return DOCUMENTED_SAMPLES.some(([id, phone]) => call.id === id && call.customer_phone === phone);
}
