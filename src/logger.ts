// pino JSON logs. Phones, emails and transcripts never reach a log line in clear.
import { pino, type Logger } from 'pino';

export type { Logger };

/** Paths pino censors wherever they appear in a logged object. */
export const REDACTED_PATHS = [
  '*.customer_phone',
  '*.assistant_phone',
  '*.phone',
  '*.phone_number',
  '*.to',
  '*.from',
  '*.email',
  '*.transcript',
  '*.formatted_transcript',
  '*.body',
  'call.*',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.query.token',
];

// International numbers (+ prefix, with common separators) and long bare digit runs; dates,
// addresses like 127.0.0.1:3000 and short ids stay readable.
const PHONE = /\+\d[\d\s()-]{5,}\d|\b\d{9,15}\b/g;
const EMAIL = /[^\s@"'<>]+@[^\s@"'<>]+\.[A-Za-z]{2,}/g;

/** Masks phone numbers and emails inside free text, e.g. error messages and URLs. */
export function maskText(text: string): string {
  return text.replace(EMAIL, '[email]').replace(PHONE, '[phone]');
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** The webhook path and query carry the token: keep only the route. */
export function maskUrl(url: string): string {
  // Any case: the webhook route matches the path case-insensitively, as Express did.
  return maskText(url.replace(/(\/webhooks\/post-call\/)[^/?]+/i, '$1[token]').replace(/([?&]token=)[^&]+/, '$1[token]'));
}
