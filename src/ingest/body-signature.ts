// Optional body signature: `sha256=<hex HMAC-SHA256(secret, raw body)>` (Famulor's format).
// Returns false rather than throwing; accepts several secrets for rotation; constant time.
import { createHmac, timingSafeEqual } from 'node:crypto';

export function signBody(secret: string, body: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export function verifyBodySignature(body: Buffer, header: string | undefined, secrets: readonly string[]): boolean {
  if (!header) return false;
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header.trim());
  if (!match) return false;
  const given = Buffer.from(match[1]!.toLowerCase(), 'hex');
  let ok = false;
  for (const secret of secrets) {
    const expected = createHmac('sha256', secret).update(body).digest();
    if (timingSafeEqual(given, expected)) ok = true;
  }
  return ok;
}
