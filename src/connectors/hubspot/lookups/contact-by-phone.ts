// `hubspot.contact.find_by_phone`: the caller's contact, read only: for inbound-call variables
// (mapping files' `inbound.lookups`), also usable as a step. Searches phone and mobilephone
// with HubSpot's CRM search (POST /crm/v3/objects/contacts/search); the oldest match wins.
import { z } from 'zod';
import { nullableStrings, phoneLookup } from '../../phone-lookup.js';
import { hubspotStep, loadHubSpot } from '../client.js';
import { searchEqual } from '../crm.js';

const STANDARD = ['firstname', 'lastname', 'email', 'phone', 'mobilephone', 'company', 'lifecyclestage', 'hs_lead_status'];

const input = z.strictObject({
  phone: z.string().min(3).describe('The number to find, e.g. "{{ inbound.customer_phone }}".'),
  properties: z
    .array(z.string().regex(/^[a-z0-9_]+$/i, 'must be a property internal name'))
    .default([])
    .describe(`More contact properties to read besides ${STANDARD.join(', ')}.`),
});

export const contactFindByPhone = hubspotStep(
  phoneLookup({
    kind: 'hubspot.contact.find_by_phone',
    description:
      'Find a contact by phone or mobilephone (exact value). Output: { found, id, firstname, lastname, email, phone, company, properties } (found false and the rest null when none).',
    input,
    preload: loadHubSpot,
    fields: {
      id: z.string().nullable().describe('HubSpot contact id.'),
      ...nullableStrings('firstname', 'lastname', 'email', 'phone', 'company'),
      properties: z.record(z.string(), z.string().nullable()).describe('Every property read, by internal name.'),
    },
    find: (req, ctx, hubspot) =>
      hubspot.withClient(ctx, 'find contact by phone', async (client) => {
        const properties = [...new Set([...STANDARD, ...req.properties])];
        const [match] = await searchEqual(client, 'contacts', [{ phone: req.phone }, { mobilephone: req.phone }], properties);
        if (!match) return undefined;
        // The fields are HubSpot's property names; phone falls back to mobilephone.
        const p = match.properties;
        return { ...p, id: match.id, phone: p.phone ?? p.mobilephone, properties: p };
      }),
    none: () => ({ properties: {} }),
  }),
);
