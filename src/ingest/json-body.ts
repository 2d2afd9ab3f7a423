// What a webhook body must be before it is parsed (JSON in UTF-8, within the size limit), for the post-call and inbound-call cores alike.
import type { DeliveryRequest } from './delivery-contract.js';

export class BodyTooLargeError extends Error {}

const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json$/i;

/** application/json or application/*+json, in UTF-8 (the only charset JSON has, RFC 8259). */
export function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const [media = '', ...params] = value.split(';').map((p) => p.trim());
  if (!JSON_MEDIA_TYPE.test(media)) return false;
  const charset = params.find((p) => /^charset\s*=/i.test(p));
  return !charset || /^charset\s*=\s*"?utf-?8"?$/i.test(charset);
}

/** Why a body was refused before it was parsed: the outcome both cores count, the code and its details. */
export type BodyRefusal =
  | { ok: false; outcome: 'unsupported_media_type'; code: 'UNSUPPORTED_MEDIA_TYPE'; details: { content_type: string | null } }
  | { ok: false; outcome: 'too_large'; code: 'PAYLOAD_TOO_LARGE'; details: { limit_bytes: number } };

/** The raw body once its content type (415) and size, declared and read (413), pass; other read errors are thrown. */
export async function readWebhookBody(
  req: Pick<DeliveryRequest, 'contentType' | 'contentLength' | 'readBody'>,
  limit: number,
): Promise<{ ok: true; raw: Buffer } | BodyRefusal> {
  if (!isJsonContentType(req.contentType)) {
    return { ok: false, outcome: 'unsupported_media_type', code: 'UNSUPPORTED_MEDIA_TYPE', details: { content_type: req.contentType ?? null } };
  }
  const tooLarge = { ok: false, outcome: 'too_large', code: 'PAYLOAD_TOO_LARGE', details: { limit_bytes: limit } } as const;
  if (req.contentLength !== undefined && req.contentLength > limit) return tooLarge;
  try {
    return { ok: true, raw: await req.readBody(limit) };
  } catch (error) {
    if (error instanceof BodyTooLargeError) return tooLarge;
    throw error;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** A body read as JSON, with its text (parsePayload skips work the text shows is not needed). */
export interface JsonBody {
  ok: true;
  value: unknown;
  text: string;
}

/**
 * The body as JSON, or why it is not: `not UTF-8`, or the parser's message. `error` is what
 * was thrown, for a caller that reports its own message (a replay).
 */
export function readJsonBody(raw: Buffer): JsonBody | { ok: false; detail: string; error: Error } {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch (error) {
    return { ok: false, detail: 'the body is not valid UTF-8', error: error as Error };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown, text };
  } catch (error) {
    return { ok: false, detail: (error as Error).message, error: error as Error };
  }
}
