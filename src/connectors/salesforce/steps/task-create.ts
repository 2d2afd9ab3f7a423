// `salesforce.task.create`: the call log (a completed Task of subtype Call). Task.CallObject
// carries a call identifier; the step looks it up first, so a retry never logs a call twice.
import { z } from 'zod';
import { fieldValues, optional, recordId } from '../../step-input.js';
import { salesforceRecord, salesforceFields, savedId, salesforceStep, soql } from '../client.js';

const input = z.strictObject({
  subject: z.string().min(1).default('Call').describe('Task subject.'),
  description: optional(z.string()).describe('Comments: the summary or "{{ call.transcript.text }}" (Salesforce keeps 32,000 characters).'),
  duration_seconds: optional(z.number().int().min(0)).describe('Call duration (CallDurationInSeconds), e.g. "{{ call.duration }}".'),
  recording_url: optional(z.url()).describe('Recording link, added to the description (Task has no standard field for it).'),
  who_id: optional(recordId).describe('Lead or contact id (WhoId), e.g. "{{ steps.lead.id }}".'),
  what_id: optional(recordId).describe('Related record id (WhatId): an account, opportunity, case, …'),
  owner_id: optional(recordId).describe('User the task belongs to (OwnerId); default: the API user.'),
  status: z.string().default('Completed').describe('Task status.'),
  priority: z.string().default('Normal').describe('Task priority.'),
  call_type: optional(z.enum(['Inbound', 'Outbound', 'Internal'])).describe('CallType.'),
  call_disposition: optional(z.string().max(255)).describe('The call outcome (CallDisposition), e.g. "Appointment booked".'),
  activity_date: optional(z.string().regex(/^\d{4}-\d{2}-\d{2}/, 'must be an ISO date')).describe('Date of the call (ActivityDate), e.g. "{{ call.created_at }}"; default today (UTC).'),
  call_object: optional(z.union([z.string().min(1).max(255), z.number()]).transform(String)).describe(
    "Call identifier stored in CallObject, e.g. \"{{ call.id }}\"; default: the step's idempotency key. A task with it already there is not created again.",
  ),
  fields: fieldValues.default({}).describe('More Task fields by API name.'),
});

export const taskCreate = salesforceStep({
  kind: 'salesforce.task.create',
  description: 'Log the call as a completed Task (subtype Call) with duration, outcome and recording link. Output: { id, created }.',
  input,
  // The call happened once: a re-evaluated call does not log it again.
  defaultRepeat: 'never',
  output: salesforceRecord,
  async execute(req, ctx, salesforce) {
    const callObject = req.call_object ?? ctx.idempotencyKey;
    const description = [req.description, req.recording_url ? `Recording: ${req.recording_url}` : null].filter(Boolean).join('\n\n');
    return salesforce.withConnection(ctx, 'create task', async (conn) => {
      const found = await conn.query<{ Id: string }>(`SELECT Id FROM Task WHERE CallObject = ${soql(callObject)} LIMIT 1`);
      const existing = found.records[0]?.Id;
      if (existing) return { id: existing, created: false };
      const task = salesforceFields({
        Subject: req.subject,
        Description: description || null,
        TaskSubtype: 'Call',
        Status: req.status,
        Priority: req.priority,
        CallDurationInSeconds: req.duration_seconds,
        CallType: req.call_type,
        CallDisposition: req.call_disposition,
        CallObject: callObject,
        ActivityDate: (req.activity_date ?? new Date().toISOString()).slice(0, 10),
        WhoId: req.who_id,
        WhatId: req.what_id,
        OwnerId: req.owner_id,
        ...req.fields,
      });
      return { id: savedId('create task', await conn.sobject('Task').create(task)), created: true };
    });
  },
});
