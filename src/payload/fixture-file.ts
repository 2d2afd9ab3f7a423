// A delivered payload as a fixture file: the body as received, pretty-printed, optionally
// scrubbed (src/payload/scrub-payload.ts) so it can be committed beside the mappings.
import type { CallPayload } from '../store/store.js';
import { scrubPayload } from './scrub-payload.js';

export function fixtureFile(body: string, options: { scrub: boolean }): string {
  const payload: unknown = JSON.parse(body);
  return `${JSON.stringify(options.scrub ? scrubPayload(payload) : payload, null, 2)}\n`;
}

/** A download's file name: call id and revision, `-scrubbed` when it is. */
export function fixtureFileName(payload: Pick<CallPayload, 'callId' | 'revision'>, scrub: boolean): string {
  const id = payload.callId.replace(/[^\w.-]/g, '_');
  return `call-${id}-rev${payload.revision}${scrub ? '-scrubbed' : ''}.json`;
}
