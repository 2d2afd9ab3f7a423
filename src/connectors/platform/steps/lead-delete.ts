// `platform.lead.delete`: remove a lead (e.g. once the call reached its goal). A lead already
// gone (404) counts as deleted, so a retried step after a lost answer succeeds.
import { z } from 'zod';
import { PermanentError } from '../../connector.js';
import { optional } from '../../step-input.js';
import { apiId, campaignLeads, platformId, platformStep } from '../connector.js';

const KIND = 'platform.lead.delete';

const input = z.strictObject({
  lead_id: platformId.describe('The lead to delete.'),
  campaign_id: optional(platformId).describe('Famulor 2.0: the campaign the lead is removed from (required there; the contact itself is kept).'),
});

export const leadDelete = platformStep({
  kind: KIND,
  description: 'Delete a lead (classic API; on Famulor 2.0 remove it from its campaign). Output: { id, deleted }.',
  input,
  defaultRepeat: 'on-change',
  output: z.object({ id: z.string().describe('The lead.'), deleted: z.boolean().describe('False when the platform had no such lead any more (404).') }),
  async execute(req, ctx, { client }) {
    const lead = apiId(client.api, KIND, 'lead_id', req.lead_id);
    let path: string;
    if (client.api === 'classic') path = `/user/leads/${lead}`;
    else {
      if (!req.campaign_id) throw new PermanentError(`${KIND}: with.campaign_id is required on Famulor 2.0 (leads are removed from their campaign)`);
      path = campaignLeads(apiId(client.api, KIND, 'campaign_id', req.campaign_id), lead);
    }
    try {
      await client.request(ctx, 'delete lead', { method: 'DELETE', path });
      return { id: req.lead_id, deleted: true };
    } catch (error) {
      if (error instanceof PermanentError && / answered 404\b/.test(error.message)) return { id: req.lead_id, deleted: false };
      throw error;
    }
  },
});
