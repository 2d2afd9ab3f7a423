// `hubspot.task.create`: a task ("call back") for the caller's contact and/or deal. With an
// idempotency property a retried step finds the task its earlier attempt created. Never
// repeated for a new revision (hubspotCreateStep's default): one follow-up per call, so a
// re-evaluation must not hand the team the same task twice.
import { z } from 'zod';
import { textToHtml } from '../../html-text.js';
import { optional } from '../../step-input.js';
import { hubspotCreateStep } from '../create-record.js';
import { contactId, dealId, isoTime, ownerId, timestamp } from '../record-fields.js';

const taskInput = z.strictObject({
  subject: z.string().min(1).describe('Task title (hs_task_subject).'),
  body: optional(z.string()).describe('Task notes (plain text; escaped, line breaks kept).'),
  due: optional(timestamp).describe('Due date (ISO date or epoch ms); default now.'),
  type: z.enum(['CALL', 'EMAIL', 'TODO']).default('CALL').describe('Task type.'),
  priority: z.enum(['LOW', 'MEDIUM', 'HIGH']).default('MEDIUM').describe('Task priority.'),
  status: z.enum(['NOT_STARTED', 'IN_PROGRESS', 'WAITING', 'COMPLETED', 'DEFERRED']).default('NOT_STARTED').describe('Task status.'),
  owner_id: ownerId.describe('HubSpot owner id the task is assigned to.'),
  contact_id: contactId,
  deal_id: dealId,
});

export const taskCreate = hubspotCreateStep('tasks', {
  description: 'Create a task (e.g. "call back") for the contact and/or deal. Output: { id, created }.',
  input: taskInput,
  properties: (req) => ({
    hs_task_subject: req.subject,
    hs_task_body: req.body ? textToHtml(req.body) : undefined,
    hs_timestamp: isoTime(req.due),
    hs_task_type: req.type,
    hs_task_priority: req.priority,
    hs_task_status: req.status,
  }),
});
