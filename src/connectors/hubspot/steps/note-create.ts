// `hubspot.note.create`: a note (the call summary or transcript) on the caller's contact and/or deal.
// With an idempotency property a retried step finds the note its earlier attempt created.
import { z } from 'zod';
import { textToHtml } from '../../html-text.js';
import { optional } from '../../step-input.js';
import { hubspotCreateStep } from '../create-record.js';
import { contactId, dealId, isoTime, timestamp } from '../record-fields.js';

const noteInput = z.strictObject({
  body: z.string().min(1).describe('The note text, e.g. the summary or "{{ call.transcript.text }}".'),
  format: z
    .enum(['text', 'html'])
    .default('text')
    .describe('text: escaped, line breaks kept (safe for transcripts); html: the body is HTML already.'),
  contact_id: contactId,
  deal_id: dealId,
  timestamp: optional(timestamp).describe('When the note happened (ISO date or epoch ms), e.g. "{{ call.finished_at }}"; default now.'),
});

export const noteCreate = hubspotCreateStep('notes', {
  description: 'Add a note (e.g. the call summary or transcript) to a contact and/or deal. Output: { id, created }.',
  input: noteInput,
  defaultRepeat: 'on-change',
  properties: (req) => ({ hs_note_body: req.format === 'html' ? req.body : textToHtml(req.body), hs_timestamp: isoTime(req.timestamp) }),
});
