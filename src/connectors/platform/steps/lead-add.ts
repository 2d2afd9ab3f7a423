// `platform.lead.add`: put the caller into a campaign, e.g. re-queue an unanswered call into a
// callback campaign, with variables for the assistant. The classic API refuses a phone number
// already in the campaign unless allow_duplicate is set, so a repeated add does not duplicate.
import { z } from 'zod';
import { optional } from '../../step-input.js';
import { E164 } from '../config.js';
import { apiId, campaignLeads, idOf, phoneNumber, platformId, platformRecord, platformStep, textOf, unwrap } from '../connector.js';

const KIND = 'platform.lead.add';

const input = z.strictObject({
  campaign_id: platformId.describe('The campaign to add the lead to (numeric on the classic API, a UUID on Famulor 2.0).'),
  phone_number: phoneNumber.describe('The lead\'s phone in E.164, e.g. "{{ call.customer_phone }}".'),
  variables: z.record(z.string(), z.unknown()).default({}).describe('Variables stored with the lead for the assistant\'s prompt (2.0: its custom fields).'),
  allow_duplicate: z.boolean().default(false).describe('Classic API: add the number even when the campaign has it already (sent as the documented `allow_dupplicate`).'),
  secondary_contacts: optional(
    z.array(z.strictObject({ phone_number: z.string().regex(E164, 'must be an E.164 phone number'), variables: z.record(z.string(), z.unknown()).optional() })).max(10),
  ).describe('Classic API: further contact persons of the lead, each { phone_number, variables }.'),
});

export const leadAdd = platformStep({
  kind: KIND,
  description: 'Add a lead (phone and variables) to an outbound campaign. Output: { id, status }.',
  input,
  defaultRepeat: 'never',
  output: platformRecord('id', 'the lead (for platform.lead.update and .delete)', 'Its status, e.g. created.'),
  async execute(req, ctx, { client }) {
    const campaign = apiId(client.api, KIND, 'campaign_id', req.campaign_id);
    // Classic: POST /api/user/lead {phone_number, campaign_id, variables, allow_dupplicate, secondary_contacts?};
    // 2.0: POST /api/v1/campaigns/{id}/leads with one lead object.
    const answer = await client.request(ctx, 'add lead', {
      method: 'POST',
      ...(client.api === 'classic'
        ? {
            path: '/user/lead',
            body: {
              phone_number: req.phone_number,
              campaign_id: campaign,
              variables: req.variables,
              allow_dupplicate: req.allow_duplicate,
              ...(req.secondary_contacts?.length ? { secondary_contacts: req.secondary_contacts } : {}),
            },
          }
        : { path: campaignLeads(campaign), body: { phone: req.phone_number, custom_fields: req.variables } }),
    });
    const data = unwrap(answer);
    return { id: idOf(data.id), status: textOf(data.status) };
  },
});
