import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { maskPhone, maskText, maskUrl, maskValue } from '../src/masking.js';

describe('the masker', () => {
  it('masks phones in international and national formats, keeping the country code and last two digits', () => {
    expect(maskText('sms to +49 151 2345 6789 failed')).toBe('sms to +49 ••• •••• ••89 failed');
    expect(maskText('call 0151 2345 6789 or 0151/23456789 now')).toBe('call •••• •••• ••89 or ••••/••••••89 now');
    expect(maskText('us +1 415 555 0142, (415) 555-0142')).toBe('us +1 ••• ••• ••42, (•••) •••-••42');
    expect(maskText('lead 4915123456789, uk 020 7946 0958')).toBe('lead •••••••••••89, uk ••• •••• ••58');
    expect(maskText('Tel: 0049 151 23456789.')).toBe('Tel: •••• ••• ••••••89.');
    expect(maskText('fr 01.23.45.67.89, de 089.123.456.78')).toBe('fr ••.••.••.••.89, de •••.•••.•••.78');
    // Not a valid number anywhere, but written as one: still masked.
    expect(maskText('to +1234567890')).toBe('to +1•••••••90');
    expect(maskPhone('+14155550142')).toBe('+1••••••••42');
  });

  it('masks emails and keeps dates, addresses, times, short ids and UUIDs readable', () => {
    expect(maskText('failed for jane.doe@example.co.uk, cc a+b@x.de.')).toBe('failed for [email], cc [email].');
    expect(maskText('?x=a&email=jane@example.com')).toBe('?x=a&email=[email]');
    const plain = 'POST 127.0.0.1:3000 answered 500 at 2025-01-15T10:30:00.123Z (15.01.2025 10:30), run 42, call 12345, ' +
      'request 123e4567-e89b-12d3-a456-426614174000, v1.13.16, 2025-01-15 10:30:00, ' +
      'account AC0123456789abcdef0123456789abcdef, message SM4155550142ab';
    expect(maskText(plain)).toBe(plain);
  });

  it('masks structured values at any depth: string leaves, key names, contact keys, redacted keys, errors', () => {
    const error = Object.assign(new Error('vendor said: no contact +4915123456789'), { code: 'E_VENDOR', body: 'Jane Doe said hello' });
    const masked = maskValue({
      step_fields: { contact: { phone: '0151 2345 6789', mail: 'jane@example.com', to: 'someone' }, 'jane@example.com': true },
      deep: { a: { b: { transcript: 'AI: hello Jane', note: 'call me on 0151 2345 6789' } } },
      unknown_keys: ['lead.jane@example.com'],
      err: error,
    });
    const text = JSON.stringify(masked);
    for (const secret of ['2345 6789', '15123456789', 'jane@example.com', 'hello Jane', 'Jane Doe', 'someone']) expect(text).not.toContain(secret);
    expect(masked).toMatchObject({
      step_fields: { contact: { phone: '•••• •••• ••89', mail: '[email]', to: '[redacted]' }, '[email]': true },
      deep: { a: { b: { transcript: '[redacted]', note: 'call me on •••• •••• ••89' } } },
      unknown_keys: ['[email]'],
      err: { type: 'Error', message: 'vendor said: no contact +49•••••••••89', code: 'E_VENDOR', body: '[redacted]' },
    });
    // For operators (Runs page, CLI): what a step sent is shown, masked; credentials never.
    expect(maskValue({ body: { said: 'ring 0151 2345 6789' }, headers: { authorization: 'Bearer abc' } }, { content: 'mask' }))
      .toEqual({ body: { said: 'ring •••• •••• ••89' }, headers: { authorization: '[redacted]' } });
    const cycle: Record<string, unknown> = { name: 'x' };
    cycle.self = cycle;
    expect(maskValue(cycle)).toEqual({ name: 'x', self: '[circular]' });
  });

  it('masks every value of a query parameter whose decoded name is token, and the path token', () => {
    expect(maskUrl('/webhooks/post-call?tok%65n=abcdefghijklmnop&x=1')).toBe('/webhooks/post-call?tok%65n=[token]&x=1');
    expect(maskUrl('/webhooks/post-call?token=x&token=abcdefghijklmnop')).toBe('/webhooks/post-call?token=[token]&token=[token]');
    expect(maskUrl('/webhooks/post-call?%74oken=abcdefghijklmnop')).toBe('/webhooks/post-call?%74oken=[token]');
    expect(maskUrl('/webhooks/post-call/abcdefghijklmnop?x=1')).toBe('/webhooks/post-call/[token]?x=1');
    expect(maskUrl('/WEBHOOKS/Post-Call/abcdefghijklmnop/')).toBe('/WEBHOOKS/Post-Call/[token]/');
    expect(maskUrl('http://127.0.0.1:3000/webhooks/post-call/abcdefghijklmnop')).toBe('http://127.0.0.1:3000/webhooks/post-call/[token]');
    expect(maskUrl('/a?email=jane%40example.com&p=%2B4915123456789&bad=%zz')).toBe('/a?email=[email]&p=+49•••••••••89&bad=%zz');
  });

  // Linear, not quadratic: the old email pattern took 3.2 s on 40k unspaced characters, so it
  // would need about half an hour for each of these 1 MB inputs; this masker needs well under a
  // second each. The bound sits between the two with a wide margin on either side (a busy
  // machine slows the masker by a small factor, not by a hundred), and the worker thread lets
  // the test stop a stuck run at the bound instead of waiting it out.
  it('masks 1 MB of hostile text in one pass: unspaced, digits, separators, @ signs, many number-like spans', async () => {
    const MB = 1024 * 1024;
    const hostile = ['a'.repeat(MB), '1'.repeat(MB), '1 '.repeat(MB / 2), 'a@'.repeat(MB / 2), '12345678x'.repeat(MB / 9), '+1('.repeat(MB / 3), 'x.'.repeat(MB / 2)];
    const inputs = hostile.flatMap((text) => [{ fn: 'maskText', text }, { fn: 'maskValue', text }]);
    inputs.push({ fn: 'maskUrl', text: `/webhooks/post-call?q=${'a'.repeat(MB)}` });
    const worker = new Worker(new URL('./support/mask-thread.mjs', import.meta.url), { workerData: { inputs } });
    const results: Array<{ fn: string; length: number }> = [];
    const finished = await new Promise<boolean>((resolve, reject) => {
      const bound = setTimeout(() => resolve(false), 120_000);
      worker.on('message', (m: { done?: boolean; fn: string; length: number }) => {
        if (!m.done) return void results.push(m);
        clearTimeout(bound);
        resolve(true);
      });
      worker.on('error', reject);
    });
    await worker.terminate();
    expect(finished, `masked ${results.length} of ${inputs.length} inputs within the bound`).toBe(true);
    expect(results).toHaveLength(inputs.length);
  }, 180_000);

  it('masks a digit span too long to be one number whole, and stops looking numbers up in hostile text', () => {
    expect(maskText(`x ${'1 '.repeat(40)}y`)).toBe(`x ${'• '.repeat(40)}y`);
    const many = '0151 2345 6789, '.repeat(300);
    const masked = maskText(many);
    expect(masked).not.toMatch(/\d{3}/);
    expect(masked.length).toBe(many.length);
  });
});
