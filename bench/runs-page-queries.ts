// The Runs page's store queries timed on a pre-filled SQLite file (volume.ts fills it), in
// process on the store's own connection as the SQLite thread runs them: every list, search,
// count, the grouped view, a call's page and the activity panel. Target (issue 23): each under
// 50 ms at 1M stored runs (`--large`).
import Database from 'better-sqlite3';
import { openSqliteStore, type SqliteStore } from '../src/store/sqlite/sqlite-store.js';

const HOUR = 3_600_000;

export interface PageQueryContext {
  first: number;
  last: number;
  /** A call id of the fill, and a word and a phone every filled call has. */
  callId: string;
  commonWord: string;
  commonPhone: string;
  sender: string;
  mappingName: string;
  /** A run id half way through the file. */
  middleRunId: () => number;
}

export const PAGE_QUERY_TARGET_MS = 50;
export const PAGE_REPEATS = 5;

export const PAGE_QUERIES: Array<{ name: string; run: (store: SqliteStore, c: PageQueryContext) => Promise<unknown> }> = [
  { name: 'newest runs', run: (s) => s.listRuns({}) },
  { name: 'status succeeded', run: (s) => s.listRuns({ status: 'succeeded' }) },
  { name: 'status dead (none)', run: (s) => s.listRuns({ status: 'dead' }) },
  { name: 'mapping', run: (s, c) => s.listRuns({ mappingName: c.mappingName }) },
  { name: 'time: all', run: (s, c) => s.listRuns({ createdFrom: c.first, createdTo: c.last + 1 }) },
  { name: 'time: the oldest 1 %', run: (s, c) => s.listRuns({ createdFrom: c.first, createdTo: c.first + (c.last - c.first) / 100 }) },
  { name: 'time: one hour', run: (s, c) => s.listRuns({ createdFrom: c.last - HOUR, createdTo: c.last }) },
  { name: 'newer page (after a cursor)', run: (s, c) => s.listRuns({ afterId: Math.max(1, c.middleRunId() - 500) }) },
  { name: 'search: a call id', run: (s, c) => s.listRuns({ search: c.callId }) },
  { name: 'search: unknown phone', run: (s) => s.listRuns({ search: '+19995550100' }) },
  { name: 'search: a word no call has', run: (s) => s.listRuns({ search: 'zyxwvut' }) },
  { name: 'search: the phone every call has', run: (s, c) => s.listRuns({ search: c.commonPhone }) },
  { name: 'search: a word every call has', run: (s, c) => s.listRuns({ search: c.commonWord }) },
  { name: 'search: a word, status dead (none)', run: (s, c) => s.listRuns({ search: c.commonWord, status: 'dead' }) },
  { name: 'count: all (bounded)', run: (s) => s.countRuns({}) },
  { name: 'count: status dead', run: (s) => s.countRuns({ status: 'dead' }) },
  { name: 'count: a word every call has', run: (s, c) => s.countRuns({ search: c.commonWord }) },
  { name: 'count: the oldest 1 %', run: (s, c) => s.countRuns({ createdFrom: c.first, createdTo: c.first + (c.last - c.first) / 100 }) },
  {
    name: 'by call: a page and its calls\u2019 runs',
    run: async (s) => {
      const page = await s.listRuns({ limit: 51 });
      return s.listCallRuns([...new Map(page.map((r) => [`${r.sender} ${r.callId}`, { sender: r.sender, callId: r.callId }])).values()]);
    },
  },
  { name: 'a call\u2019s page', run: (s, c) => s.getCallHistory(c.sender, c.callId) },
  { name: 'activity: 24 h', run: (s, c) => s.activity(c.last + HOUR - 24 * HOUR, c.last + HOUR, HOUR) },
  { name: 'activity: 7 d', run: (s, c) => s.activity(c.last + HOUR - 168 * HOUR, c.last + HOUR, 6 * HOUR) },
];

/** Median ms per query on the file. */
export async function timeRunsPage(path: string, context: Omit<PageQueryContext, 'first' | 'last' | 'middleRunId'>): Promise<Record<string, number>> {
  const db = new Database(path, { readonly: true });
  const span = db.prepare('SELECT min(created_at) AS first, max(created_at) AS last, max(id) AS top FROM runs').get() as { first: number; last: number; top: number };
  db.close();
  const store = openSqliteStore({ path });
  try {
    const c = { ...context, first: span.first, last: span.last, middleRunId: () => Math.floor(span.top / 2) };
    const out: Record<string, number> = {};
    for (const query of PAGE_QUERIES) {
      const samples: number[] = [];
      for (let i = 0; i < PAGE_REPEATS; i++) {
        const started = performance.now();
        await query.run(store, c);
        samples.push(performance.now() - started);
      }
      out[query.name] = samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
    }
    return out;
  } finally {
    await store.close();
  }
}
