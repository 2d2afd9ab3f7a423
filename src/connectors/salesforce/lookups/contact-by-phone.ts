// `salesforce.contact.find_by_phone`: the caller's contact, read only: for inbound-call
// variables (mapping files' `inbound.lookups`), also usable as a step. One SOQL query
// (GET /services/data/v59.0/query) on Phone or MobilePhone; the oldest match wins.
import { z } from 'zod';
import { nullableStrings, phoneLookup } from '../../phone-lookup.js';
import { loadJsforce, salesforceStep, soql } from '../client.js';

const input = z.strictObject({
  phone: z.string().min(3).describe('The number to find (Phone or MobilePhone, exact value), e.g. "{{ inbound.customer_phone }}".'),
});

interface ContactRow {
  Id: string;
  FirstName?: string | null;
  LastName?: string | null;
  Email?: string | null;
  Phone?: string | null;
  MobilePhone?: string | null;
  Account?: { Name?: string | null } | null;
}

export const contactFindByPhone = salesforceStep(
  phoneLookup({
    kind: 'salesforce.contact.find_by_phone',
    description: 'Find a contact by Phone or MobilePhone. Output: { found, id, first_name, last_name, email, phone, account } (found false and the rest null when none).',
    input,
    preload: loadJsforce,
    fields: {
      id: z.string().nullable().describe('Salesforce contact id.'),
      ...nullableStrings('first_name', 'last_name', 'email', 'phone'),
      account: z.string().nullable().describe("The account's name."),
    },
    find: (req, ctx, salesforce) =>
      salesforce.withConnection(ctx, 'find contact by phone', async (conn) => {
        const phone = soql(req.phone);
        const found = await conn.query<ContactRow>(
          `SELECT Id, FirstName, LastName, Email, Phone, MobilePhone, Account.Name FROM Contact WHERE Phone = ${phone} OR MobilePhone = ${phone} ORDER BY CreatedDate ASC LIMIT 1`,
        );
        const c = found.records[0];
        return c && { id: c.Id, first_name: c.FirstName, last_name: c.LastName, email: c.Email, phone: c.Phone ?? c.MobilePhone, account: c.Account?.Name };
      }),
  }),
);
