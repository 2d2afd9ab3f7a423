// What the Runs page search finds a call by, written once for both stores: the words of one
// revision (its search document, indexed by SQLite FTS5 / a PostgreSQL tsvector) and the words
// of a query. A phone is indexed as digits twice, international and national, so `4155550142`,
// `+1 415…` and `(415) 555-0142` all find +14155550142 by prefix.
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { Call } from '../payload/call.js';
import type { PlannedRun } from './records.js';
import { callKey } from './store.js';

/** A long transcript summary is searched by its start: the index stays small per delivery. */
const MAX_VALUE_CHARS = 2_000;
const MAX_DOCUMENT_CHARS = 8_000;
/** More words than this in one query are ignored: each one is an index lookup. */
const MAX_QUERY_WORDS = 8;

/** The words of a revision: call id (a chat's with its `conversation` prefix), phones, campaign, mappings, customer name, extracted variables. */
export function searchDocument(call: Call, runs: readonly Pick<PlannedRun, 'mappingName'>[]): string {
  const parts: string[] = [callKey(call), ...phoneWords(call.customer_phone), ...phoneWords(call.assistant_phone)];
  if (call.campaign) parts.push(String(call.campaign.id), call.campaign.name);
  if (call.conversation?.customer_name) parts.push(call.conversation.customer_name);
  for (const run of runs) parts.push(run.mappingName);
  for (const value of Object.values(call.extracted_variables ?? {})) {
    if (typeof value === 'string' || typeof value === 'number') parts.push(String(value).slice(0, MAX_VALUE_CHARS));
  }
  // Split here, the same way as a query, so both indexes hold exactly these words.
  return words(parts.join(' ')).join(' ').slice(0, MAX_DOCUMENT_CHARS);
}

function words(text: string): string[] {
  return text.normalize('NFKC').toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** An assistant's number is on every call it makes: its parse is kept (a few thousand numbers at most). */
const phoneCache = new Map<string, string[]>();
const PHONE_CACHE_SIZE = 2_000;

function phoneWords(phone: string | null): string[] {
  if (!phone) return [];
  const known = phoneCache.get(phone);
  if (known) return known;
  const digits = phone.replace(/\D/g, '');
  const national = parsePhoneNumberFromString(phone)?.nationalNumber;
  const found = national && national !== digits ? [digits, national] : [digits];
  if (phoneCache.size >= PHONE_CACHE_SIZE) phoneCache.clear();
  phoneCache.set(phone, found);
  return found;
}

/**
 * The words a query searches for, all of them required: whole words, but the last one (the
 * one being typed) a prefix. A prefix reads the index of every word it begins, so only one is
 * allowed. A query made of a phone's characters only (digits, spaces, `+ - ( ) .`, an
 * ellipsis) is one word, its digits, so also a prefix.
 */
export function queryWords(query: string): string[] {
  const text = query.normalize('NFKC').toLowerCase().trim();
  if (/^[\d\s+\-().…]+$/.test(text) && /\d/.test(text)) return [text.replace(/\D/g, '')];
  return words(text).slice(0, MAX_QUERY_WORDS);
}

/**
 * A query as the store searches it: its words, and what the last one (a prefix) stands for.
 * `lastWords` lists the indexed words that begin with it (SQLite looks them up in its word
 * list, so the full-text index reads only those words' postings); null leaves the prefix to
 * the index itself (PostgreSQL, whose GIN index reads a prefix's range of words, or a prefix
 * that begins too many words).
 */
export interface SearchTerms {
  words: string[];
  lastWords: string[] | null;
}

const quoted = (w: string) => `"${w}"`;

/** The FTS5 MATCH expression: `"w1" AND ("w2a" OR "w2b")`, or `"w1" AND "w2"*` (words hold letters and digits only); null when it cannot match. */
export function fts5Match(terms: SearchTerms): string | null {
  const { words, lastWords } = terms;
  if (words.length === 0 || lastWords?.length === 0) return null;
  const last = lastWords ? `(${lastWords.map(quoted).join(' OR ')})` : `${quoted(words.at(-1)!)}*`;
  return [...words.slice(0, -1).map(quoted), last].join(' AND ');
}

/** The PostgreSQL tsquery for to_tsquery('simple', …): `w1 & w2:*`; null when it cannot match. */
export function tsQuery(terms: SearchTerms): string | null {
  const { words } = terms;
  return words.length ? words.map((w, i) => (i === words.length - 1 ? `${w}:*` : w)).join(' & ') : null;
}
