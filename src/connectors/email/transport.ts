// Email through nodemailer over SMTP (SMTP_URL): configuration, a pooled connection kept across
// steps that notices when a step's message data has gone out, and what SMTP's answers mean.
import { z } from 'zod';
import type { Transporter } from 'nodemailer';
import { classifyFailure, clip, networkCode } from '../classify-failure.js';
import type { Pooled } from '../client-pool.js';
import { envConfig, type ConnectorConfigOf } from '../connector-config.js';
import { connectorStep, PermanentError, TransientError, type ConnectorInstance, type StepContext } from '../connector.js';
import { DeadlineError } from '../deadline.js';
import { withEvidence, type VendorExchange } from '../evidence.js';
import { lazyImport } from '../load-sdk.js';
import { pooledSends } from '../pooled-send.js';

export const emailEnv = envConfig(
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

/** nodemailer, imported on first use. */
const loadNodemailer = lazyImport(() => import('nodemailer'));

/**
 * A pooled SMTP transport of one connection, lent to one step at a time, so a later email
 * reuses the connection (greeting, TLS, login done) instead of opening one per message.
 */
interface PooledSmtp extends Pooled {
  transport: Transporter;
  /** True once this step's whole message has been written to the server (only its answer is missing). */
  transmitted: boolean;
}

export type EmailConfig = ConnectorConfigOf<typeof emailEnv.schema>;

/** An idle kept SMTP connection is closed (QUIT) after this; servers wait at least 5 minutes (RFC 5321). */
export const SMTP_IDLE_MS = 15_000;

export interface EmailConnector extends ConnectorInstance {
  config: EmailConfig;
  /**
   * Runs `send` (one message) with an SMTP transport until the step's deadline. A shutdown stops
   * the step only before sending; once under way the send is not abandoned, so the step records
   * what really happened. The connection is kept for later steps; at the deadline it is closed
   * (the send cut off) and the transport discarded. Failures come back classified: after the
   * message data went out, a lost answer is not retried blindly.
   */
  withTransport<T>(ctx: StepContext, action: string, send: (transport: Transporter) => Promise<T>): Promise<T>;
}

/** Email over one SMTP server: its pooled connections, lent one step at a time. */
export function createEmailConnector(config: EmailConfig): EmailConnector {
  const smtp = pooledSends(loadNodemailer, ({ default: nodemailer }, ctx): PooledSmtp => {
    const pooled = { transmitted: false } as PooledSmtp;
    pooled.transport = nodemailer.createTransport({
      url: config.SMTP_URL,
      pool: true,
      maxConnections: 1,
      // A message whose connection closed is failed, never sent again over another one: the
      // worker decides (a send whose data went out is reported, not retried).
      maxRequeues: 0,
      idleTimeout: SMTP_IDLE_MS,
      connectionTimeout: ctx.timeoutMs,
      greetingTimeout: ctx.timeoutMs,
      socketTimeout: ctx.timeoutMs,
      // nodemailer logs the end of the message data as tnx "message" (with the byte counts):
      // from then on a failure leaves it unknown whether the server took the message.
      logger: {
        info(entry: { tnx?: string; outByteCount?: number }) {
          if (entry?.tnx === 'message' && typeof entry.outByteCount === 'number') pooled.transmitted = true;
        },
      },
    });
    // Also a connection in the middle of a message: the step gave up on it.
    pooled.dispose = () => pooled.transport.close({ force: true });
    return pooled;
  });
  return {
    config,
    withTransport: (ctx, action, send) =>
      // Pooled by the step's timeout too: the transport's timeouts are set when it is made.
      smtp.send(
        ctx,
        String(ctx.timeoutMs),
        (pooled) => {
          pooled.transmitted = false;
          return send(pooled.transport);
        },
        (error, pooled) => withEvidence(classifySmtpError(action, error, pooled?.transmitted ?? false), smtpExchange(config.SMTP_URL, error)),
      ),
    close: smtp.close,
  };
}

/** The step kinds of email. */
export const emailStep = connectorStep<EmailConnector, EmailConfig>();

/** The SMTP command that failed and the server's reply, as a failed step's evidence (the URL's login is masked when stored). */
function smtpExchange(smtpUrl: string, error: unknown): VendorExchange {
  const e = (error ?? {}) as SmtpError;
  return {
    method: `SMTP ${e.command ?? 'send'}`,
    url: smtpUrl,
    ...(typeof e.responseCode === 'number' ? { status: e.responseCode } : {}),
    ...(e.response ? { body: e.response } : {}),
  };
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
    const failure =
      e.responseCode >= 400 && e.responseCode < 500
        ? new TransientError(`${action}: the server answered ${clip(said)}`)
        : new PermanentError(`${action}: the server answered ${clip(said)}`);
    failure.summary = `${action}: the server answered ${e.responseCode}`;
    return failure;
  }
  const lost = error instanceof DeadlineError || networkCode(error) || ['ETIMEDOUT', 'ESOCKET', 'ECONNECTION', 'EDNS', 'EPROXY'].includes(e.code ?? '');
  if (lost && transmitted) {
    return new PermanentError(
      `${action}: ${e.message ?? 'no answer'} after the message was sent, so it may have been delivered; ` +
        'check the mailbox (its Message-ID is stable), then retry the run to send it (again)',
    );
  }
  if (lost) return classifyFailure(action, { network: e.code ?? networkCode(error) ?? 'no answer', detail: e.message });
  if (e.code === 'EAUTH') {
    const failure = new PermanentError(`${action}: the server refused the login: ${clip(e.response ?? e.message ?? '')}`);
    failure.summary = `${action}: the server refused the login`;
    return failure;
  }
  return new PermanentError(`${action} failed${e.code ? ` (${e.code})` : ''}: ${clip(e.message ?? String(error))}`);
}
