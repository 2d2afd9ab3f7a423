// Vapi has no fixed signature: the Server URL carries a credential the user chooses
// (docs.vapi.ai/server-url/server-authentication, VapiAI/docs @eabfa53; @vapi-ai/server-sdk
// HmacAuthenticationPlan.ts, BearerAuthenticationPlan.ts; test/fixtures/platforms/vapi/README.md):
//
// - HMAC (`HmacAuthenticationPlan`): HMAC(secretKey, payloadFormat) in `signatureHeader`
//   (default `x-signature`), `payloadFormat` default `{timestamp}.{body}` with the timestamp in
//   `timestampHeader` (default `x-timestamp`), sha256/sha512/sha1, hex (default) or base64, an
//   optional `signaturePrefix`. `vapiSignature` is this default; `vapiSignatureFor` the others.
// - Legacy `X-Vapi-Secret` (a bearer credential, header X-Vapi-Secret, no prefix): the shared
//   secret as is, no signature. The default scheme accepts it **when no HMAC header is present**,
//   compared in constant time against every secret, so an account still on the legacy secret
//   works without configuration; an HMAC header, when present, is always the one checked.
// - Bearer (`Authorization: Bearer <token>`): no scheme — aftercall's webhook token already rides
//   in that header, so the credential's token is configured as aftercall's webhook token.
//
// UNCONFIRMED: the timestamp's unit (read as ms or s by magnitude) and any tolerance Vapi
// expects; the receiver chooses 5 minutes either way. The SDK has no verifier to copy.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { fromHex, hmacMatches, type SignatureCheck, type SignatureInput, type SignatureScheme } from './signature-scheme.js';

export const VAPI_LEGACY_SECRET_HEADER = 'x-vapi-secret';
const DIGEST_BYTES = { sha256: 32, sha512: 64, sha1: 20 } as const;

/** The fields of Vapi's HmacAuthenticationPlan aftercall follows (VAPI_HMAC_PLAN), by Vapi's names. */
export const vapiHmacPlanSchema = z.strictObject({
  algorithm: z.enum(['sha256', 'sha512', 'sha1']).optional(),
  signatureHeader: z.string().min(1).max(100).optional(),
  timestampHeader: z.string().min(1).max(100).optional(),
  signaturePrefix: z.string().max(100).optional(),
  includeTimestamp: z.boolean().optional(),
  payloadFormat: z
    .string()
    .max(200)
    .refine((f) => !/\{(method|url|svix-id)\}/.test(f), 'only the {body} and {timestamp} placeholders are supported')
    .optional(),
  signatureEncoding: z.enum(['hex', 'base64']).optional(),
});

export interface VapiSignatureOptions {
  /** `hmac` (default) or `x-vapi-secret` (the legacy shared secret only). */
  auth?: 'hmac' | 'x-vapi-secret';
  algorithm?: 'sha256' | 'sha512' | 'sha1';
  signatureHeader?: string;
  timestampHeader?: string;
  /** e.g. `sha256=`; the header must start with it. */
  signaturePrefix?: string;
  includeTimestamp?: boolean;
  /** Placeholders `{body}` and `{timestamp}`; `{method}`, `{url}` and `{svix-id}` are not supported. */
  payloadFormat?: string;
  signatureEncoding?: 'hex' | 'base64';
  /** Accept `X-Vapi-Secret` when the HMAC header is absent (default true). */
  acceptLegacySecret?: boolean;
  toleranceMs?: number;
}

/** Constant time, every secret tried: SHA-256 of both sides gives timingSafeEqual equal lengths. */
function secretMatches(secrets: readonly string[], given: string): boolean {
  const digest = createHash('sha256').update(given).digest();
  let ok = false;
  for (const secret of secrets) {
    if (timingSafeEqual(createHash('sha256').update(secret).digest(), digest)) ok = true;
  }
  return ok;
}

function decode(value: string, encoding: 'hex' | 'base64'): Buffer | null {
  if (encoding === 'hex') return fromHex(value);
  return /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value) && value.length > 0 ? Buffer.from(value, 'base64') : null;
}

