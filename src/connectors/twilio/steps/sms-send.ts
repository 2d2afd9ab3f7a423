// `twilio.sms.send`: one text message. Not safe to repeat: Twilio cannot deduplicate sends, so
// the worker records the step before and after, never re-sends one left "started" by a crash,
// and a send that got no answer is reported instead of retried.
import { z } from 'zod';
import { PermanentError } from '../../connector.js';
import { optional } from '../../step-input.js';
import { twilioStep } from '../client.js';
import { smsSegments } from '../segments.js';

const E164 = /^\+[1-9]\d{1,14}$/;
const SENDER = /^(\+[1-9]\d{1,14}|\d{3,8}|(?=[A-Za-z0-9 ]*[A-Za-z])[A-Za-z0-9 ]{1,11})$/;

const input = z.strictObject({
  to: z.string().regex(E164, 'must be an E.164 phone number like +14155550100').describe('Recipient in E.164, e.g. "{{ call.customer_phone }}".'),
  body: z.string().min(1).max(1600).describe('Message text (up to 1600 characters; over 160 GSM-7 or 70 other characters it is sent, and billed, as several segments).'),
  from: optional(z.string().regex(SENDER, 'must be an E.164 number, a short code or an alphanumeric sender id (up to 11 characters)')).describe(
    'Sender; default TWILIO_MESSAGING_SERVICE_SID, else TWILIO_FROM.',
  ),
  messaging_service_sid: optional(z.string().regex(/^MG[0-9a-fA-F]{32}$/, 'must be MG and 32 hex digits')).describe('Messaging service to send from (instead of from).'),
  status_callback: optional(z.url()).describe('URL Twilio posts delivery status updates to.'),
});

export const smsSend = twilioStep({
  kind: 'twilio.sms.send',
  description: 'Send an SMS through Twilio. Output: { sid, status, segments, to }.',
  input,
  defaultRepeat: 'never',
  output: z.object({
    sid: z.string().describe('Message SID (SM…).'),
    status: z.string().describe("Twilio's status of the message, e.g. queued."),
    segments: z.number().int().describe('Segments billed.'),
    to: z.string().describe('Recipient.'),
  }),
  safeToRepeat: false,
  // The sender comes from the step (templated or not) or the configuration; with neither, every send fails.
  needs: (config, input) =>
    input.from || input.messaging_service_sid || config.TWILIO_MESSAGING_SERVICE_SID || config.TWILIO_FROM
      ? null
      : 'a sender: from or messaging_service_sid in the step, or TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID',
  async execute(req, ctx, twilio) {
    const { config } = twilio;
    const sender = req.from
      ? { from: req.from }
      : req.messaging_service_sid
        ? { messagingServiceSid: req.messaging_service_sid }
        : config.TWILIO_MESSAGING_SERVICE_SID
          ? { messagingServiceSid: config.TWILIO_MESSAGING_SERVICE_SID }
          : config.TWILIO_FROM
            ? { from: config.TWILIO_FROM }
            : null;
    if (!sender) throw new PermanentError('Twilio (send SMS): no sender: set from or messaging_service_sid in the step, or TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID');
    const count = smsSegments(req.body);
    if (count.segments > 1) {
      ctx.logger.warn({ segments: count.segments, encoding: count.encoding, chars: req.body.length }, 'SMS body is sent (and billed) as several segments');
    }
    // A shutdown stops the step until the request leaves, not after (see withClient).
    const message = await twilio.withClient(ctx, 'Twilio (send SMS)', (client) =>
      client.messages.create({
        to: req.to,
        body: req.body,
        ...sender,
        ...(req.status_callback ? { statusCallback: req.status_callback } : {}),
      }),
    );
    const billed = Number(message.numSegments);
    return { sid: message.sid, status: message.status, segments: Number.isFinite(billed) && billed > 0 ? billed : count.segments, to: message.to ?? req.to };
  },
});
