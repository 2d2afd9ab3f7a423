// `pipedrive.deal.create`: a deal for the caller (a retry may add a second one: add-record.ts).
import { z } from 'zod';
import { numericId, optional, present } from '../../step-input.js';
import { addRecord } from '../add-record.js';
import { pipedriveRecord, pipedriveStep } from '../client.js';
import { isoDate, orgId, personId } from '../record-fields.js';

const dealInput = z.strictObject({
  title: z.string().min(1).describe('Deal title.'),
  value: optional(z.number()).describe('Deal value, e.g. "{{ extracted.budget }}".'),
  currency: optional(z.string().regex(/^[A-Z]{3}$/, 'must be a currency code like EUR')).describe('Currency code; default: the company\'s.'),
  person_id: personId,
  org_id: orgId,
  pipeline_id: optional(numericId).describe('Pipeline id.'),
  stage_id: optional(numericId).describe('Stage id; default: the first stage of the pipeline.'),
  owner_id: optional(numericId).describe('Owner (user) id.'),
  expected_close_date: optional(isoDate).describe('Expected close date (YYYY-MM-DD).'),
  custom_fields: z.record(z.string(), z.unknown()).default({}).describe('Custom field values by field key.'),
});

export const dealCreate = pipedriveStep({
  kind: 'pipedrive.deal.create',
  description: 'Open a deal for the person. Output: { id }.',
  input: dealInput,
  // A deal stands for the call's opportunity: a re-evaluated call must not open a second one.
  defaultRepeat: 'never',
  output: pipedriveRecord,
  execute: (req, ctx, pipedrive) =>
    addRecord(pipedrive, ctx, 'add deal', (api) =>
      api.deals.addDeal({
        AddDealRequest: present({
          title: req.title,
          value: req.value,
          currency: req.currency,
          person_id: req.person_id,
          org_id: req.org_id,
          pipeline_id: req.pipeline_id,
          stage_id: req.stage_id,
          owner_id: req.owner_id,
          expected_close_date: req.expected_close_date?.slice(0, 10),
          custom_fields: Object.keys(req.custom_fields).length > 0 ? req.custom_fields : undefined,
        }),
      }),
    ),
});
