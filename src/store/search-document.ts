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

function phoneWords(phone: string | null): string[] {
  if (!phone) return [];
  const digits = phone.replace(/\D/g, '');
  const national = parsePhoneNumberFromString(phone)?.nationalNumber;
  return national && national !== digits ? [digits, national] : [digits];
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

const isLast = (i: number, list: readonly string[]) => i === list.length - 1;

/** The FTS5 MATCH expression of the words: `"w1" AND "w2"*` (the words hold letters and digits only). */
export function fts5Match(list: readonly string[]): string {
  return list.map((w, i) => (isLast(i, list) ? `"${w}"*` : `"${w}"`)).join(' AND ');
}

/** The PostgreSQL tsquery of the words for to_tsquery('simple', …): `w1 & w2:*`. */
export function tsQuery(list: readonly string[]): string {
  return list.map((w, i) => (isLast(i, list) ? `${w}:*` : w)).join(' & ');
}
