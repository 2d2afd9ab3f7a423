// `with` fields the Pipedrive record steps share: the records to attach to, and dates.
import { z } from 'zod';
import { numericId, optional } from '../step-input.js';

export const personId = optional(numericId).describe('Person id, e.g. "{{ steps.person.id }}".');
export const dealId = optional(numericId).describe('Deal id.');
export const orgId = optional(numericId).describe('Organization id.');
export const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}/, 'must be an ISO date (YYYY-MM-DD…)');
