// `hubspot.contact.upsert`: find the caller's contact by email or phone, else create it; set
// the given properties. Search-then-create, so a retried step finds what it made before.
import { z } from 'zod';
import { fieldValues, optional } from '../../step-input.js';
import { hubspotRecord, hubspotProperties, hubspotStep } from '../client.js';
import { hubspotStatus } from '../errors.js';
import { createObject, searchEqual, updateObject } from '../crm.js';

const input = z
  .strictObject({
    email: optional(z.email()).describe('Email address to find the contact by (and to set on a new contact).'),
    phone: optional(z.string().min(3)).describe('Phone number to find the contact by (phone or mobilephone) and to set on a new one, e.g. "{{ call.customer_phone }}".'),
    properties: fieldValues
      .default({})
      .describe('Contact properties to set, by internal name (firstname, lastname, company, or your own such as ai_summary); null values are left alone.'),
  })
  .refine((v) => Boolean(v.email || v.phone), { message: 'needs email or phone to find the contact by', path: ['email'] });

const LOOKUP = ['email', 'phone', 'mobilephone'];

export const contactUpsert = hubspotStep({
  kind: 'hubspot.contact.upsert',
  description:
    'Find a contact by email, else by phone (phone or mobilephone), and update its properties; create it when none exists. ' +
    'Output: { id, created }.',
  input,
  defaultRepeat: 'on-change',
  output: hubspotRecord,
  async execute(req, ctx, hubspot) {
    return hubspot.withClient(ctx, 'upsert contact', async (client) => {
      const groups: Array<Record<string, string>> = [
        ...(req.email ? [{ email: req.email }] : []),
        ...(req.phone ? [{ phone: req.phone }, { mobilephone: req.phone }] : []),
      ];
      const found = await searchEqual(client, 'contacts', groups, LOOKUP);
      const match = found.find((c) => req.email && c.properties.email?.toLowerCase() === req.email.toLowerCase()) ?? found[0];
      const properties = hubspotProperties(req.properties);
      if (match) {
        // Fill in the email / phone the contact lacks; never overwrite the ones it has.
        const fill = hubspotProperties({
          email: match.properties.email ? undefined : req.email,
          phone: match.properties.phone || match.properties.mobilephone ? undefined : req.phone,
        });
        const changes = { ...fill, ...properties };
        if (Object.keys(changes).length > 0) await updateObject(client, 'contacts', match.id, changes);
        return { id: match.id, created: false };
      }
      try {
        const created = await createObject(client, 'contacts', { ...hubspotProperties({ email: req.email, phone: req.phone }), ...properties }, []);
        return { id: created.id, created: true };
      } catch (error) {
        // Created meanwhile (search lags writes): HubSpot names the contact with that email.
        const existing = hubspotStatus(error) === 409 ? /Existing ID:\s*(\d+)/.exec(JSON.stringify((error as { body?: unknown }).body))?.[1] : undefined;
        if (!existing) throw error;
        if (Object.keys(properties).length > 0) await updateObject(client, 'contacts', existing, properties);
        return { id: existing, created: false };
      }
    });
  },
});
