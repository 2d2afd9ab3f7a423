// `email.send`: one email over SMTP. Not safe to repeat (SMTP has no idempotency), so the worker
// records the step before and after, and a send whose outcome is unknown is reported instead of
// retried. The Message-ID is derived from the step's idempotency key, so a resend after an
// operator's retry carries the same id (mail systems that dedupe by Message-ID drop it).
import { z } from 'zod';
import { PermanentError } from '../../connector.js';
import { escapeHtml } from '../../html-text.js';
import { optional } from '../../step-input.js';
import { emailStep } from '../transport.js';

const ADDRESS = /^(?:[^<>@\s][^<>@]*\s*<[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+>|[^<>@\s]+@[^<>@\s]+\.[^<>@\s]+)$/;
const address = z.string().trim().regex(ADDRESS, 'must be an email address or "Name <address>"');
const addresses = z.union([address, z.array(address).min(1)]);
const PLACEHOLDER = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

const input = z
  .strictObject({
    to: addresses.describe('Recipient(s): an address, "Name <address>", or a list.'),
    cc: optional(addresses).describe('Copy recipients.'),
    bcc: optional(addresses).describe('Blind copy recipients.'),
    from: optional(address).describe('Sender; default EMAIL_FROM.'),
    reply_to: optional(address).describe('Reply-To address.'),
    subject: z.string().min(1).max(998).describe('Subject; ${name} placeholders are filled from values.'),
    text: optional(z.string()).describe('Plain-text body; ${name} placeholders are filled from values.'),
    html: optional(z.string()).describe(
      'HTML body. Put call data in as ${name} placeholders filled from values: they are HTML-escaped (a {{ expression }} written straight into html is not).',
    ),
    values: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.union([z.string(), z.number(), z.boolean(), z.null()]))
      .default({})
      .describe('Values for the ${name} placeholders, e.g. { name: "{{ input.customer_name }}" }; null becomes empty.'),
    transcript: optional(z.string()).describe('Attached as a text file when given, e.g. "{{ call.transcript.text }}".'),
    transcript_filename: z.string().regex(/^[\w.-]{1,100}$/, 'letters, digits, ".", "_" and "-"').default('transcript.txt').describe('Name of that attachment.'),
  })
  .refine((v) => Boolean(v.text || v.html), { message: 'needs text or html', path: ['text'] })
  .superRefine((v, ctx) => {
    for (const field of ['subject', 'text', 'html'] as const) {
      for (const m of (v[field] ?? '').matchAll(PLACEHOLDER)) {
        if (!(m[1]! in v.values)) ctx.addIssue({ code: 'custom', path: [field], message: `\${${m[1]}} has no entry in values` });
      }
    }
  });

function fill(template: string, values: Record<string, string | number | boolean | null>, escape: (s: string) => string = (s) => s): string {
  return template.replace(PLACEHOLDER, (_, name: string) => escape(String(values[name] ?? '')));
}

export const emailSend = emailStep({
  kind: 'email.send',
  description: 'Send an email over SMTP (text and/or HTML, optional transcript attachment). Output: { message_id, accepted, rejected }.',
  input,
  defaultRepeat: 'never',
  output: z.object({
    message_id: z.string().describe('The Message-ID header sent.'),
    accepted: z.array(z.string()).describe('Recipients the SMTP server accepted.'),
    rejected: z.array(z.string()).describe('Recipients it rejected.'),
  }),
  safeToRepeat: false,
  // The sender comes from the step (templated or not) or EMAIL_FROM; with neither, every send fails.
  needs: (config, input) => (input.from || config.EMAIL_FROM ? null : 'a sender: from in the step, or EMAIL_FROM'),
  async execute(req, ctx, email) {
    const { config } = email;
    const from = req.from ?? config.EMAIL_FROM;
    if (!from) throw new PermanentError('Email: no sender: set from in the step, or EMAIL_FROM');
    const domain = /@([^>\s]+)>?\s*$/.exec(from)?.[1] ?? 'aftercall.local';
    const messageId = `<${ctx.idempotencyKey.replace(/[^A-Za-z0-9._-]/g, '-')}@${domain}>`;
    // A shutdown stops the step until the message is under way, not after (see withTransport).
    const info = await email.withTransport(ctx, 'Email (send)', (transport) =>
      transport.sendMail({
        from,
        to: req.to,
        ...(req.cc ? { cc: req.cc } : {}),
        ...(req.bcc ? { bcc: req.bcc } : {}),
        ...(req.reply_to ? { replyTo: req.reply_to } : {}),
        subject: fill(req.subject, req.values),
        ...(req.text ? { text: fill(req.text, req.values) } : {}),
        ...(req.html ? { html: fill(req.html, req.values, escapeHtml) } : {}),
        messageId,
        ...(req.transcript
          ? { attachments: [{ filename: req.transcript_filename, content: req.transcript, contentType: 'text/plain; charset=utf-8' }] }
          : {}),
      }),
    );
    const rejected = (info.rejected ?? []).map(String);
    if (rejected.length > 0) ctx.logger.warn({ rejected: rejected.length }, 'the SMTP server refused some recipients');
    return { message_id: info.messageId ?? messageId, accepted: (info.accepted ?? []).map(String), rejected };
  },
});
