// `pipedrive.note.create`: a note on a person, deal, organization or lead (API v1); a retry may
// add a second one (add-record.ts).
import { z } from 'zod';
import { PermanentError } from '../../connector.js';
import { textToHtml } from '../../html-text.js';
import { optional, present } from '../../step-input.js';
import { addRecord } from '../add-record.js';
import { pipedriveRecord, pipedriveStep } from '../client.js';
import { dealId, orgId, personId } from '../record-fields.js';

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
    return addRecord(pipedrive, ctx, 'add note', (api) =>
      api.notes.addNote({
        AddNoteRequest: {
          ...present({ person_id: req.person_id, deal_id: req.deal_id, org_id: req.org_id, lead_id: req.lead_id }),
          content: req.format === 'html' ? req.content : textToHtml(req.content),
        },
      }),
    );
  },
});
