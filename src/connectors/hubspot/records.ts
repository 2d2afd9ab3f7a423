// `hubspot.note.create`, `hubspot.deal.create`, `hubspot.task.create`: records tied to the
// caller's contact (and deal). Each may name an idempotency property so a retried step finds
// the record its earlier attempt created instead of making a second one.
import { z } from 'zod';
import { fieldValues, optional, recordId } from '../step-input.js';
import { textToHtml } from '../html-text.js';
import { hubspotRecord, hubspotProperties, hubspotStep } from './client.js';
import { ASSOCIATION, associations, createOnce } from './crm.js';

const contactId = optional(recordId).describe('HubSpot contact id to associate with, e.g. "{{ steps.contact.id }}".');
const dealId = optional(recordId).describe('HubSpot deal id to associate with, e.g. "{{ steps.deal.id }}".');
const idempotencyProperty = optional(z.string().regex(/^[a-z][a-z0-9_]*$/, 'must be a property internal name'))
  .describe(
    'Internal name of a custom single-line text property of this object (create it once, e.g. aftercall_key). ' +
      "It receives the step's idempotency key, and the step looks for it before creating, so a retry never makes a second record.",
  );
const timestamp = z.union([z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO date'), z.number().int()]);

const noteInput = z.strictObject({
  body: z.string().min(1).describe('The note text, e.g. the summary or "{{ call.transcript.text }}".'),
  format: z
    .enum(['text', 'html'])
    .default('text')
    .describe('text: escaped, line breaks kept (safe for transcripts); html: the body is HTML already.'),
  contact_id: contactId,
  deal_id: dealId,
  timestamp: optional(timestamp).describe('When the note happened (ISO date or epoch ms), e.g. "{{ call.finished_at }}"; default now.'),
  idempotency_property: idempotencyProperty,
});

export const noteCreate = hubspotStep({
  kind: 'hubspot.note.create',
  description: 'Add a note (e.g. the call summary or transcript) to a contact and/or deal. Output: { id, created }.',
  input: noteInput,
  defaultRepeat: 'on-change',
  output: hubspotRecord,
  async execute(req, ctx, hubspot) {
    return hubspot.withClient(ctx, 'create note', (client) =>
      createOnce(
        client,
        ctx,
        'notes',
        hubspotProperties({
          hs_note_body: req.format === 'html' ? req.body : textToHtml(req.body),
          hs_timestamp: isoTime(req.timestamp),
        }),
        associations([req.contact_id, ASSOCIATION.noteToContact], [req.deal_id, ASSOCIATION.noteToDeal]),
        req.idempotency_property,
      ),
    );
  },
});

const dealInput = z.strictObject({
  name: z.string().min(1).describe('Deal name (dealname).'),
  amount: optional(z.number()).describe('Deal amount, e.g. "{{ extracted.budget }}".'),
  pipeline: z.string().default('default').describe('Pipeline id.'),
  stage: optional(z.string()).describe('Deal stage id (dealstage), e.g. appointmentscheduled; default: the pipeline\'s first stage.'),
  close_date: optional(timestamp).describe('Expected close date (ISO date or epoch ms).'),
  owner_id: optional(recordId).describe('HubSpot owner id (hubspot_owner_id).'),
  contact_id: contactId,
  properties: fieldValues.default({}).describe('More deal properties by internal name.'),
  idempotency_property: idempotencyProperty,
});

export const dealCreate = hubspotStep({
  kind: 'hubspot.deal.create',
  description: 'Create a deal, associated with the contact. Output: { id, created }.',
  input: dealInput,
  // A deal stands for the call's opportunity: a re-evaluated call must not open a second one.
  defaultRepeat: 'never',
  output: hubspotRecord,
  async execute(req, ctx, hubspot) {
    return hubspot.withClient(ctx, 'create deal', (client) =>
      createOnce(
        client,
        ctx,
        'deals',
        hubspotProperties({
          dealname: req.name,
          amount: req.amount,
          pipeline: req.pipeline,
          dealstage: req.stage,
          closedate: req.close_date === null || req.close_date === undefined ? undefined : isoTime(req.close_date),
          hubspot_owner_id: req.owner_id,
          ...req.properties,
        }),
        associations([req.contact_id, ASSOCIATION.dealToContact]),
        req.idempotency_property,
      ),
    );
  },
});

const taskInput = z.strictObject({
  subject: z.string().min(1).describe('Task title (hs_task_subject).'),
  body: optional(z.string()).describe('Task notes (plain text; escaped, line breaks kept).'),
  due: optional(timestamp).describe('Due date (ISO date or epoch ms); default now.'),
  type: z.enum(['CALL', 'EMAIL', 'TODO']).default('CALL').describe('Task type.'),
  priority: z.enum(['LOW', 'MEDIUM', 'HIGH']).default('MEDIUM').describe('Task priority.'),
  status: z.enum(['NOT_STARTED', 'IN_PROGRESS', 'WAITING', 'COMPLETED', 'DEFERRED']).default('NOT_STARTED').describe('Task status.'),
  owner_id: optional(recordId).describe('HubSpot owner id the task is assigned to.'),
  contact_id: contactId,
  deal_id: dealId,
  idempotency_property: idempotencyProperty,
});

export const taskCreate = hubspotStep({
  kind: 'hubspot.task.create',
  description: 'Create a task (e.g. "call back") for the contact and/or deal. Output: { id, created }.',
  input: taskInput,
  // One follow-up per call: a re-evaluation must not hand the team the same task twice.
  defaultRepeat: 'never',
  output: hubspotRecord,
  async execute(req, ctx, hubspot) {
    return hubspot.withClient(ctx, 'create task', (client) =>
      createOnce(
        client,
        ctx,
        'tasks',
        hubspotProperties({
          hs_task_subject: req.subject,
          hs_task_body: req.body ? textToHtml(req.body) : undefined,
          hs_timestamp: isoTime(req.due),
          hs_task_type: req.type,
          hs_task_priority: req.priority,
          hs_task_status: req.status,
          hubspot_owner_id: req.owner_id,
        }),
        associations([req.contact_id, ASSOCIATION.taskToContact], [req.deal_id, ASSOCIATION.taskToDeal]),
        req.idempotency_property,
      ),
    );
  },
});

function isoTime(value: string | number | null | undefined): string {
  return value === null || value === undefined ? new Date().toISOString() : new Date(value).toISOString();
}
