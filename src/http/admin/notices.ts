// What a page says after an action redirected to it (`?notice=…`, with counts where a bulk
// action had some): fixed sentences, so a crafted link cannot make the page say anything else.
import type { Request } from 'express';

const NOTICES: Record<string, (count: (name: string) => number) => string> = {
  'retry-queued': () => 'The run is queued again; completed steps will not repeat.',
  'not-retryable': () => 'Only dead or invalid-variables runs can be retried.',
  replayed: () => 'The payload was accepted; its runs are queued.',
  'replay-failed': () => 'The payload is still invalid under the current schema; see its errors.',
  dismissed: () => 'The payload was dismissed: it left the quarantine list.',
  'not-dismissed': () => 'That payload is not in quarantine.',
  'rerun-queued': () => 'The run is queued again with the current mappings.',
  'not-rerunnable': () => 'Only finished runs can be re-run.',
  'bulk-retried': (n) => `${n('requeued')} ${plural(n('requeued'), 'run')} queued again${n('skipped') ? `; ${n('skipped')} no longer retryable` : ''}.`,
  'bulk-replayed': (n) => `${n('done')} of ${n('of')} ${plural(n('of'), 'payload')} accepted; the others are still invalid.`,
  'bulk-dismissed': (n) => `${n('done')} of ${n('of')} ${plural(n('of'), 'payload')} dismissed.`,
};

const plural = (n: number, word: string) => (n === 1 ? word : `${word}s`);

export function noticeFrom(query: Request['query']): string | undefined {
  const make = typeof query.notice === 'string' ? NOTICES[query.notice] : undefined;
  if (!make) return undefined;
  return make((name) => {
    const n = Number(query[name]);
    return Number.isSafeInteger(n) && n >= 0 ? n : 0;
  });
}
