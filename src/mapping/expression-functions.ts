// Functions mapping expressions can call besides JSONata's own: the formatting a follow-up
// message or CRM field needs.
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { secretMarker } from './secrets.js';

type Fn = (...args: unknown[]) => unknown;

/** `$formatPhone(phone, 'international' | 'national' | 'e164' | 'rfc3966')`; unparsable input comes back as is. */
function formatPhone(phone: unknown, format: unknown = 'international'): unknown {
  if (phone === undefined || phone === null || phone === '') return undefined;
  const parsed = parsePhoneNumberFromString(String(phone));
  if (!parsed) return phone;
  switch (format) {
    case 'national':
      return parsed.formatNational();
    case 'e164':
      return parsed.number;
    case 'rfc3966':
      return parsed.getURI();
    case 'international':
      return parsed.formatInternational();
    default:
      throw new Error(`$formatPhone: format must be international, national, e164 or rfc3966, not ${JSON.stringify(format)}`);
  }
}

const TOKENS = /yyyy|MMMM|MMM|MM|dd|EEEE|EEE|HH|hh|mm|ss|a/g;

// Building an Intl.DateTimeFormat costs far more than using one, and a mapping asks for the same
// few (locale, zone, fields) on every call: keep them, bounded. A bad zone or locale throws on
// construction, so only working formatters are kept.
const FORMATTERS_MAX = 64;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(locale: string, timeZone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}\u0000${timeZone}\u0000${JSON.stringify(options)}`;
  let found = formatters.get(key);
  if (!found) {
    found = new Intl.DateTimeFormat(locale, { timeZone, ...options });
    if (formatters.size >= FORMATTERS_MAX) formatters.clear();
    formatters.set(key, found);
  }
  return found;
}

/**
 * `$formatDate(value, pattern = 'yyyy-MM-dd HH:mm', timeZone = 'UTC', locale = 'en-US')`.
 * Tokens: yyyy MM MMM MMMM dd EEE EEEE HH hh mm ss a. Value: ISO string or epoch milliseconds.
 */
function formatDate(value: unknown, pattern: unknown = 'yyyy-MM-dd HH:mm', timeZone: unknown = 'UTC', locale: unknown = 'en-US'): unknown {
  if (value === undefined || value === null || value === '') return undefined;
  const date = typeof value === 'number' ? new Date(value) : new Date(String(value));
  if (Number.isNaN(date.getTime())) throw new Error(`$formatDate: ${JSON.stringify(value)} is not a date`);
  const part = (options: Intl.DateTimeFormatOptions) => formatter(String(locale), String(timeZone), options).formatToParts(date);
  const numeric = Object.fromEntries(
    part({ year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).map(
      (p) => [p.type, p.value],
    ),
  );
  const hour12 = Object.fromEntries(part({ hour: '2-digit', hourCycle: 'h12' }).map((p) => [p.type, p.value]));
  const text = (options: Intl.DateTimeFormatOptions, type: string) => part(options).find((p) => p.type === type)?.value ?? '';
  return String(pattern).replace(TOKENS, (token) => {
    switch (token) {
      case 'yyyy':
        return numeric.year ?? '';
      case 'MMMM':
        return text({ month: 'long' }, 'month');
      case 'MMM':
        return text({ month: 'short' }, 'month');
      case 'MM':
        return numeric.month ?? '';
      case 'dd':
        return numeric.day ?? '';
      case 'EEEE':
        return text({ weekday: 'long' }, 'weekday');
      case 'EEE':
        return text({ weekday: 'short' }, 'weekday');
      case 'HH':
        return numeric.hour ?? '';
      case 'hh':
        return hour12.hour ?? '';
      case 'a':
        return hour12.dayPeriod ?? '';
      case 'mm':
        return numeric.minute ?? '';
      default:
        return numeric.second ?? '';
    }
  });
}

/** `$excerpt(textOrTranscript, maxChars = 500)`: the start of a text, cut at a word, with "…". */
function excerpt(value: unknown, maxChars: unknown = 500): unknown {
  if (value === undefined || value === null) return undefined;
  const text = typeof value === 'object' && 'text' in value ? String((value as { text: unknown }).text) : String(value);
  const max = Number(maxChars);
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** `$default(value, fallback)`: the fallback when the value is missing, null or an empty string. */
function defaultValue(value: unknown, fallback: unknown): unknown {
  return value === undefined || value === null || value === '' ? fallback : value;
}

export const EXPRESSION_FUNCTIONS: Record<string, Fn> = {
  formatPhone,
  formatDate,
  excerpt,
  default: defaultValue,
  /** `$secret('NAME')`: an HTTP_SECRETS variable for an http.request header (see secrets.ts). */
  secret: secretMarker,
};
