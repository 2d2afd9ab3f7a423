import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, maskUrl } from '../src/logger.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger('debug', stream), lines };
}

describe('logs never carry phones, emails or transcripts in clear', () => {
  it('redacts known fields of logged objects', () => {
    const { logger, lines } = capture();
    logger.info(
      {
        call: { customer_phone: '+14155550100', transcript: 'AI: hello' },
        payload: { customer_phone: '+14155550100', email: 'jane@example.com', formatted_transcript: 'secret words' },
        step: { to: '+14155550100', from: '+14155550101' },
      },
      'hello',
    );
    const line = lines.join('');
    expect(line).not.toContain('4155550100');
    expect(line).not.toContain('jane@example.com');
    expect(line).not.toContain('secret words');
    expect(line).not.toContain('AI: hello');
    expect(line).toContain('[redacted]');
  });

  it('masks every line whoever wrote it: nested fields, key names, the message, errors', () => {
    const { logger, lines } = capture();
    logger.child({ run_id: 1 }).info(
      { step_fields: { contact: { callback: '0151 2345 6789', who: { email: 'jane@example.com' } }, 'john@example.org': 1 } },
      'sms to %s failed', '+49 151 2345 6789',
    );
    logger.warn(new Error('vendor echoed: Jane Doe, +1 415 555 0142'));
    const text = lines.join('');
    for (const secret of ['2345 6789', 'jane@example.com', 'john@example.org', '415 555 0142']) expect(text).not.toContain(secret);
    expect(text).toContain('•••• •••• ••89');
    expect(JSON.parse(lines[1]!)).toMatchObject({ msg: 'vendor echoed: Jane Doe, +1 ••• ••• ••42', err: { type: 'Error' } });
  });

  it('keeps webhook tokens out of logged URLs', () => {
    expect(maskUrl('/webhooks/post-call/abcdefghijklmnop?x=1')).toBe('/webhooks/post-call/[token]?x=1');
    expect(maskUrl('/webhooks/post-call?token=abcdefghijklmnop&x=1')).toBe('/webhooks/post-call?token=[token]&x=1');
    expect(maskUrl('/webhooks/post-call?tok%65n=abcdefghijklmnop&token=x&token=abcdefghijklmnop')).toBe('/webhooks/post-call?tok%65n=[token]&token=[token]&token=[token]');
    expect(maskUrl('/WEBHOOKS/Post-Call/abcdefghijklmnop/')).toBe('/WEBHOOKS/Post-Call/[token]/');
    expect(maskUrl('http://127.0.0.1:3000/webhooks/post-call/abcdefghijklmnop')).toBe('http://127.0.0.1:3000/webhooks/post-call/[token]');
  });
});
