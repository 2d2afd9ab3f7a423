// A real SMTP server (smtp-server) on 127.0.0.1 that parses what it receives (mailparser).
// Both are development dependencies: `aftercall sandbox` loads this file only when they are
// installed.
// `script` sets how the next transactions are answered: a rejected recipient (450 / 550), a
// refused message (451), or a reply held back past the client's timeout.
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo, Socket } from 'node:net';

export type SmtpBehaviour = 'accept' | { rcpt: number } | { data: number } | { holdDataMs: number };

export interface SmtpStub {
  url: string;
  port: number;
  messages: ParsedMail[];
  /** Envelope recipients of every accepted message. */
  envelopes: string[][];
  script(...next: SmtpBehaviour[]): void;
  /** Transactions begun so far (MAIL FROM). */
  transactions(): number;
  /** TCP connections accepted so far (a pooled client reuses its). */
  connections(): number;
  /** TCP connections open now. */
  openConnections(): number;
  close(): Promise<void>;
}

const smtpError = (code: number, text: string) => Object.assign(new Error(text), { responseCode: code });

export interface SmtpStubOptions {
  /** Port to listen on; 0 (default): any free one. */
  port?: number;
  /** Keep only the newest this many messages (a long-running sandbox); unset: all. */
  keep?: number;
  /** Told of every accepted message with its envelope recipients. */
  onMessage?(message: ParsedMail, recipients: string[]): void;
}

export async function startSmtpStub(options: SmtpStubOptions = {}): Promise<SmtpStub> {
  const messages: ParsedMail[] = [];
  const envelopes: string[][] = [];
  const plan: SmtpBehaviour[] = [];
  let current: SmtpBehaviour = 'accept';
  let begun = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 200,
    onMailFrom(_address, _session, callback) {
      begun++;
      current = plan.shift() ?? 'accept';
      callback();
    },
    onRcptTo(_address, _session, callback) {
      if (typeof current === 'object' && 'rcpt' in current) {
        return callback(smtpError(current.rcpt, current.rcpt >= 500 ? 'No such user here' : 'Mailbox busy, try again later'));
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const behaviour = current;
        if (typeof behaviour === 'object' && 'data' in behaviour) return callback(smtpError(behaviour.data, 'Temporary local problem, try later'));
        const finish = () => {
          simpleParser(Buffer.concat(chunks)).then(
            (parsed) => {
              const recipients = session.envelope.rcptTo.map((r) => r.address);
              messages.push(parsed);
              envelopes.push(recipients);
              if (options.keep !== undefined && messages.length > options.keep) {
                messages.splice(0, messages.length - options.keep);
                envelopes.splice(0, envelopes.length - options.keep);
              }
              callback();
              options.onMessage?.(parsed, recipients);
            },
            (error: Error) => callback(error),
          );
        };
        if (typeof behaviour === 'object' && 'holdDataMs' in behaviour) setTimeout(finish, behaviour.holdDataMs).unref();
        else finish();
      });
    },
  });
  let accepted = 0;
  let open = 0;
  server.server.on('connection', (socket: Socket) => {
    accepted++;
    open++;
    socket.once('close', () => open--);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  // A client's broken connection is reported here; it ends that session, never the server.
  server.on('error', () => undefined);
  const { port } = server.server.address() as AddressInfo;
  return {
    transactions: () => begun,
    connections: () => accepted,
    openConnections: () => open,
    url: `smtp://127.0.0.1:${port}?ignoreTLS=true`,
    port,
    messages,
    envelopes,
    script: (...next) => plan.push(...next),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
