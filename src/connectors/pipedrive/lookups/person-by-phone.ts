// `pipedrive.person.find_by_phone`: the caller's person, read only: for inbound-call variables
// (mapping files' `inbound.lookups`), also usable as a step. Pipedrive's person search
// (GET /api/v2/persons/search, fields=phone, exact_match) gives the best match.
import { z } from 'zod';
import { during } from '../../classify-failure.js';
import { phoneLookup } from '../../phone-lookup.js';
import { loadPipedrive, pipedriveStep } from '../client.js';

const input = z.strictObject({
  phone: z.string().min(3).describe('The number to find (exact match), e.g. "{{ inbound.customer_phone }}".'),
});

/** One hit of the search, as the SDK's GetPersonSearchResponseAllOfDataItemsInnerItem types it. */
interface PersonHit {
  id?: number;
  name?: string;
  phones?: string[];
  emails?: string[];
  organization?: { id?: number; name?: string } | null;
  owner?: { id?: number } | null;
}

export const personFindByPhone = pipedriveStep(
  phoneLookup({
    kind: 'pipedrive.person.find_by_phone',
    description: 'Find a person by phone (exact match). Output: { found, id, name, email, phone, organization, owner_id } (found false and the rest null when none).',
    input,
    preload: loadPipedrive,
    fields: {
      id: z.number().int().nullable().describe('Pipedrive person id.'),
      name: z.string().nullable(),
      email: z.string().nullable().describe('The first email.'),
      phone: z.string().nullable().describe('The first phone.'),
      organization: z.string().nullable().describe("The organization's name."),
      owner_id: z.number().int().nullable(),
    },
    find: (req, ctx, pipedrive) =>
      pipedrive.withApis(ctx, 'find person by phone', async (api) => {
        const result = (await during('search persons by phone', () =>
          api.persons.searchPersons({ term: req.phone, fields: 'phone', exact_match: true, limit: 1 }),
        )) as { data?: { items?: Array<{ item?: PersonHit }> } };
        const hit = result.data?.items?.[0]?.item;
        if (!hit || typeof hit.id !== 'number') return undefined;
        return { id: hit.id, name: hit.name, email: hit.emails?.[0], phone: hit.phones?.[0], organization: hit.organization?.name, owner_id: hit.owner?.id };
      }),
  }),
);
