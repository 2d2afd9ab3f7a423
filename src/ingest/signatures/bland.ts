// Bland AI: `X-Webhook-Signature: <hex HMAC-SHA256(signing secret, body)>`, no prefix and no
// timestamp, so no tolerance and no replay protection here (dedupe and the path token only).
// The secret is the account's one signing secret (Dev Portal > Account Settings > Keys);
// docs.bland.ai/tutorials/webhook-signing, test/fixtures/platforms/bland/README.md.
// The docs' snippet signs `JSON.stringify(req.body)` and compares with `===`; what Bland signs
// on the wire is presumably the raw bytes it sends (UNCONFIRMED), and re-serialising would
// accept bodies Bland never sent: the raw body is verified, in constant time.
import { createHmac } from 'node:crypto';
import { fromHex, hmacMatches, type SignatureScheme } from './signature-scheme.js';

const HEADER = 'x-webhook-signature';

export const blandSignature: SignatureScheme = {
  platform: 'bland',
  env: 'BLAND_WEBHOOK_SECRETS',
  headers: [HEADER],
  verify({ raw, header, secrets }) {
    const value = header(HEADER);
    if (!value) return { ok: false, reason: 'missing' };
    const trimmed = value.trim();
    // SHA-256 hex is 64 digits; anything else (a prefix, base64) is not Bland's format.
    if (!/^[0-9a-f]{64}$/i.test(trimmed)) return { ok: false, reason: 'malformed' };
    // Replacing the secret invalidates the old one at once (no overlap documented); every
    // configured secret is still tried, for the operator's own switch-over.
    return hmacMatches('sha256', secrets, raw, fromHex(trimmed)!) ? { ok: true } : { ok: false, reason: 'mismatch' };
  },
  sign(raw, secret) {
    return { [HEADER]: createHmac('sha256', secret).update(Buffer.from(raw)).digest('hex') };
  },
};
