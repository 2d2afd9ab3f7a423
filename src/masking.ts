// The one masker for everything an operator reads: log lines, the Runs page, the CLI.
// Phones keep their country code and last two digits (`+49 ••• •••• ••89`), emails become
// `[email]`, credentials under their key names become `[redacted]`, and in logs so do
// transcripts and message bodies (names and words that no pattern can recognise).
//
// Every function here is linear in its input: text is scanned left to right by patterns
// without nested unbounded repetition, and libphonenumber only ever sees short spans, so a
// megabyte of hostile text costs a pass over it, never a backtracking blowup.
import { findPhoneNumbersInText, type CountryCode } from 'libphonenumber-js';

/**
 * National numbers (`0151 2345 6789`) are read as German, the platforms' home market. With
 * `extended` (libphonenumber's POSSIBLE leniency, a length check) the German plan also takes
 * most other countries' national formats (`020 7946 0958`, `(415) 555-0142`): in a masker,
 * hiding a number too many is the right way to be wrong.
 */
const NATIONAL_REGION: CountryCode = 'DE';
/** Fewer digits than this is an id, a port, a time or an amount, not a phone number. */
const MIN_PHONE_DIGITS = 8;
/** A digit span longer than any written phone number (or a few in a row) is masked whole. */
const MAX_SPAN_CHARS = 64;
const MASK = '•';

const DAY = /(?:0?[1-9]|[12]\d|3[01])/.source;
const MONTH = /(?:0?[1-9]|1[0-2])/.source;
const OCTET = /(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)/.source;

/**
 * Left to right, one of: a token kept as is (UUID, ISO date and time, dotted date, IPv4
 * address with port, clock time), or a span of digits with phone separators. The first
 * alternative that matches at a position wins, so a date is never read as a phone. Kept
 * tokens are strict (real days, months and octets, no more groups after them), so dotted
 * phone numbers (`01.23.45.67.89`, `089.123.456.78`) are not mistaken for them. A digit span
 * inside a word (`AC0123456789abcdef`, a hex id) is part of an identifier, not a phone.
 */
const SCAN = new RegExp(
  [
    /[\da-f]{8}-[\da-f]{4}-[\da-f]{4}-[\da-f]{4}-[\da-f]{12}/.source,
    `\\d{4}-${MONTH}-${DAY}(?:[T ]\\d\\d:\\d\\d(?::\\d\\d(?:\\.\\d{1,9})?)?(?:Z|[+-]\\d\\d:?\\d\\d)?)?(?![\\d-])`,
    `${DAY}\\.${MONTH}\\.(?:\\d{4}|\\d\\d)(?![.\\d])`,
    `${OCTET}(?:\\.${OCTET}){3}(?::\\d{1,5})?(?![.\\d])`,
    /\d{1,2}:\d\d(?::\d\d)?/.source,
  ]
    .map((keep) => `(?:${keep})`)
    .join('|') + `|(?<![A-Za-z\\d_])(\\+?\\d[\\d \\u00a0()./-]*\\d)(?![A-Za-z\\d_])`,
  'gi',
);

/** `+14155550142` → `+1••••••••42`: the country code and last two digits, enough to tell numbers apart. */
export function maskPhone(phone: string | null | undefined): string {
  if (!phone) return '—';
  const international = phone.startsWith('+') && phone.length <= MAX_SPAN_CHARS ? findPhoneNumbersInText(phone)[0] : undefined;
  return maskDigits(phone, phone.startsWith('+') ? (international?.number.countryCallingCode.length ?? 1) : 0);
}

/** Every digit but the first `keepFirst` and the last two as `•`; short runs wholly. */
function maskDigits(text: string, keepFirst: number): string {
  const digits = text.replace(/\D/g, '').length;
  if (digits <= 4) return text.replace(/\d/g, MASK);
  let seen = 0;
  return text.replace(/\d/g, (d) => (++seen <= keepFirst || seen > digits - 2 ? d : MASK));
}

/** Phone spans one text may have looked up; past it (hostile text) a span is masked unread. */
const MAX_LOOKUPS = 256;

