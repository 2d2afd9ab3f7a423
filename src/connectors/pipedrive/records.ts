// `pipedrive.note.create`, `pipedrive.activity.create`, `pipedrive.deal.create`.
// Pipedrive has no idempotency keys and no way to search these by a marker: a retry after a
// create that got no answer may add a second one (the person upsert never does).
import { z } from 'zod';
import { PermanentError } from '../connector.js';
import { during } from '../classify-failure.js';
import { numericId, optional, present } from '../step-input.js';
import { textToHtml } from '../html-text.js';
import { dataId, pipedriveRecord, pipedriveStep } from './client.js';

const personId = optional(numericId).describe('Person id, e.g. "{{ steps.person.id }}".');
const dealId = optional(numericId).describe('Deal id.');
const orgId = optional(numericId).describe('Organization id.');
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}/, 'must be an ISO date (YYYY-MM-DD…)');

// The record to attach to usually comes from an earlier step's output, unknown in a dry run:
// checked when the step runs, not by the schema.
const noteInput = z.strictObject({
  content: z.string().min(1).describe('The note, e.g. the summary or "{{ call.transcript.text }}".'),
  format: z.enum(['text', 'html']).default('text').describe('text: escaped, line breaks kept; html: content is HTML already.'),
  person_id: personId,
  deal_id: dealId,
  org_id: orgId,
  lead_id: optional(z.string().uuid()).describe('Lead id (a UUID). One of person_id, deal_id, org_id and lead_id is needed.'),
});

export const noteCreate = pipedriveStep({
  kind: 'pipedrive.note.create',
  description: 'Add a note to a person, deal, organization or lead (API v1: POST /v1/notes). Output: { id }.',
  input: noteInput,
  defaultRepeat: 'on-change',
  output: pipedriveRecord,
  async execute(req, ctx, pipedrive) {
    if (!(req.person_id || req.deal_id || req.org_id || req.lead_id)) {
      throw new PermanentError('Pipedrive (add note): needs person_id, deal_id, org_id or lead_id to attach the note to');
    }
    return pipedrive.withApis(ctx, 'add note', async (api) => {
      const added = await during('add note', () =>
        api.notes.addNote({
          AddNoteRequest: {
            ...present({ person_id: req.person_id, deal_id: req.deal_id, org_id: req.org_id, lead_id: req.lead_id }),
            content: req.format === 'html' ? req.content : textToHtml(req.content),
          },
        }),
      );
      return { id: dataId(added) };
    });
  },
});

const activityInput = z.strictObject({
  subject: z.string().min(1).default('Call').describe('Activity subject.'),
  type: z.string().default('call').describe('Activity type key (call, meeting, task, …).'),
  duration_seconds: optional(z.number().int().min(0)).describe('Call duration in seconds, e.g. "{{ call.duration }}" (sent as HH:MM, rounded up).'),
  outcome: optional(z.string()).describe('The call outcome in words, e.g. "Resolved on the call"; written at the top of the note.'),
  outcome_id: optional(numericId).describe("Id of one of the activity type's Outcome options (Activity Fields API)."),
  note: optional(z.string()).describe('Notes (plain text; escaped, line breaks kept).'),
  due_date: optional(isoDate).describe('Date of the activity, e.g. "{{ call.created_at }}"; default today (UTC).'),
  due_time: optional(z.string().regex(/^\d{2}:\d{2}$/, 'must be HH:MM')).describe('Time (HH:MM, UTC).'),
  done: z.boolean().default(true).describe('Mark it done (a logged call) or leave it open (a follow-up).'),
  person_id: personId,
  deal_id: dealId,
  org_id: orgId,
  owner_id: optional(numericId).describe('Owner (user) id.'),
});

export const activityCreate = pipedriveStep({
  kind: 'pipedrive.activity.create',
  description: 'Log the call as an activity (type call, done) with duration and outcome, or add a follow-up activity. Output: { id }.',
  input: activityInput,
  // The call happened once: a re-evaluated call does not log it again.
  defaultRepeat: 'never',
  output: pipedriveRecord,
  async execute(req, ctx, pipedrive) {
    const note = [req.outcome ? `<p><b>Outcome:</b> ${textToHtml(req.outcome)}</p>` : '', req.note ? `<p>${textToHtml(req.note)}</p>` : ''].join('');
    return pipedrive.withApis(ctx, 'add activity', async (api) => {
      const added = await during('add activity', () =>
        api.activities.addActivity({
          AddActivityRequest: present({
            subject: req.subject,
            type: req.type,
            due_date: (req.due_date ?? new Date().toISOString()).slice(0, 10),
            due_time: req.due_time,
            duration: req.duration_seconds === null || req.duration_seconds === undefined ? undefined : hoursMinutes(req.duration_seconds),
            done: req.done,
            note: note || undefined,
            outcome: req.outcome_id,
            person_id: req.person_id,
            deal_id: req.deal_id,
            org_id: req.org_id,
            owner_id: req.owner_id,
          }),
        }),
      );
      return { id: dataId(added) };
    });
  },
});

const dealInput = z.strictObject({
  title: z.string().min(1).describe('Deal title.'),
  value: optional(z.number()).describe('Deal value, e.g. "{{ extracted.budget }}".'),
  currency: optional(z.string().regex(/^[A-Z]{3}$/, 'must be a currency code like EUR')).describe('Currency code; default: the company\'s.'),
  person_id: personId,
  org_id: orgId,
  pipeline_id: optional(numericId).describe('Pipeline id.'),
  stage_id: optional(numericId).describe('Stage id; default: the first stage of the pipeline.'),
  owner_id: optional(numericId).describe('Owner (user) id.'),
  expected_close_date: optional(isoDate).describe('Expected close date (YYYY-MM-DD).'),
  custom_fields: z.record(z.string(), z.unknown()).default({}).describe('Custom field values by field key.'),
});

export const dealCreate = pipedriveStep({
  kind: 'pipedrive.deal.create',
  description: 'Open a deal for the person. Output: { id }.',
  input: dealInput,
  // A deal stands for the call's opportunity: a re-evaluated call must not open a second one.
  defaultRepeat: 'never',
  output: pipedriveRecord,
  async execute(req, ctx, pipedrive) {
    return pipedrive.withApis(ctx, 'add deal', async (api) => {
      const added = await during('add deal', () =>
        api.deals.addDeal({
          AddDealRequest: present({
            title: req.title,
            value: req.value,
            currency: req.currency,
            person_id: req.person_id,
            org_id: req.org_id,
            pipeline_id: req.pipeline_id,
            stage_id: req.stage_id,
            owner_id: req.owner_id,
            expected_close_date: req.expected_close_date?.slice(0, 10),
            custom_fields: Object.keys(req.custom_fields).length > 0 ? req.custom_fields : undefined,
          }),
        }),
      );
      return { id: dataId(added) };
    });
  },
});

/** Pipedrive durations are HH:MM; a started minute counts. */
export function hoursMinutes(seconds: number): string {
  const minutes = Math.ceil(seconds / 60);
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}
