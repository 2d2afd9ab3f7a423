// Synthflow: base64 HMAC-SHA256(workspace secret, call_id) — "Synthflow uses the call_id as the
// payload" (docs.synthflow.ai/webhooks-security, docs.synthflow.ai/docs/webhook-security; the
// docs' Python check recomputed in test/fixtures/platforms/synthflow/README.md).
//
// Only the call id is signed: the BODY IS NOT COVERED, and there is no timestamp, so no tolerance
// and no replay protection — a captured delivery can be altered and replayed with its signature.
// Require the path token for this route as well. The call id has to be read from the body, so
// the raw body is parsed here; a body that does not parse or has no `call.call_id` is malformed.
//
// The header is documented as `HTTP_SYNTHFLOW_SIGNATURE`, the CGI/Django META spelling; the wire
// spelling is most likely `Synthflow-Signature` but UNCONFIRMED, so both are read (Node keeps
// underscores in header names; nginx drops such headers unless `underscores_in_headers on`).
// The inbound (pre-call) request carries no call id: what is signed there is UNCONFIRMED.
import { createHmac } from 'node:crypto';
import { hmacMatches, type SignatureScheme } from './signature-scheme.js';

const HEADERS = ['synthflow-signature', 'http_synthflow_signature'] as const;
/** 32 bytes in standard base64 with its padding: the only length an HMAC-SHA256 digest has. */
const DIGEST = /^[A-Za-z0-9+/]{43}=$/;

/** The signed string: `call.call_id` of the body, or null when the body does not give one. */
function callIdOf(raw: Buffer | string): string | null {
  let body: unknown;
  try {
    body = JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : raw);
  } catch {
    return null;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return null;
  const call = (body as Record<string, unknown>).call;
  if (!call || typeof call !== 'object' || Array.isArray(call)) return null;
  const id = (call as Record<string, unknown>).call_id;
  return typeof id === 'string' && id !== '' ? id : null;
}

export const synthflowSignature: SignatureScheme = {
  platform: 'synthflow',
  env: 'SYNTHFLOW_WEBHOOK_SECRETS',
  headers: HEADERS,
  verify({ raw, header, secrets }) {
    let value: string | undefined;
    for (const name of HEADERS) value ??= header(name) || undefined;
    if (!value) return { ok: false, reason: 'missing' };
    const digest = value.trim();
    if (!DIGEST.test(digest)) return { ok: false, reason: 'malformed' };
    const callId = callIdOf(raw);
    if (callId === null) return { ok: false, reason: 'malformed' };
    return hmacMatches('sha256', secrets, callId, Buffer.from(digest, 'base64')) ? { ok: true } : { ok: false, reason: 'mismatch' };
  },
  sign(raw, secret) {
    const callId = callIdOf(raw);
    if (callId === null) throw new Error('a Synthflow signature needs a body with call.call_id');
    // The likely wire spelling; verify reads the documented META spelling too.
    return { [HEADERS[0]]: createHmac('sha256', secret).update(callId).digest('base64') };
  },
};
