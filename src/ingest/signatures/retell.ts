// Retell: `x-retell-signature: v=<ms>,d=<hex HMAC-SHA256(api key, raw body ‖ ms)>`, the
// timestamp within 5 minutes either way; the key is an API key with the webhook badge
// (retell-sdk src/lib/webhook_auth.ts; docs.retellai.com/features/secure-webhook).
import { createHmac } from 'node:crypto';
import { fromHex, hmacMatches, type SignatureScheme } from './signature-scheme.js';

const HEADER = 'x-retell-signature';
const TOLERANCE_MS = 5 * 60 * 1000;

export const retellSignature: SignatureScheme = {
  platform: 'retell',
  env: 'RETELL_WEBHOOK_SECRETS',
  headers: [HEADER],
  verify({ raw, header, secrets, now }) {
    const value = header(HEADER);
    if (!value) return { ok: false, reason: 'missing' };
    const match = /^v=(\d{1,16}),d=([0-9a-f]{64})$/i.exec(value.trim());
    if (!match) return { ok: false, reason: 'malformed' };
    const stamp = match[1]!;
    if (Math.abs(now - Number(stamp)) > TOLERANCE_MS) return { ok: false, reason: 'stale' };
    const data = Buffer.concat([raw, Buffer.from(stamp)]);
    return hmacMatches('sha256', secrets, data, fromHex(match[2]!)!) ? { ok: true } : { ok: false, reason: 'mismatch' };
  },
  sign(raw, secret, now) {
    const stamp = String(now);
    const digest = createHmac('sha256', secret).update(Buffer.concat([Buffer.from(raw), Buffer.from(stamp)])).digest('hex');
    return { [HEADER]: `v=${stamp},d=${digest}` };
  },
};
