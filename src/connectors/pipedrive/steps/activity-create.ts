// `pipedrive.activity.create`: the call logged as an activity, or a follow-up activity (a retry
// may add a second one: add-record.ts).
import { z } from 'zod';
import { textToHtml } from '../../html-text.js';
import { numericId, optional, present } from '../../step-input.js';
import { addRecord } from '../add-record.js';
import { pipedriveRecord, pipedriveStep } from '../client.js';
import { dealId, isoDate, orgId, personId } from '../record-fields.js';

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
    return addRecord(pipedrive, ctx, 'add activity', (api) =>
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
  },
});


/** Pipedrive durations are HH:MM; a started minute counts. */
export function hoursMinutes(seconds: number): string {
  const minutes = Math.ceil(seconds / 60);
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}
