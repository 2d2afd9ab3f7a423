// RETENTION_DAYS: purge old raw payloads and transcripts shortly after start, then hourly.
import type { Logger } from '../logger.js';
import type { Store } from './store.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export function scheduleRetention(store: Store, days: number, logger: Logger, intervalMs = 60 * 60 * 1000): { stop(): void } {
  if (days <= 0) return { stop() {} };
  const purge = () => {
    const now = Date.now();
    store
      .purgePayloads(now - days * DAY_MS, now)
      .then((counts) => {
        if (counts.receipts + counts.revisions > 0) logger.info({ ...counts, retention_days: days }, 'purged old payloads and transcripts');
      })
      .catch((error: unknown) => logger.error({ err: error }, 'retention purge failed; will try again'));
  };
  const first = setTimeout(purge, 10_000);
  const every = setInterval(purge, intervalMs);
  first.unref();
  every.unref();
  return {
    stop() {
      clearTimeout(first);
      clearInterval(every);
    },
  };
}
