// ElevenLabs: `ElevenLabs-Signature: t=<unix s>,v0=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`
// (elevenlabs-docs fern/snippets/webhook-hmac-authentication.mdx; @elevenlabs/elevenlabs-js
// src/wrapper/webhooks.ts `constructEvent`, elevenlabs-python webhooks_custom.py `construct_event`).
// As the SDKs: the first `t=` and the first `v0=` part are read, other parts ignored, and a
// timestamp more than 30 minutes old is refused. The SDKs compare with `!==` and accept any
// future timestamp; ours compares in constant time and also refuses a timestamp more than
// 5 minutes ahead (docs/platforms.md), which the SDKs do not.
// Several secrets are tried for rotation on our side; ElevenLabs itself documents no rotation
// (a new webhook gets a new secret) nor several `v0=` parts (UNCONFIRMED): only the first is checked.
import { createHmac } from 'node:crypto';
import { fromHex, hmacMatches, type SignatureScheme } from './signature-scheme.js';

const HEADER = 'elevenlabs-signature';
const PAST_TOLERANCE_MS = 30 * 60 * 1000;
const FUTURE_TOLERANCE_MS = 5 * 60 * 1000;

function signedData(raw: Buffer | string, stamp: string): Buffer {
  return Buffer.concat([Buffer.from(`${stamp}.`), Buffer.from(raw)]);
}

export const elevenlabsSignature: SignatureScheme = {
  platform: 'elevenlabs',
  env: 'ELEVENLABS_WEBHOOK_SECRETS',
  headers: [HEADER],
  verify({ raw, header, secrets, now }) {
    const value = header(HEADER);
    if (!value) return { ok: false, reason: 'missing' };
    const parts = value.split(',').map((p) => p.trim());
    const stamp = parts.find((p) => p.startsWith('t='))?.slice(2);
    const digest = parts.find((p) => p.startsWith('v0='))?.slice(3);
    if (!stamp || !/^\d{1,12}$/.test(stamp) || !digest || !/^[0-9a-f]{64}$/i.test(digest)) return { ok: false, reason: 'malformed' };
    const at = Number(stamp) * 1000;
    if (at < now - PAST_TOLERANCE_MS || at > now + FUTURE_TOLERANCE_MS) return { ok: false, reason: 'stale' };
    return hmacMatches('sha256', secrets, signedData(raw, stamp), fromHex(digest)!) ? { ok: true } : { ok: false, reason: 'mismatch' };
  },
  sign(raw, secret, now) {
    const stamp = String(Math.floor(now / 1000));
    const digest = createHmac('sha256', secret).update(signedData(raw, stamp)).digest('hex');
    return { [HEADER]: `t=${stamp},v0=${digest}` };
  },
};
