// What crosses between the main thread and the SQLite thread. Structured clone turns a
// Buffer into a plain Uint8Array, so bodies are turned back into Buffers on arrival; the
// call of a delivery travels as the JSON string the caller already made (cheaper to clone
// than the object, and it is what the store writes).
import type { Call } from '../../payload/call.js';
import { searchDocument } from '../search-document.js';
import type { AcceptInput, InboundDetail, QuarantineInput, Receipt, Store } from '../store.js';

export type StoreMethod = {
  [K in keyof Store]: Store[K] extends (...args: never[]) => Promise<unknown> ? K : never;
}[keyof Store];

export interface WireRequest {
  id: number;
  method: StoreMethod;
  args: unknown[];
}

export type WireReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { message: string; code?: string; unavailable: boolean } };

const asBuffer = (bytes: Uint8Array | null): Buffer | null =>
  bytes === null || Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** The fields of a Call the SQLite store reads besides its JSON (the channel for its key). */
type CallFacts = Pick<Call, 'id' | 'channel' | 'variant' | 'status' | 'customer_phone'>;

export function toWire(method: StoreMethod, args: unknown[]): unknown[] {
  if (method !== 'acceptDelivery') return args;
  const input = args[0] as AcceptInput;
  if (input.callJson === undefined) return args;
  const facts: CallFacts = { id: input.call.id, channel: input.call.channel, variant: input.call.variant, status: input.call.status, customer_phone: input.call.customer_phone };
  // The thread gets the call's facts only: its search words are made here, from the whole call.
  return [{ ...input, call: facts, searchText: input.searchText ?? searchDocument(input.call, input.runs) }];
}

export function fromWire(method: StoreMethod, args: unknown[]): unknown[] {
  if (method === 'acceptDelivery' || method === 'quarantineDelivery' || method === 'recordInbound') {
    const input = args[0] as AcceptInput | QuarantineInput;
    return [{ ...input, rawBody: asBuffer(input.rawBody) }];
  }
  return args;
}

export function replyFromWire(method: StoreMethod, value: unknown): unknown {
  if (method === 'getReceipt' && value) return { ...(value as Receipt), rawBody: asBuffer((value as Receipt).rawBody) };
  if (method === 'getInbound' && value) return { ...(value as InboundDetail), rawBody: asBuffer((value as InboundDetail).rawBody) };
  if (method === 'listQuarantine') return (value as Receipt[]).map((r) => ({ ...r, rawBody: asBuffer(r.rawBody) }));
  return value;
}

/** The raw body's memory, when the body is the only thing in it (so moving it loses nothing). */
export function transferableBody(method: StoreMethod, wireArgs: unknown[]): ArrayBuffer | null {
  if (method !== 'acceptDelivery' && method !== 'quarantineDelivery') return null;
  const body = (wireArgs[0] as { rawBody?: Buffer }).rawBody;
  if (!body || body.byteOffset !== 0 || body.byteLength !== body.buffer.byteLength) return null;
  return body.buffer instanceof ArrayBuffer ? body.buffer : null;
}