/**
 * How `replaceContacts` rewrites what it finds. `phone` gets the number as written and the
 * length of its country code (0: a national number; null: a span too long or too many to
 * look up, to be hidden whole); `email` gets the address.
 */
export interface ContactReplacer {
  phone(text: string, countryCodeDigits: number | null): string;
  email(address: string): string;
}

function replacePhoneSpan(span: string, budget: { lookups: number }, replace: ContactReplacer['phone']): string {
  let digits = 0;
  for (let i = 0; i < span.length; i++) if (span.charCodeAt(i) >= 48 && span.charCodeAt(i) <= 57) digits++;
  if (digits < MIN_PHONE_DIGITS) return span;
  if (span.length > MAX_SPAN_CHARS || budget.lookups++ >= MAX_LOOKUPS) return replace(span, null);
  const found = findPhoneNumbersInText(span, { defaultCountry: NATIONAL_REGION, extended: true });
  // An international-looking span libphonenumber cannot place (`+1234567890`) is still someone's number.
  if (found.length === 0) return span.startsWith('+') ? replace(span, 1) : span;
  let out = '';
  let at = 0;
  for (const { number, startsAt, endsAt } of found) {
    const phone = span.slice(startsAt, endsAt);
    out += span.slice(at, startsAt) + replace(phone, phone.startsWith('+') ? number.countryCallingCode.length : 0);
    at = endsAt;
  }
  return out + span.slice(at);
}

// Characters of an address's local part and domain (RFC 5321 lengths: 64 and 253).
const LOCAL = /[A-Za-z0-9._%+-]/;
const DOMAIN = /[A-Za-z0-9.-]/;

/** Emails found from each `@` outwards, each character looked at a bounded number of times. */
function replaceEmails(text: string, replace: ContactReplacer['email']): string {
  let at = text.indexOf('@');
  if (at < 0) return text;
  let out = '';
  let copied = 0;
  while (at >= 0) {
    let start = at;
    while (start > copied && at - start < 64 && LOCAL.test(text[start - 1]!)) start--;
    let end = at + 1;
    while (end < text.length && end - at <= 253 && DOMAIN.test(text[end]!)) end++;
    while (end > at + 1 && (text[end - 1] === '.' || text[end - 1] === '-')) end--;
    const domain = text.slice(at + 1, end);
    if (start < at && /\.[A-Za-z]{2,}$/.test(domain) && !domain.startsWith('.')) {
      out += text.slice(copied, start) + replace(text.slice(start, end));
      copied = end;
    }
    at = text.indexOf('@', Math.max(at + 1, copied));
  }
  return out + text.slice(copied);
}

/** Phones and emails inside free text rewritten by `replace`; everything else kept as is. */
export function replaceContacts(text: string, replace: ContactReplacer): string {
  const budget = { lookups: 0 };
  return replaceEmails(text, replace.email).replace(SCAN, (token, span: string | undefined) =>
    span === undefined ? token : replacePhoneSpan(span, budget, replace.phone),
  );
}

const MASKING: ContactReplacer = {
  phone: (phone, countryCodeDigits) => (countryCodeDigits === null ? phone.replace(/\d/g, MASK) : maskDigits(phone, countryCodeDigits)),
  email: () => '[email]',
};

/** Phones and emails inside free text (messages, errors, URLs, transcripts) masked. */
export function maskText(text: string): string {
  return replaceContacts(text, MASKING);
}

/** Keys whose values are hidden whole everywhere. */
const CREDENTIAL_KEY = /^(?:authorization|cookie|set-cookie|token|password|secret|api_?key)$/i;
/** Keys of free speech, message bodies and whole calls: hidden whole in logs. */
const CONTENT_KEY = /^(?:transcript|formatted_transcript|body|text|html|call)$/i;
const CREDENTIAL_OR_CONTENT_KEY = new RegExp(`${CREDENTIAL_KEY.source}|${CONTENT_KEY.source}`, 'i');
/** Keys that hold a phone or an email: masked as such even when the value does not look like one. */
const CONTACT_KEY = /phone|mobile|email|^(?:to|from|cc|bcc|reply_?to)$/i;
const MAX_DEPTH = 32;

