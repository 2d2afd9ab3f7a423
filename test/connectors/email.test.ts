// email.send with the real nodemailer against a real SMTP server (smtp-server) on 127.0.0.1;
// every received message is parsed (mailparser) and checked: headers, text, escaped HTML,
// the transcript attachment, the stable Message-ID. SMTP replies and timeouts are classified.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { evidenceOf, storedEvidence } from '../../src/connectors/evidence.js';
import { PermanentError, TransientError } from '../../src/connectors/connector.js';
import { closeTestConnectors, inputProblems, KINDS, runStep, stepError } from './support/step-harness.js';
import { startSmtpStub, type SmtpStub } from './support/smtp-stub.js';

let smtp: SmtpStub;
beforeEach(async () => {
  smtp = await startSmtpStub();
  vi.stubEnv('SMTP_URL', smtp.url);
  vi.stubEnv('EMAIL_FROM', 'Clínica Sorriso <agenda@sorriso.example>');
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await closeTestConnectors();
  await smtp.close();
});

const mail = {
  to: ['Recepção <recepcao@sorriso.example>', 'dr.lima@sorriso.example'],
  subject: 'Nova consulta: ${patient}',
  text: 'Paciente: ${patient}\nResumo: ${summary}',
  html: '<p>Paciente: <b>${patient}</b></p><p>${summary}</p>',
  values: { patient: 'Mariana <Costa> & "filhos"', summary: "<script>alert('x')</script>" },
  transcript: 'AI: Olá Mariana\nCustomer: Quarta às 14h30',
};

describe('email.send', () => {
  it('delivers text and HTML (values escaped), the transcript attached, a Message-ID from the step key', async () => {
    const out = await runStep('email.send', mail);
    expect(out).toEqual({
      message_id: '<aftercall-41-step@sorriso.example>',
      accepted: ['recepcao@sorriso.example', 'dr.lima@sorriso.example'],
      rejected: [],
    });
    expect(smtp.messages).toHaveLength(1);
    const [m] = smtp.messages;
    expect(smtp.envelopes[0]).toEqual(['recepcao@sorriso.example', 'dr.lima@sorriso.example']);
    expect(m!.from?.value).toEqual([{ address: 'agenda@sorriso.example', name: 'Clínica Sorriso' }]);
    expect(m!.messageId).toBe('<aftercall-41-step@sorriso.example>');
    expect(m!.subject).toBe('Nova consulta: Mariana <Costa> & "filhos"');
    expect(m!.text?.trim()).toBe('Paciente: Mariana <Costa> & "filhos"\nResumo: <script>alert(\'x\')</script>');
    expect(m!.html).toBe('<p>Paciente: <b>Mariana &lt;Costa&gt; &amp; &quot;filhos&quot;</b></p><p>&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;</p>');
    expect(m!.attachments.map((a) => [a.filename, a.contentType, a.content.toString('utf8')])).toEqual([
      ['transcript.txt', 'text/plain', 'AI: Olá Mariana\nCustomer: Quarta às 14h30'],
    ]);
  });

  it('cc, bcc, reply-to and from of the step; text only', async () => {
    await runStep('email.send', {
      to: 'a@x.example',
      cc: 'b@x.example',
      bcc: ['c@x.example'],
      from: 'Bot <bot@x.example>',
      reply_to: 'desk@x.example',
      subject: 'Hi',
      text: 'plain',
    });
    const [m] = smtp.messages;
    expect(smtp.envelopes[0]).toEqual(['a@x.example', 'b@x.example', 'c@x.example']);
    expect(m!.headers.get('bcc')).toBeUndefined();
    expect(m!.replyTo?.text).toBe('desk@x.example');
    expect(m!.from?.value).toEqual([{ address: 'bot@x.example', name: 'Bot' }]);
    expect(m!.html).toBe(false);
    expect(m!.attachments).toEqual([]);
  });

  it('input checks: addresses, a body, and every ${placeholder} has a value', () => {
    expect(inputProblems('email.send', { to: 'not-an-address', subject: 'x', text: 'y' })).toEqual([
      'to: must be an email address or "Name <address>"',
    ]);
    expect(inputProblems('email.send', { to: 'a@x.example', subject: 'x' })).toEqual(['text: needs text or html']);
    expect(inputProblems('email.send', { to: 'a@x.example', subject: 'x', html: '<p>${name}</p>' })).toEqual(['html: ${name} has no entry in values']);
  });

  it('is never repeated blindly: safeToRepeat false, repeat never', () => {
    expect(KINDS.get('email.send')!.safeToRepeat).toBe(false);
    expect(KINDS.get('email.send')!.defaultRepeat).toBe('never');
  });
});

describe('SMTP errors', () => {
  const simple = { to: 'a@x.example', subject: 'x', text: 'y' };

  it('4xx for the recipient or the message: transient', async () => {
    smtp.script({ rcpt: 450 }, { data: 451 });
    const busy = await stepError('email.send', simple);
    expect(busy).toBeInstanceOf(TransientError);
    expect(busy.message).toBe('Email (send): the server answered 450 Mailbox busy, try again later');
    const later = await stepError('email.send', simple);
    expect(later).toBeInstanceOf(TransientError);
    expect(later.message).toBe('Email (send): the server answered 451 Temporary local problem, try later');
  });

  it('5xx: permanent', async () => {
    smtp.script({ rcpt: 550 });
    const error = await stepError('email.send', simple);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toBe('Email (send): the server answered 550 No such user here');
  });

  it('a refused message keeps its evidence: the SMTP command, the server\'s reply, the URL without its login', async () => {
    smtp.script({ rcpt: 550 });
    const refused = storedEvidence(evidenceOf(await stepError('email.send', simple))!);
    expect(refused).toEqual({ method: 'SMTP RCPT TO', url: smtp.url, status: 550, body: '550 No such user here', truncated: false });
    // With a login in SMTP_URL (the stub refuses it): the stored URL has none.
    vi.stubEnv('SMTP_URL', smtp.url.replace('smtp://', 'smtp://mailer:s3cret-pass@'));
    const login = storedEvidence(evidenceOf(await stepError('email.send', simple))!);
    expect(login).toMatchObject({ method: 'SMTP AUTH PLAIN', url: smtp.url, status: 535 });
    expect(JSON.stringify(login)).not.toMatch(/s3cret|mailer/);
  });

  it('no answer after the message went out: permanent, it may have been delivered', async () => {
    smtp.script({ holdDataMs: 1_000 });
    const started = Date.now();
    const error = await stepError('email.send', simple, { timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/after the message was sent, so it may have been delivered; check the mailbox/);
  });

  it('connection refused (nothing sent): transient', async () => {
    await smtp.close();
    const error = await stepError('email.send', simple, { timeoutMs: 500 });
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toMatch(/^Email \(send\) failed: (ESOCKET|ECONNREFUSED|ECONNECTION)/);
  });

  it('configuration: SMTP_URL named when missing or not an smtp URL; a sender is needed', async () => {
    const step = KINDS.get('email.send')!;
    expect(step.missingConfig!()).toBeNull();
    vi.stubEnv('SMTP_URL', 'http://mail.example.com');
    expect(step.missingConfig!()).toBe('SMTP_URL (must be an smtp:// or smtps:// URL)');
    vi.stubEnv('SMTP_URL', '');
    expect(step.missingConfig!()).toBe('SMTP_URL');
    vi.stubEnv('SMTP_URL', smtp.url);
    vi.stubEnv('EMAIL_FROM', '');
    expect((await stepError('email.send', simple)).message).toBe('Email: no sender: set from in the step, or EMAIL_FROM');
  });
});
