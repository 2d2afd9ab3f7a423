// `salesforce.lead.upsert`: by an External ID field (Salesforce's own upsert), or by looking
// the lead up by email / phone first. Either way a retried step updates the lead it made.
import { z } from 'zod';
import { fieldValues, optional } from '../../step-input.js';
import { salesforceRecord, salesforceFields, savedId, salesforceStep, soql } from '../client.js';

const input = z
  .strictObject({
    fields: fieldValues.describe(
      'Lead fields by API name. A new lead needs LastName and Company; e.g. Phone, Email, Description, LeadSource, Rating, or your own Score__c. Null values are left alone.',
    ),
    external_id_field: optional(z.string().regex(/^[A-Za-z]\w*$/, 'must be a field API name'))
      .describe('An External ID field of Lead, e.g. Aftercall_Call_Id__c: the lead is upserted by it. Without it, the lead is looked up by fields.Email, then fields.Phone (Phone or MobilePhone).'),
    external_id: optional(z.union([z.string().min(1), z.number()]).transform(String)).describe('The external id value, e.g. "{{ call.id }}".'),
  })
  .refine((v) => Boolean(v.external_id_field) === (v.external_id !== null && v.external_id !== undefined), {
    message: 'external_id_field and external_id go together',
    path: ['external_id'],
  })
  .refine((v) => Boolean(v.external_id_field || v.fields.Email || v.fields.Phone), {
    message: 'needs external_id_field and external_id, or fields.Email or fields.Phone to find the lead by',
    path: ['fields'],
  });

export const leadUpsert = salesforceStep({
  kind: 'salesforce.lead.upsert',
  description:
    'Create or update a lead: by an External ID field, or found by email or phone (open leads only), else created. Output: { id, created }.',
  input,
  defaultRepeat: 'on-change',
  output: salesforceRecord,
  async execute(req, ctx, salesforce) {
    const fields = salesforceFields(req.fields);
    return salesforce.withConnection(ctx, 'upsert lead', async (conn) => {
      if (req.external_id_field && req.external_id) {
        // jsforce puts the value into the URL as is: encode it.
        const result = (await conn
          .sobject('Lead')
          .upsert({ ...fields, [req.external_id_field]: encodeURIComponent(req.external_id) }, req.external_id_field)) as { created?: boolean };
        let id = savedId('upsert lead', result);
        if (!id) {
          const found = await conn.query<{ Id: string }>(`SELECT Id FROM Lead WHERE ${req.external_id_field} = ${soql(req.external_id)} LIMIT 1`);
          id = found.records[0]?.Id ?? null;
        }
        return { id, created: result.created === true };
      }
      const email = typeof req.fields.Email === 'string' ? req.fields.Email : null;
      const phone = typeof req.fields.Phone === 'string' ? req.fields.Phone : null;
      const match = [email ? `Email = ${soql(email)}` : null, phone ? `Phone = ${soql(phone)} OR MobilePhone = ${soql(phone)}` : null]
        .filter(Boolean)
        .join(' OR ');
      const found = await conn.query<{ Id: string }>(`SELECT Id FROM Lead WHERE IsConverted = false AND (${match}) ORDER BY CreatedDate ASC LIMIT 1`);
      const existing = found.records[0]?.Id;
      if (existing) {
        savedId('update lead', await conn.sobject('Lead').update({ Id: existing, ...fields }));
        return { id: existing, created: false };
      }
      return { id: savedId('create lead', await conn.sobject('Lead').create(fields)), created: true };
    });
  },
});
