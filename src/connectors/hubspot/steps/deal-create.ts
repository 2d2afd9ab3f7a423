// `hubspot.deal.create`: a deal for the caller's contact. With an idempotency property a
// retried step finds the deal its earlier attempt created. Never repeated for a new revision
// (hubspotCreateStep's default): a deal stands for the call's opportunity, and a re-evaluated
// call must not open a second one.
import { z } from 'zod';
import { fieldValues, optional } from '../../step-input.js';
import { hubspotCreateStep } from '../create-record.js';
import { contactId, isoTime, ownerId, timestamp } from '../record-fields.js';

const dealInput = z.strictObject({
  name: z.string().min(1).describe('Deal name (dealname).'),
  amount: optional(z.number()).describe('Deal amount, e.g. "{{ extracted.budget }}".'),
  pipeline: z.string().default('default').describe('Pipeline id.'),
  stage: optional(z.string()).describe('Deal stage id (dealstage), e.g. appointmentscheduled; default: the pipeline\'s first stage.'),
  close_date: optional(timestamp).describe('Expected close date (ISO date or epoch ms).'),
  owner_id: ownerId.describe('HubSpot owner id (hubspot_owner_id).'),
  contact_id: contactId,
  properties: fieldValues.default({}).describe('More deal properties by internal name.'),
});

export const dealCreate = hubspotCreateStep('deals', {
  description: 'Create a deal, associated with the contact. Output: { id, created }.',
  input: dealInput,
  properties: (req) => ({
    dealname: req.name,
    amount: req.amount,
    pipeline: req.pipeline,
    dealstage: req.stage,
    closedate: req.close_date === null || req.close_date === undefined ? undefined : isoTime(req.close_date),
  }),
});