export interface MaskOptions {
  /**
   * `redact` (logs, the default): transcripts, bodies and texts under their key names are
   * hidden whole. `mask`: they are shown with phones and emails masked, for operators who
   * need to see what a step sent and got back (the Runs page, `aftercall runs show`).
   */
  content?: 'redact' | 'mask';
}

/**
 * A masked copy of a structured value (log fields, step inputs and outputs, payloads):
 * string leaves and key names through `maskText`, sensitive keys redacted at any depth.
 * Errors become `{ type, message, stack, …own fields }`, masked the same way.
 */
export function maskValue(value: unknown, options: MaskOptions = {}): unknown {
  const redacted = options.content === 'mask' ? CREDENTIAL_KEY : CREDENTIAL_OR_CONTENT_KEY;
  return walk(value, 0, { seen: new WeakSet(), redacted });
}

interface Walk {
  seen: WeakSet<object>;
  redacted: RegExp;
}

function walk(value: unknown, depth: number, state: Walk): unknown {
  const { seen } = state;
  if (typeof value === 'string') return maskText(value);
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => walk(item, depth + 1, state));
    if (value instanceof Error) return walkError(value, depth, state);
    if (value instanceof Date) return value;
    if (Buffer.isBuffer(value)) return `[${value.length} bytes]`;
    const out: Record<string, unknown> = {};
    // Key names are data too (an unknown payload key can be an email).
    for (const [key, item] of Object.entries(value)) out[maskText(key)] = maskField(key, item, depth, state);
    return out;
  } finally {
    seen.delete(value);
  }
}

function maskField(key: string, item: unknown, depth: number, state: Walk): unknown {
  if (item === undefined || item === null) return item;
  if (state.redacted.test(key)) return '[redacted]';
  if (CONTACT_KEY.test(key) && typeof item !== 'object') {
    const text = String(item);
    const masked = maskText(text);
    return masked !== text ? masked : /\d/.test(text) ? maskPhone(text) : '[redacted]';
  }
  return walk(item, depth + 1, state);
}

function walkError(error: Error, depth: number, state: Walk): Record<string, unknown> {
  const out: Record<string, unknown> = { type: error.constructor.name || error.name, message: maskText(error.message) };
  if (error.stack) out.stack = maskText(error.stack);
  for (const [key, item] of Object.entries(error)) if (!(key in out)) out[key] = maskField(key, item, depth, state);
  if (error.cause !== undefined && !('cause' in out)) out.cause = walk(error.cause, depth + 1, state);
  return out;
}

/**
 * A request URL as logged: the webhook token in the path and every value of a query
 * parameter whose percent-decoded name is `token` (as the webhook route decodes it, and
 * however often it is repeated) replaced by `[token]`; the rest masked as text.
 */
export function maskUrl(url: string): string {
  const question = url.indexOf('?');
  const path = question < 0 ? url : url.slice(0, question);
  // Any case: the webhook route matches the path case-insensitively, as Express did.
  const route = path.replace(/(\/webhooks\/[^/]+\/)[^/]+/i, '$1[token]');
  if (question < 0) return maskText(route);
  const query = url
    .slice(question + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = equals < 0 ? pair : pair.slice(0, equals);
      if (decodeQueryPart(name).toLowerCase() === 'token') return `${name}=[token]`;
      if (equals < 0) return maskText(name);
      const value = pair.slice(equals + 1);
      const decoded = decodeQueryPart(value);
      const masked = maskText(decoded);
      // A value masked only once decoded (`jane%40example.com`) is logged decoded and masked.
      return `${maskText(name)}=${masked === decoded ? maskText(value) : masked}`;
    })
    .join('&');
  return `${maskText(route)}?${query}`;
}

function decodeQueryPart(part: string): string {
  try {
    return decodeURIComponent(part.replace(/\+/g, ' '));
  } catch {
    return part;
  }
}
