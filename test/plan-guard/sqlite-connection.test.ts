// Plan guard: SQLite store tests that reach into the store's private connection (per-connection
// pragmas, the WAL it writes, its temporary files, a page limit to fill the disk). They pin how
// the store uses SQLite, not its contract; a rewrite of the store may have to adapt them.
import { randomBytes } from 'node:crypto';
import { readdirSync, readlinkSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { StoreUnavailableError, type AcceptResult } from '../../src/store/store.js';
import { sqliteFiles } from '../store/sqlite-files.js';
import { callVersion, delivery } from '../store/store-conformance.js';

const CRM_ONLY = [{ mappingName: 'crm', mappingHash: 'hash-crm-v1' }];

/** The store's own connection (private): per-connection pragmas can only be read there. */
function connectionOf(store: SqliteStore): Database.Database {
  return (store as unknown as { db: Database.Database }).db;
}

describe('SQLite store, through its own connection', () => {
  const { open, otherConnection } = sqliteFiles();

  it('runs in WAL mode with synchronous=FULL, foreign keys on and the configured busy timeout', () => {
    const db = connectionOf(open());
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
    expect(connectionOf(open({ busyTimeoutMs: 250 })).pragma('busy_timeout', { simple: true })).toBe(250);
    // WAL is a property of the file: other connections see it too.
    expect(otherConnection().pragma('journal_mode', { simple: true })).toBe('wal');
  });

  it('200 writes queued in one tick share one commit and each gets its own correct answer', async () => {
    const store = open();
    connectionOf(store).pragma('wal_autocheckpoint = 0'); // so the WAL counts every frame written
    const other = otherConnection();
    other.pragma('wal_checkpoint(TRUNCATE)');
    const committedWhenAnswered: boolean[] = [];
    // 100 calls, each delivered twice in the same tick: one accepted, one duplicate.
    const inputs = Array.from({ length: 200 }, (_, i) =>
      delivery(callVersion(0, { id: 1 + (i % 100) }), { rawBody: Buffer.from(`#${i}`), requestId: `req-${i}` }),
    );
    const results = await Promise.all(
      inputs.map((input) =>
        store.acceptDelivery(input).then((result) => {
          // Told only after COMMIT: an independent connection already sees the receipt.
          committedWhenAnswered.push(other.prepare('SELECT 1 FROM receipts WHERE id = ?').get(result.receiptId) !== undefined);
          return result;
        }),
      ),
    );
    expect(committedWhenAnswered).toHaveLength(200);
    expect(committedWhenAnswered.every(Boolean)).toBe(true);
    for (let id = 1; id <= 100; id++) {
      const mine = results.filter((_, i) => 1 + (i % 100) === id);
      expect(mine.map((r) => r.outcome).sort()).toEqual(['accepted', 'duplicate']);
      expect(mine.map((r) => r.revision)).toEqual([1, 1]);
    }
    const accepted = results.filter((r): r is Extract<AcceptResult, { outcome: 'accepted' }> => r.outcome === 'accepted');
    expect(new Set(accepted.flatMap((r) => r.runIds)).size).toBe(200);
    expect(new Set(results.map((r) => r.receiptId)).size).toBe(200);
    // One transaction writes each touched page once (~230 frames here); 200 separate commits
    // would append at least one frame per table touched per commit (≥ 4 × 200 = 800).
    const [wal] = other.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>;
    expect(wal!.log).toBeGreaterThan(0);
    expect(wal!.log).toBeLessThan(400);
  });

  // Each write of a batch runs in a savepoint, whose statement journal SQLite spills to a
  // temporary file past 64 KiB unless temp_store is MEMORY: a file made, written and deleted
  // per batch.
  it.skipIf(process.platform !== 'linux')('a batch keeps its savepoints in memory: no temporary file is opened during the commit', async () => {
    const store = open();
    const db = connectionOf(store);
    let mostTempFiles = 0;
    // Called by a trigger inside the batch's transaction: counts SQLite's temporary files
    // (opened as /var/tmp/etilqs_…, then deleted) this process holds at that moment.
    db.function('count_temp_files', () => {
      const held = readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).includes('etilqs_');
        } catch {
          return false; // closed meanwhile (the listing's own fd)
        }
      }).length;
      mostTempFiles = Math.max(mostTempFiles, held);
      return held;
    });
    db.exec('CREATE TRIGGER count_temp_files AFTER INSERT ON receipts BEGIN SELECT count_temp_files(); END');
    const body = Buffer.alloc(8 * 1024, 'x');
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => store.acceptDelivery(delivery(callVersion(0, { id: 1 + i }), { rawBody: body }))),
    );
    expect(results.every((r) => r.outcome === 'accepted')).toBe(true);
    expect(mostTempFiles).toBe(0);
  });

  it('a full disk: the write fails with StoreUnavailableError and later writes that fit succeed', async () => {
    const store = open();
    const db = connectionOf(store);
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages + 40}`); // room for small writes, not for a 400 KB body (random: it stays 400 KB deflated)
    const huge = delivery(callVersion(0, { id: 1 }), { rawBody: randomBytes(400_000) });
    const error = await store.acceptDelivery(huge).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(otherConnection().prepare('SELECT COUNT(*) FROM calls').pluck().get()).toBe(0);
    expect(await store.acceptDelivery(delivery(callVersion(0, { id: 2 })))).toMatchObject({ outcome: 'accepted', revision: 1 });
  });

  // SQLITE_FULL rolls the shared transaction back: the batch must stop there, or the writes
  // queued after the failing one would run in autocommit mode and be committed while their
  // callers are told they failed. Every write is either resolved and on disk, or rejected and absent.
  it('a full disk in the middle of a batch: no write that is on disk is reported as failed', async () => {
    const store = open();
    const db = connectionOf(store);
    db.pragma(`max_page_count = ${(db.pragma('page_count', { simple: true }) as number) + 40}`);
    const inputs = [
      delivery(callVersion(0, { id: 1 }), { runs: CRM_ONLY }),
      delivery(callVersion(0, { id: 2 }), { runs: CRM_ONLY, rawBody: randomBytes(400_000) }),
      delivery(callVersion(0, { id: 3 }), { runs: CRM_ONLY }),
    ];
    const settled = await Promise.allSettled(inputs.map((input) => store.acceptDelivery(input)));
    expect(settled[1]!.status).toBe('rejected');
    const onDisk = otherConnection().prepare('SELECT call_key FROM calls WHERE call_key = ?').pluck();
    const outcome = settled.map((s, i) => `${i + 1}: ${s.status} / ${onDisk.get(String(i + 1)) ? 'on disk' : 'absent'}`);
    for (const line of outcome) expect(line).toMatch(/fulfilled \/ on disk|rejected \/ absent/);
  });
});
