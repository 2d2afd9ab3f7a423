// Group commit: writes queued in the same event-loop turn share one transaction and one
// fsync (synchronous=FULL). Each write runs in its own savepoint, so one failing write does
// not undo its neighbours, and each caller is answered only after the shared COMMIT.
import type { Database } from 'better-sqlite3';
import { StoreUnavailableError } from '../store.js';

interface Pending {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** SQLite result codes that mean "cannot commit now", not "this write is wrong". */
const UNAVAILABLE = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED|NOMEM|CORRUPT|NOTADB|PROTOCOL)/;

export function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && UNAVAILABLE.test(code);
}

export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly batch: (items: Pending[]) => Array<{ ok: boolean; value: unknown }>;
  /** When a batch last could not commit, and why (/readyz reports it for a while). */
  lastFailure: { at: number; error: unknown } | null = null;

  constructor(db: Database) {
    const savepoint = db.transaction((write: () => unknown) => write());
    this.batch = db.transaction((items: Pending[]) =>
      items.map((item) => {
        try {
          return { ok: true, value: savepoint(item.write) };
        } catch (error) {
          // The disk or the lock failed, or SQLite already rolled the whole transaction back
          // (SQLITE_FULL does): stop at once. Going on would commit the rest one by one
          // outside the batch, and would wait busy_timeout again for every queued write.
          if (isUnavailable(error) || error instanceof StoreUnavailableError || !db.inTransaction) throw error;
          return { ok: false, value: error };
        }
      }),
    );
  }

  run<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
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
      for (const item of items) item.reject(failure);
      return;
    }
    items.forEach((item, i) => {
      const result = results[i]!;
      if (result.ok) item.resolve(result.value);
      else item.reject(result.value);
    });
  }
}
