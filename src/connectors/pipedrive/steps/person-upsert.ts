// `pipedrive.person.upsert`: find the caller by phone, else email (exact match), else add
// them. Search-then-add, so a retried step finds the person it added before.
import { z } from 'zod';
import { during } from '../../classify-failure.js';
import { numericId, optional, present } from '../../step-input.js';
import { dataId, pipedriveRecord, pipedriveStep, type PipedriveApis } from '../client.js';

const input = z
  .strictObject({
    name: z.string().min(1).describe('Name for a new person, e.g. "{{ $default(input.customer_name, \'Unknown caller\') }}"; an existing person keeps theirs.'),
    phone: optional(z.string().min(3)).describe('Phone to find the person by (exact match) and to give a new one, e.g. "{{ call.customer_phone }}".'),
    email: optional(z.email()).describe('Email to find the person by when the phone finds no one, and to give a new one.'),
    org_id: optional(numericId).describe('Organization id to link the person to.'),
    owner_id: optional(numericId).describe('Owner (user) id.'),
    custom_fields: z
      .record(z.string(), z.unknown())
      .default({})
      .describe('Custom field values by field key (the 40-character hash in Pipedrive\'s field settings); set on new and existing persons.'),
  })
  .refine((v) => Boolean(v.phone || v.email), { message: 'needs phone or email to find the person by', path: ['phone'] });

interface SearchHit {
  item?: { id?: number };
}

async function find(api: PipedriveApis, field: 'phone' | 'email', term: string): Promise<number | undefined> {
  const result = (await during(`search persons by ${field}`, () => api.persons.searchPersons({ term, fields: field, exact_match: true, limit: 1 }))) as {
    data?: { items?: SearchHit[] };
  };
  return result.data?.items?.[0]?.item?.id;
}

export const personUpsert = pipedriveStep({
  kind: 'pipedrive.person.upsert',
  description: 'Find a person by phone, else email (exact match); add them when none exists. Output: { id, created }.',
  input,
  defaultRepeat: 'on-change',
  output: pipedriveRecord.extend({ created: z.boolean().describe('True when the person was added, false when found.') }),
  async execute(req, ctx, pipedrive) {
    return pipedrive.withApis(ctx, 'upsert person', async (api) => {
      const existing = (req.phone ? await find(api, 'phone', req.phone) : undefined) ?? (req.email ? await find(api, 'email', req.email) : undefined);
      const links = present({ org_id: req.org_id, owner_id: req.owner_id });
      const custom = Object.keys(req.custom_fields).length > 0 ? { custom_fields: req.custom_fields } : {};
      if (existing !== undefined) {
        const changes = { ...links, ...custom };
        if (Object.keys(changes).length > 0) {
          await during('update person', () => api.persons.updatePerson({ id: existing, UpdatePersonRequest: changes }));
        }
        return { id: existing, created: false };
      }
      const added = await during('add person', () =>
        api.persons.addPerson({
          AddPersonRequest: {
            name: req.name,
            ...(req.phone ? { phones: [{ value: req.phone, primary: true, label: 'mobile' }] } : {}),
            ...(req.email ? { emails: [{ value: req.email, primary: true, label: 'work' }] } : {}),
            ...links,
            ...custom,
          },
        }),
      );
      return { id: dataId(added), created: true };
    });
  },
});
