// `with` fields the HubSpot record steps share: the records to associate with, the owner, the
// idempotency property that makes a retried create find its earlier record, and times.
import { z } from 'zod';
import { optional, recordId } from '../step-input.js';

export const contactId = optional(recordId).describe('HubSpot contact id to associate with, e.g. "{{ steps.contact.id }}".');
export const dealId = optional(recordId).describe('HubSpot deal id to associate with, e.g. "{{ steps.deal.id }}".');
/** A HubSpot owner id: a create step sets it as hubspot_owner_id (create-record.ts). */
export const ownerId = optional(recordId);
export const idempotencyProperty = optional(z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be a property internal name'))
  .describe(
    'Internal name of a custom single-line text property of this object (create it once, e.g. aftercall_key). ' +
      "It receives the step's idempotency key, and the step looks for it before creating, so a retry never makes a second record.",
  );
export const timestamp = z.union([z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date'), z.number().int()]);

/** A timestamp as HubSpot stores it; none: now. */
export function isoTime(value: string | number | null | undefined): string {
  return value === null || value === undefined ? new Date().toISOString() : new Date(value).toISOString();
}
