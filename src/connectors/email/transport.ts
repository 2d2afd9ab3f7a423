// Email through nodemailer over SMTP (SMTP_URL): configuration, a transport per step that
// notices when the message data has gone out, and what SMTP's answers mean.
import { z } from 'zod';
import type { Transporter } from 'nodemailer';
import { PermanentError, TransientError } from '../connector.js';
import { classifyFailure, clip, DeadlineError, envConfig, networkCode } from '../vendor.js';

export const emailEnv = envConfig(
  'Email',
  z.object({
    SMTP_URL: z
      .string()
      .regex(/^smtps?:\/\/[^/]/i, 'must be an smtp:// or smtps:// URL')
      .describe(
        'SMTP server: smtps://user:pass@smtp.example.com:465 (TLS) or smtp://user:pass@smtp.example.com:587 (STARTTLS). Query options are nodemailer options, e.g. ?ignoreTLS=true for a local test server.',
      ),
    EMAIL_FROM: z.string().optional().describe('Default sender when a step names none, e.g. "Acme Support <support@acme.example>".'),
  }).describe('A step without its own from needs EMAIL_FROM.'),
);

export interface SmtpSession {
  transport: Transporter;
  /** True once the whole message has been written to the server (only its answer is missing). */
  transmitted(): boolean;
}

export async function smtpSession(smtpUrl: string, timeoutMs: number): Promise<SmtpSession> {
  const { default: nodemailer } = await import('nodemailer');
  let transmitted = false;
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
    // nodemailer logs the end of the message data as tnx "message" (with the byte counts):
    // from then on a failure leaves it unknown whether the server took the message.
    logger: {
      info(entry: { tnx?: string; outByteCount?: number }) {
        if (entry?.tnx === 'message' && typeof entry.outByteCount === 'number') transmitted = true;
      },
    },
  });
  return { transport, transmitted: () => transmitted };
}

interface SmtpError {
  code?: string;
  command?: string;
  response?: string;
  responseCode?: number;
  message?: string;
}

/**
 * SMTP 4xx replies are transient, 5xx permanent (nodemailer: EENVELOPE / EMESSAGE with
 * responseCode). A failure after the message data went out is reported, not retried: the
 * server may have accepted it.
 */
export function classifySmtpError(action: string, error: unknown, transmitted: boolean): TransientError | PermanentError {
  const e = (error ?? {}) as SmtpError;
  if (typeof e.responseCode === 'number') {
    const said = e.response ?? e.message ?? '';
    if (e.responseCode >= 400 && e.responseCode < 500) return new TransientError(`${action}: the server answered ${clip(said)}`);
    return new PermanentError(`${action}: the server answered ${clip(said)}`);
  }
  const lost = error instanceof DeadlineError || networkCode(error) || ['ETIMEDOUT', 'ESOCKET', 'ECONNECTION', 'EDNS', 'EPROXY'].includes(e.code ?? '');
  if (lost && transmitted) {
    return new PermanentError(
      `${action}: ${e.message ?? 'no answer'} after the message was sent, so it may have been delivered; ` +
        'check the mailbox (its Message-ID is stable), then retry the run to send it (again)',
    );
  }
  if (lost) return classifyFailure(action, { network: e.code ?? networkCode(error) ?? 'no answer', detail: e.message });
  if (e.code === 'EAUTH') return new PermanentError(`${action}: the server refused the login: ${clip(e.response ?? e.message ?? '')}`);
  return new PermanentError(`${action} failed${e.code ? ` (${e.code})` : ''}: ${clip(e.message ?? String(error))}`);
}
