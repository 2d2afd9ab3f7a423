// What a webhook body must be before it is read as JSON: application/json (or *+json) in UTF-8,
// and bytes that decode as UTF-8 and parse. Written for the inbound-call route; the same rules
// as the post-call core's (receive-delivery.ts).
const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json$/i;

/** application/json or application/*+json, in UTF-8 (the only charset JSON has, RFC 8259). */
export function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const [media = '', ...params] = value.split(';').map((p) => p.trim());
  if (!JSON_MEDIA_TYPE.test(media)) return false;
  const charset = params.find((p) => /^charset\s*=/i.test(p));
  return !charset || /^charset\s*=\s*"?utf-?8"?$/i.test(charset);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The body as JSON, or why it is not: `not UTF-8`, or the parser's message. */
export function readJsonBody(raw: Buffer): { ok: true; value: unknown } | { ok: false; detail: string } {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    return { ok: false, detail: 'the body is not valid UTF-8' };
  }
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, detail: (error as Error).message };
  }
}
