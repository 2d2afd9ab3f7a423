// `salesforce.contact.update`: update a contact given by id, or found by email / phone.
import { z } from 'zod';
import { PermanentError } from '../../connector.js';
import { fieldValues, optional, recordId } from '../../step-input.js';
import { salesforceFields, savedId, salesforceStep, soql } from '../client.js';

const input = z
  .strictObject({
    id: optional(recordId).describe('Contact id; without it the contact is found by email, else phone.'),
    email: optional(z.email()).describe('Email to find the contact by.'),
    phone: optional(z.string().min(3)).describe('Phone to find the contact by (Phone or MobilePhone), e.g. "{{ call.customer_phone }}".'),
    fields: fieldValues
      .refine((v) => Object.keys(v).length > 0, 'needs at least one field')
      .describe('Contact fields to set, by API name (e.g. Description, Last_Call_Summary__c); null values are left alone.'),
    if_missing: z
      .enum(['skip', 'fail'])
      .default('skip')
      .describe('When no contact matches: skip (output updated: false) or fail the run.'),
  })
  .refine((v) => Boolean(v.id || v.email || v.phone), { message: 'needs id, email or phone', path: ['id'] });

export const contactUpdate = salesforceStep({
  kind: 'salesforce.contact.update',
  description: 'Update an existing contact, given by id or found by email or phone. Output: { id, updated }.',
  input,
  defaultRepeat: 'on-change',
  output: z.object({
    id: z.string().nullable().describe('The contact updated; null when none was found.'),
    updated: z.boolean().describe('Whether a contact was updated.'),
  }),
  async execute(req, ctx, salesforce) {
    return salesforce.withConnection(ctx, 'update contact', async (conn) => {
      let id = req.id ?? null;
      if (!id) {
        const where = req.email ? `Email = ${soql(req.email)}` : `Phone = ${soql(req.phone!)} OR MobilePhone = ${soql(req.phone!)}`;
        const found = await conn.query<{ Id: string }>(`SELECT Id FROM Contact WHERE ${where} ORDER BY CreatedDate ASC LIMIT 1`);
        id = found.records[0]?.Id ?? null;
      }
      if (!id) {
        if (req.if_missing === 'fail') throw new PermanentError(`Salesforce (update contact): no contact with that ${req.email ? 'email' : 'phone'}`);
        ctx.logger.info('no matching Salesforce contact; nothing updated');
        return { id: null, updated: false };
      }
      savedId('update contact', await conn.sobject('Contact').update({ Id: id, ...salesforceFields(req.fields) }));
      return { id, updated: true };
    });
  },
});