export function vapiSignatureFor(options: VapiSignatureOptions = {}): SignatureScheme {
  const auth = options.auth ?? 'hmac';
  const algorithm = options.algorithm ?? 'sha256';
  const signatureHeader = (options.signatureHeader ?? 'x-signature').toLowerCase();
  const timestampHeader = (options.timestampHeader ?? 'x-timestamp').toLowerCase();
  const prefix = options.signaturePrefix ?? '';
  const includeTimestamp = options.includeTimestamp ?? true;
  const format = options.payloadFormat ?? (includeTimestamp ? '{timestamp}.{body}' : '{body}');
  const encoding = options.signatureEncoding ?? 'hex';
  const acceptLegacy = auth === 'x-vapi-secret' || (options.acceptLegacySecret ?? true);
  const toleranceMs = options.toleranceMs ?? 5 * 60 * 1000;
  const unsupported = /\{(method|url|svix-id)\}/.exec(format);
  if (unsupported) throw new Error(`Vapi payloadFormat placeholder {${unsupported[1]}} is not supported`);
  if (format.includes('{timestamp}') && !includeTimestamp) throw new Error('Vapi payloadFormat uses {timestamp} but includeTimestamp is false');

  function signed(raw: Buffer, stamp: string): Buffer {
    const parts = format.replaceAll('{timestamp}', stamp).split('{body}');
    return Buffer.concat(parts.flatMap((part, i) => (i === 0 ? [Buffer.from(part)] : [raw, Buffer.from(part)])));
  }

  function verifyLegacy(value: string | undefined, secrets: readonly string[]): SignatureCheck {
    if (!value) return { ok: false, reason: 'missing' };
    return secretMatches(secrets, value) ? { ok: true } : { ok: false, reason: 'mismatch' };
  }

  function verify({ raw, header, secrets, now }: SignatureInput): SignatureCheck {
    if (auth === 'x-vapi-secret') return verifyLegacy(header(VAPI_LEGACY_SECRET_HEADER), secrets);
    const value = header(signatureHeader)?.trim();
    if (!value) return acceptLegacy && header(VAPI_LEGACY_SECRET_HEADER) ? verifyLegacy(header(VAPI_LEGACY_SECRET_HEADER), secrets) : { ok: false, reason: 'missing' };
    if (!value.startsWith(prefix)) return { ok: false, reason: 'malformed' };
    const given = decode(value.slice(prefix.length), encoding);
    if (!given || given.length !== DIGEST_BYTES[algorithm]) return { ok: false, reason: 'malformed' };
    let stamp = '';
    if (includeTimestamp) {
      stamp = header(timestampHeader)?.trim() ?? '';
      if (!stamp) return { ok: false, reason: 'missing' };
      if (!/^\d{1,16}$/.test(stamp)) return { ok: false, reason: 'malformed' };
      const n = Number(stamp);
      const ms = n >= 1e11 ? n : n * 1000;
      if (Math.abs(now - ms) > toleranceMs) return { ok: false, reason: 'stale' };
    }
    return hmacMatches(algorithm, secrets, signed(raw, stamp), given) ? { ok: true } : { ok: false, reason: 'mismatch' };
  }

  return {
    platform: 'vapi',
    env: 'VAPI_WEBHOOK_SECRETS',
    headers: auth === 'x-vapi-secret' ? [VAPI_LEGACY_SECRET_HEADER] : [signatureHeader, ...(includeTimestamp ? [timestampHeader] : []), ...(acceptLegacy ? [VAPI_LEGACY_SECRET_HEADER] : [])],
    verify,
    sign(raw, secret, now) {
      if (auth === 'x-vapi-secret') return { [VAPI_LEGACY_SECRET_HEADER]: secret };
      const stamp = String(now);
      const digest = createHmac(algorithm, secret).update(signed(Buffer.from(raw), stamp)).digest(encoding);
      return { [signatureHeader]: `${prefix}${digest}`, ...(includeTimestamp ? { [timestampHeader]: stamp } : {}) };
    },
  };
}

/** The HMAC default: `x-signature` = hex HMAC-SHA256 of `{timestamp}.{body}`, `x-timestamp`; X-Vapi-Secret accepted when absent. */
export const vapiSignature: SignatureScheme = vapiSignatureFor();
