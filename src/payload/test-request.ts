// The platform's "Make test request" button sends the sample call from its documentation.
// Its exact content is not specified, so a delivery counts as a test when it carries the
// documented sample's identity, or when the sender marks it (aftercall's own `send --test`).
// What a test delivery does is TEST_DELIVERIES: by default its steps run for real (the user
// pressed the button to see the flow work). Its runs are flagged `isTest` and end succeeded
// or dead like any other, so a failing test shows as failing.
import type { Call } from './call.js';

/** [call id, customer phone] of the sample payloads in the vendors' documentation. */
const DOCUMENTED_SAMPLES: ReadonlyArray<readonly [number | string, string]> = [
  [12345, '+1234567890'], // autocalls.ai and OtoniStark
  [480336, '+4915123456789'], // Famulor
];

export const TEST_HEADER = 'x-aftercall-test';

/**
 * `run`: steps run for real; `dry-run`: each step is evaluated and its rendered input recorded,
 * nothing is sent; `skip`: the runs are recorded as skipped without evaluating anything.
 */
export const TEST_DELIVERY_MODES = ['run', 'dry-run', 'skip'] as const;
export type TestDeliveryMode = (typeof TEST_DELIVERY_MODES)[number];

/** The reason a dry-run test delivery's step is recorded `skipped` with. */
export const DRY_RUN_REASON = 'test delivery (dry-run)';
/** The reason a test delivery's runs are recorded `skipped` with under TEST_DELIVERIES=skip. */
export const SKIPPED_TEST_REASON = 'test delivery (TEST_DELIVERIES=skip)';

export function isDocumentedSample(call: Call): boolean {
  return DOCUMENTED_SAMPLES.some(([id, phone]) => call.id === id && call.customer_phone === phone);
}
