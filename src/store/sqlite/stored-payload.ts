// How the SQLite file holds the two large values of a delivery: the raw body (receipts.raw_body)
// and the normalized call (revisions.call_json), each deflated. A transcript is most of a
// delivery, the call holds it twice (turns and text) and the body once more, and whatever a
// commit adds is written twice (WAL, then checkpoint) in whole pages: deflate (level 1, the
// cheapest, run on the store's thread) takes both to about a third (docs/performance.md).
// Rows written before migration 9 are converted by it; a call_json still TEXT reads as is.
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type Database from 'better-sqlite3';
import type { Call } from '../../payload/call.js';
import { searchDocument } from '../search-document.js';
import type { StoredPayloads } from '../sql/work.js';

const LEVEL = { level: 1 };

export function packText(text: string): Buffer {
  return deflateRawSync(Buffer.from(text, 'utf8'), LEVEL);
}

export function packBytes(bytes: Buffer): Buffer {
  return deflateRawSync(bytes, LEVEL);
}

/** A stored call: deflated bytes, or the JSON text of a row no migration has converted. */
export function unpackText(stored: Buffer | string): string {
  return typeof stored === 'string' ? stored : inflateRawSync(stored).toString('utf8');
}

export function unpackBytes(stored: Buffer | null): Buffer | null {
  return stored === null ? null : inflateRawSync(stored);
}

export const DEFLATED_PAYLOADS: StoredPayloads = { packBody: packBytes, unpackBody: unpackBytes, packCall: packText, unpackCall: unpackText };

/** The SQL functions migrations 9 and 11 convert and index existing rows with. */
export function registerPayloadFunctions(db: Database.Database): void {
  db.function('aftercall_search_document', { deterministic: true }, (stored: unknown, mappings: unknown) => {
    const call = JSON.parse(unpackText(stored as Buffer | string)) as Call;
    const names = typeof mappings === 'string' ? mappings.split(' ') : [];
    return searchDocument(call, names.map((mappingName) => ({ mappingName })));
  });
  db.function('aftercall_pack', { deterministic: true }, (value: unknown) => {
    if (value === null) return null;
    if (typeof value === 'string') return packText(value);
    if (Buffer.isBuffer(value)) return packBytes(value);
    throw new TypeError(`aftercall_pack: cannot pack a ${typeof value}`);
  });
}
