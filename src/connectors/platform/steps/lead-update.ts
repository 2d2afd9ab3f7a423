// `platform.lead.update`: change a lead's variables, status, phone or campaign (only what is given).
import { z } from 'zod';
import { PermanentError } from '../../connector.js';
import { optional, present } from '../../step-input.js';
import { E164 } from '../config.js';
import { apiId, leadStep, platformId } from '../connector.js';

const KIND = 'platform.lead.update';

const input = z.strictObject({
  lead_id: platformId.describe('The lead, e.g. "{{ steps.requeue.id }}".'),
  campaign_id: optional(platformId).describe('Classic API: move the lead to this campaign. Famulor 2.0: the campaign the lead is in (required there).'),
  phone_number: optional(z.string().regex(E164, 'must be an E.164 phone number')).describe('A new phone number in E.164.'),
  status: optional(z.enum(['created', 'completed', 'reached-max-retries'])).describe('Classic API: the lead\'s status (created, completed or reached-max-retries).'),
  variables: optional(z.record(z.string(), z.unknown())).describe('Variables merged into the lead\'s (2.0: its custom fields; null deletes a key).'),
});

export const leadUpdate = leadStep({
  kind: KIND,
  description: "Update a lead's variables, status, phone number or campaign. Output: { id, updated }.",
  input,
  outcome: { field: 'updated', description: 'True once the platform accepted the change.' },
  // PUT /api/leads/{id}, documented without /user.
  classicPath: (lead) => `/leads/${lead}`,
  async perform(req, path, ctx, client) {
    if (client.api === 'classic') {
      // {campaign_id, phone_number, status, variables}.
      const body = present({
        campaign_id: req.campaign_id ? apiId(client.api, KIND, 'campaign_id', req.campaign_id) : undefined,
        phone_number: req.phone_number,
        status: req.status,
        variables: req.variables,
      });
      await client.request(ctx, 'update lead', { method: 'PUT', path, body });
    } else {
      if (req.status) throw new PermanentError(`${KIND}: with.status is not an updatable lead field on Famulor 2.0`);
      // PATCH /api/v1/campaigns/{id}/leads/{leadId} {phone, custom_fields}.
      await client.request(ctx, 'update lead', { method: 'PATCH', path, body: present({ phone: req.phone_number, custom_fields: req.variables }) });
    }
    return true;
  },
});
