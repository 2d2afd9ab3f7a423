// Group commit: writes queued in the same event-loop turn share one transaction and one
// fsync (synchronous=FULL). Each write runs in its own savepoint, so one failing write does
// not undo its neighbours, and each caller is answered only after the shared COMMIT.
// Writes may belong to a chain (one run's execution): a chain stops at its first failure, so a
// write queued before that failure was answered is refused instead of landing after it.
import type { Database } from 'better-sqlite3';
import { StoreUnavailableError } from '../store.js';

interface Pending {
  write: () => unknown;
  chain?: number;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** SQLite result codes that mean "cannot commit now", not "this write is wrong". */
const UNAVAILABLE = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED|NOMEM|CORRUPT|NOTADB|PROTOCOL)/;

export function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNAVAILABLE.test(code);
}

/** A write not applied because an earlier write of its chain failed. */
export class ChainBrokenError extends Error {
  constructor(chain: number) {
    super(`not applied: an earlier write of run ${chain} failed`);
    this.name = 'ChainBrokenError';
  }
}

export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  /** Chains whose last write failed; they accept writes again once `restart`ed. */
  private readonly broken = new Set<number>();
  private readonly batch: (items: Pending[]) => Array<{ ok: boolean; value: unknown }>;
  /** When a batch last could not commit, and why (/readyz reports it for a while). */
  lastFailure: { at: number; error: unknown } | null = null;

  constructor(db: Database) {
    const savepoint = db.transaction((write: () => unknown) => write());
    this.batch = db.transaction((items: Pending[]) =>
      items.map((item) => {
        if (item.chain !== undefined && this.broken.has(item.chain)) return { ok: false, value: new ChainBrokenError(item.chain) };
        try {
          return { ok: true, value: savepoint(item.write) };
        } catch (error) {
          // The disk or the lock failed, or SQLite already rolled the whole transaction back
          // (SQLITE_FULL does): stop at once. Going on would commit the rest one by one
          // outside the batch, and would wait busy_timeout again for every queued write.
          if (isUnavailable(error) || error instanceof StoreUnavailableError || !db.inTransaction) throw error;
          if (item.chain !== undefined) this.broken.add(item.chain);
          return { ok: false, value: error };
        }
      }),
    );
  }

  /** Queues `write`; with a `chain`, only if no earlier write of that chain failed (checked when applied). */
  run<T>(write: () => T, chain?: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, chain, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** A new beginning for `chain` (its run was claimed again): its writes are applied again. */
  restart(chain: number): void {
    this.broken.delete(chain);
  }

  private flush(): void {
    this.scheduled = false;
    const items = this.queue;
    this.queue = [];
    let results: Array<{ ok: boolean; value: unknown }>;
    try {
      results = this.batch(items);
    } catch (error) {
      // Rolled back (disk full, I/O error, closed handle): nothing in this batch is on disk,
      // so nobody may be told it is.
      const failure = new StoreUnavailableError(error);
      this.lastFailure = { at: Date.now(), error };
      for (const item of items) {
        if (item.chain !== undefined) this.broken.add(item.chain);
        item.reject(failure);
      }
      return;
    }
    items.forEach((item, i) => {
      const result = results[i]!;
      if (result.ok) item.resolve(result.value);
      else item.reject(result.value);
    });
  }
}
