// `platform.sms.send`: the follow-up SMS through the calling platform's own numbers ("Send SMS to
// Customer"). The sender is named by its E.164 number; the platform's id of it is looked up
// (phone-numbers.ts). Not safe to repeat: the platform cannot deduplicate sends, so a send that
// got no answer is reported for an operator instead of retried.
import { z } from 'zod';
import { PermanentError } from '../../connector.js';
import { optional } from '../../step-input.js';
import { SMS_BODY_LIMIT } from '../config.js';
import { idOf, phoneNumber, platformRecord, platformStep, SENDS, smsBodyLimit, textOf, timeLeft, unwrap } from '../connector.js';

const KIND = 'platform.sms.send';

const input = z.strictObject({
  to: phoneNumber.describe('Recipient in E.164, e.g. "{{ call.customer_phone }}".'),
  body: z
    .string()
    .min(1)
    .max(SMS_BODY_LIMIT.v1)
    .describe(`Message text: at most ${SMS_BODY_LIMIT.classic} characters on the classic API, ${SMS_BODY_LIMIT.v1} on Famulor 2.0 (checked by \`aftercall check\` when the text is fixed, at run time when it is templated).`),
  from: optional(phoneNumber).describe(
    'Sender: one of your SMS-capable platform numbers in E.164; default PLATFORM_SMS_FROM. aftercall finds its id in the account.',
  ),
});

export const smsSend = platformStep({
  kind: KIND,
  description: 'Send an SMS from one of your platform phone numbers. Output: { id, status, to, from, segments }.',
  input,
  ...SENDS,
  output: platformRecord('id', 'the sent SMS', 'Its status as the platform reports it, e.g. sent.').extend({
    to: z.string().describe('Recipient.'),
    from: z.string().describe('Sender number (E.164).'),
    segments: z.number().nullable().describe('Segments billed, when the platform says.'),
  }),
  needs(config, step) {
    if (!step.from && !config.PLATFORM_SMS_FROM) return 'a sender: from in the step, or PLATFORM_SMS_FROM';
    const limit = smsBodyLimit(config);
    // A fixed text over the limit can be refused now (past every platform's limit the input
    // schema refuses it already); a templated one is checked when rendered.
    if (typeof step.body === 'string' && !step.body.includes('{{') && step.body.length > limit && step.body.length <= SMS_BODY_LIMIT.v1) {
      return `a body of at most ${limit} characters (the platform's SMS limit), not ${step.body.length}`;
    }
    return null;
  },
  async execute(req, ctx, platform) {
    const { client, config } = platform;
    const limit = smsBodyLimit(config);
    if (req.body.length > limit) {
      throw new PermanentError(`${KIND}: with.body has ${req.body.length} characters; ${client.title} takes at most ${limit} per SMS`);
    }
    const from = req.from ?? config.PLATFORM_SMS_FROM;
    if (!from) throw new PermanentError(`${KIND}: no sender: set from in the step or PLATFORM_SMS_FROM`);
    const started = Date.now();
    const sender = await platform.phoneNumbers.smsSender(ctx, from);
    // Classic: POST /api/user/sms {from: <numeric id>, to, body}; 2.0: POST /api/v1/sms/send {from_number_id, to, body}.
    const answer = await client.request(timeLeft(ctx, started), 'send SMS', {
      method: 'POST',
      sends: true,
      ...(client.api === 'classic'
        ? { path: '/user/sms', body: { from: Number(sender.id), to: req.to, body: req.body } }
        : { path: '/sms/send', body: { from_number_id: sender.id, to: req.to, body: req.body } }),
    });
    const data = unwrap(answer);
    return {
      id: idOf(data.id ?? data.sms_id),
      status: textOf(data.status),
      to: textOf(data.to) ?? req.to,
      from,
      segments: typeof data.segments === 'number' ? data.segments : null,
    };
  },
});
