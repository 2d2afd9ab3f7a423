// Plan guard: the Runs page's queries against SQLite's query plans (EXPLAIN QUERY PLAN text)
// and the SQL chosen. The page stays fast on a large file only when each filter starts from an
// index; SQLite plans without statistics, so the plans checked here are the ones it uses.
// Figures: docs/performance.md.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listRunsQuery, openSqliteStore, walkNewestFirst, type RunSpan } from '../../src/store/sqlite/sqlite-store.js';
import type { RunFilter } from '../../src/store/store.js';
import { callVersion, delivery, T0 } from '../store/store-conformance.js';
import { tempDir } from '../support/temp-dir.js';

describe('Runs page queries', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: Database.Database;
  beforeEach(async () => {
    dir = tempDir();
    const path = join(dir.path, 'aftercall.db');
    await openSqliteStore({ path }).close();
    db = new Database(path, { readonly: true });
  });
  afterEach(() => {
    db.close();
    dir.cleanup();
  });

  const plan = (...args: Parameters<typeof listRunsQuery>) => {
    const { sql, params } = listRunsQuery(...args);
    return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
  };
  // 100k runs over 100k seconds.
  const span: RunSpan = { first: T0, last: T0 + 100_000_000, count: 100_000 };

  it('a search finds its revisions in the full-text index, then their runs by revision', () => {
    for (const search of ['+1 415 555 0101', 'appointment tuesday']) {
      const found = plan({ search });
      expect(found).toContain('SCAN revision_search VIRTUAL TABLE');
      expect(found).toContain('SEARCH r USING INDEX sqlite_autoindex_runs_1 (revision_id=?)');
      expect(found).not.toMatch(/SCAN r\b/);
    }
  });

  it('status and mapping filters start from their indexes', () => {
    expect(plan({ status: 'dead' })).toContain('runs_by_status');
    expect(plan({ mappingName: 'crm' })).toContain('runs_by_mapping');
  });

  it('a narrow time range uses the time index; a wide one walks newest first without sorting', () => {
    const narrow = { createdFrom: T0, createdTo: T0 + 1_000_000 }; // ~1k runs, at the old end
    const recent = { createdFrom: T0 + 90_000_000 }; // the last ~10k runs
    const everything = { createdFrom: T0 - 1, createdTo: T0 + 200_000_000 };
    expect(walkNewestFirst(narrow, span)).toBe(false);
    expect(walkNewestFirst(recent, span)).toBe(true);
    expect(walkNewestFirst(everything, span)).toBe(true);
    expect(walkNewestFirst({ createdFrom: T0 + 200_000_000 }, span)).toBe(false); // after the last run: nothing to walk
    expect(walkNewestFirst(everything, { first: null, last: null, count: null })).toBe(false); // no runs
    // The narrow range takes the lowest and highest id of its runs from the time index, then
    // walks the page by id: no sort of every match.
    const byIds = plan(narrow, span);
    expect(byIds).toContain('COVERING INDEX runs_by_created');
    expect(byIds).toContain('SEARCH r USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)');
    expect(byIds).not.toContain('TEMP B-TREE');
    expect(plan({ ...narrow, status: 'dead' }, span)).toContain('runs_by_status (status=? AND id>? AND id<?)');
    expect(plan({ createdTo: T0 + 1_000_000 }, span)).toContain('COVERING INDEX runs_by_created (created_at<?)');
    const wide = plan(everything, span);
    expect(wide).not.toContain('runs_by_created');
    expect(wide).not.toContain('TEMP B-TREE');
  });

  it('both ways find the same page as a plain query, also when receipt times are out of id order', async () => {
    db.close();
    const path = join(dir.path, 'filled.db');
    const store = openSqliteStore({ path });
    // 120 calls × 3 runs; receipt times jump back and forth, so ids do not follow time.
    const at = (i: number) => T0 + ((i * 37) % 120) * 1000 + (i % 7);
    for (let i = 0; i < 120; i++) await store.acceptDelivery(delivery(callVersion(0, { id: 5_000 + i }), { receivedAt: at(i) }));
    await store.claimRuns('w', 40, T0 + 200_000, 60_000);
    await store.close();
    db = new Database(path, { readonly: true });
    const reference = (f: RunFilter) =>
      db
        .prepare(
          `SELECT id FROM runs WHERE created_at >= ? AND created_at < ? AND (? IS NULL OR status = ?) AND (? IS NULL OR id < ?)
           ORDER BY id DESC LIMIT ?`,
        )
        .pluck()
        .all(f.createdFrom ?? -1, f.createdTo ?? Number.MAX_SAFE_INTEGER, f.status ?? null, f.status ?? null, f.beforeId ?? null, f.beforeId ?? null, f.limit ?? 50);
    const ids = (f: RunFilter, s: RunSpan | undefined, way: 'by ids' | 'walked') => {
      const { sql, params } = listRunsQuery(f, s);
      expect(sql.includes('INDEXED BY runs_by_created'), `${way} ${JSON.stringify(f)}`).toBe(way === 'by ids');
      return (db.prepare(sql).all(...params) as Array<{ id: number }>).map((r) => r.id);
    };
    const last = db.prepare('SELECT max(created_at) FROM runs').pluck().get() as number;
    // No span: the ids of the range. A span that ends where the range does and counts
    // countless runs: nothing newer to pass, so the walk wins.
    const walkedSpan = (f: RunFilter): RunSpan => ({ first: f.createdFrom ?? T0, last: Math.min(last, (f.createdTo ?? Infinity) - 1), count: 1e12 });
    const filters: RunFilter[] = [
      { createdFrom: T0 + 10_000, createdTo: T0 + 20_000 },
      { createdFrom: T0 + 10_000, createdTo: T0 + 20_000, limit: 4 },
      { createdFrom: T0 + 10_000, createdTo: T0 + 20_000, limit: 4, beforeId: 200 },
      { createdFrom: T0 + 5_000, createdTo: T0 + 60_000, status: 'running' },
      { createdTo: T0 + 5_000 },
      { createdFrom: T0 + 115_000 },
    ];
    for (const f of filters) {
      const expected = reference(f);
      expect(ids(f, undefined, 'by ids'), `by ids ${JSON.stringify(f)}`).toEqual(expected);
      expect(ids(f, walkedSpan(f), 'walked'), `walked ${JSON.stringify(f)}`).toEqual(expected);
    }
    expect(ids({ createdFrom: T0 + 500_000 }, undefined, 'by ids')).toEqual([]); // after every run: min(id) is null
    expect(reference(filters[0]!).length).toBeGreaterThanOrEqual(20); // the cases are not empty
    expect(reference(filters[3]!).length).toBeGreaterThan(0);
  });
});

