// What a failed step keeps of its last vendor exchange: the request (method, URL) and the
// answer (status, the start of its body), so an operator sees what the vendor really said,
// not only aftercall's reading of it. Connectors attach the exchange to the error they throw;
// the worker stores it masked and bounded (a body can echo what was sent: names, numbers,
// transcripts), and only there: log lines carry the error's summary, never the body.
import { maskText } from '../logger.js';
import type { StepEvidence } from '../store/store.js';

/** One request of a step and what came back (no `status`: no answer came). */
export interface VendorExchange {
  method: string;
  url: string | URL;
  status?: number;
  /** The answer's body as the connector has it: text, bytes or parsed JSON. */
  body?: unknown;
}

/** The latest exchange of a client while it is lent to one step. */
export class ExchangeLog {
  last: VendorExchange | undefined;

  /** Records a request as it leaves; `answered` adds the answer to it. */
  sent(method: string, url: string | URL): VendorExchange {
    this.last = { method, url };
    return this.last;
  }
}

/** Characters of an answer's body a failed step keeps. */
export const EVIDENCE_BODY_CHARS = 2048;

interface WithEvidence {
  evidence?: VendorExchange;
}

/** `error` carrying `exchange`, unless it carries one already (the innermost is the most precise). */
export function withEvidence<E>(error: E, exchange: VendorExchange | undefined): E {
  if (exchange && error && typeof error === 'object' && !(error as WithEvidence).evidence) {
    Object.defineProperty(error, 'evidence', { value: exchange, enumerable: false, configurable: true, writable: true });
  }
  return error;
}

export function evidenceOf(error: unknown): VendorExchange | undefined {
  return error && typeof error === 'object' ? (error as WithEvidence).evidence : undefined;
}

/**
 * The exchange as a step stores it: the URL's credentials and secret-looking query values
 * replaced, then the URL and the first EVIDENCE_BODY_CHARS of the body through the logs' masker.
 * `redact` removes further known values (the declared secrets of http.request headers).
 */
export function storedEvidence(exchange: VendorExchange, redact: (text: string) => string = (t) => t): StepEvidence {
  const text = bodyText(exchange.body);
  // Masked with some room past the cut, so a phone or an email at the edge is still recognised.
  const masked = text === null ? null : maskText(redact(text.slice(0, EVIDENCE_BODY_CHARS * 2)));
  return {
    method: exchange.method.toUpperCase(),
    url: maskText(redact(maskVendorUrl(exchange.url))),
    status: exchange.status ?? null,
    body: masked === null ? null : masked.slice(0, EVIDENCE_BODY_CHARS),
    truncated: text !== null && (text.length > EVIDENCE_BODY_CHARS || (masked?.length ?? 0) > EVIDENCE_BODY_CHARS),
  };
}

/** Query parameters whose values are credentials (Pipedrive's api_token, access_token, signatures, …). */
const SECRET_PARAM = /token|key|secret|passw|pwd|auth|sig|session|credential|code/i;

/** A vendor URL with its user info and credential-looking query values replaced. */
export function maskVendorUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return '[unparsable URL]';
  }
  parsed.username = '';
  parsed.password = '';
  // Rebuilt by hand: URLSearchParams would percent-encode the brackets of the placeholder.
  const query = [...parsed.searchParams].map(([name, value]) =>
    `${encodeURIComponent(name)}=${SECRET_PARAM.test(name) ? '[secret]' : encodeURIComponent(value)}`,
  );
  parsed.search = '';
  parsed.hash = '';
  return `${parsed.href}${query.length ? `?${query.join('&')}` : ''}`;
}

/** Enough of the body to fill the excerpt; large bodies are not decoded whole. */
function bodyText(body: unknown): string | null {
  if (body === undefined || body === null) return null;
  if (Buffer.isBuffer(body)) return body.length === 0 ? null : body.subarray(0, EVIDENCE_BODY_CHARS * 4).toString('utf8');
  if (typeof body === 'string') return body.length === 0 ? null : body;
  try {
    return JSON.stringify(body) ?? null;
  } catch {
    return String(body);
  }
}
