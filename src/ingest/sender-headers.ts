// The request headers kept with a delivery's receipt, for the Runs page's "who sent this":
// bounded in count and size (an unauthenticated client chooses them), credentials and
// signatures kept only as present, and contacts in values masked like every other text.
import type { IncomingHttpHeaders } from 'node:http';
import { maskText } from '../masking.js';
import type { SenderHeaders } from '../store/store.js';

const MAX_HEADERS = 32;
const MAX_NAME_CHARS = 64;
const MAX_VALUE_CHARS = 256;
/** Never kept: a browser's session, not the sender's. */
const DROPPED = new Set(['cookie']);
/** Kept as present only: credentials, tokens and the platforms' signature headers. */
const SECRET_NAME = /auth|token|secret|signature|api-?key|password|credential/i;
export const REDACTED = '[redacted]';

export function senderHeaders(headers: IncomingHttpHeaders): SenderHeaders {
  const kept: SenderHeaders = {};
  let count = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (count >= MAX_HEADERS) break;
    if (value === undefined || DROPPED.has(name) || name.length > MAX_NAME_CHARS) continue;
    const text = (Array.isArray(value) ? value.join(', ') : value).slice(0, MAX_VALUE_CHARS);
    kept[name] = SECRET_NAME.test(name) ? REDACTED : looksLikeContact(text) ? maskText(text) : text;
    count += 1;
  }
  return kept;
}

/** Masking scans for phones: only values that could hold one (seven digits) or an email pay for it. */
function looksLikeContact(text: string): boolean {
  return text.includes('@') || /(?:\d\D?){7}/.test(text);
}
