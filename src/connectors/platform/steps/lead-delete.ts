// `platform.lead.delete`: remove a lead (e.g. once the call reached its goal). A lead already
// gone (404) counts as deleted, so a retried step after a lost answer succeeds.
import { z } from 'zod';
import { PermanentError } from '../../connector.js';
import { optional } from '../../step-input.js';
import { leadStep, platformId } from '../connector.js';

const KIND = 'platform.lead.delete';

const input = z.strictObject({
  lead_id: platformId.describe('The lead to delete.'),
  campaign_id: optional(platformId).describe('Famulor 2.0: the campaign the lead is removed from (required there; the contact itself is kept).'),
});

export const leadDelete = leadStep({
  kind: KIND,
  description: 'Delete a lead (classic API; on Famulor 2.0 remove it from its campaign). Output: { id, deleted }.',
  input,
  outcome: { field: 'deleted', description: 'False when the platform had no such lead any more (404).' },
  classicPath: (lead) => `/user/leads/${lead}`,
  async perform(_req, path, ctx, client) {
    try {
      await client.request(ctx, 'delete lead', { method: 'DELETE', path });
      return true;
    } catch (error) {
      if (error instanceof PermanentError && / answered 404\b/.test(error.message)) return false;
      throw error;
    }
  },
});
