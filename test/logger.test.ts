import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, maskText, maskUrl } from '../src/logger.js';

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

  it('masks phones and emails inside free text, not addresses or dates', () => {
    expect(maskText('sms to +49 151 2345 6789 failed for jane.doe@example.co.uk')).toBe('sms to [phone] failed for [email]');
    expect(maskText('POST 127.0.0.1:3000 answered 500 at 2025-01-15T10:30:00Z')).toBe('POST 127.0.0.1:3000 answered 500 at 2025-01-15T10:30:00Z');
    expect(maskText('lead 4915123456789')).toBe('lead [phone]');
  });

  it('keeps webhook tokens out of logged URLs', () => {
    expect(maskUrl('/webhooks/post-call/abcdefghijklmnop?x=1')).toBe('/webhooks/post-call/[token]?x=1');
    expect(maskUrl('/webhooks/post-call?token=abcdefghijklmnop&x=1')).toBe('/webhooks/post-call?token=[token]&x=1');
    expect(maskUrl('/WEBHOOKS/Post-Call/abcdefghijklmnop/')).toBe('/WEBHOOKS/Post-Call/[token]/');
    expect(maskUrl('http://127.0.0.1:3000/webhooks/post-call/abcdefghijklmnop')).toBe('http://127.0.0.1:3000/webhooks/post-call/[token]');
  });
});
