// The Runs page's queries: filters, search, keyset paging both ways and a bounded count, and on
// SQLite the choice of index.
import type { RunCount, RunFilter, RunSummary } from '../records.js';
import { RUN_COLUMNS, toRunSummary, type RunRow } from '../rows.js';
import { fts5Match, queryWords, tsQuery, type SearchTerms } from '../search-document.js';
import { pageSize } from '../store.js';
import { join, raw, sql, type Placeholders, type Query } from './query.js';
import { all, get, type Work } from './work.js';

/** How many runs there are (about: the highest id) and the times of the first and last. */
export interface RunSpan {
  first: number | null;
  last: number | null;
  count: number | null;
}

/**
 * Finding a match's id through the time index (two index-only scans of the range, for its
 * lowest and highest id) costs about this many steps of a walk over the runs (calibrated on
 * 1M runs: docs/performance.md).
 */
const INDEX_WEIGHT = 1.5;

/**
 * Whether a time filter is better served by walking the runs newest first (checking each
 * one's time, stopping at a full page) than by the time index (the lowest and highest id in
 * the range, then a walk within them). SQLite keeps no statistics on the range to decide this
 * itself; here the runs are taken as spread evenly over their time span. A walk passes every
 * run newer than the range, then a page of matches (or, finding fewer, all runs); the index
 * scans every match.
 */
export function walkNewestFirst(filter: RunFilter, span: RunSpan | undefined): boolean {
  if (!span || span.first === null || span.last === null || span.count === null) return false;
  const from = Math.max(filter.createdFrom ?? span.first, span.first);
  const to = Math.min(filter.createdTo ?? span.last + 1, span.last + 1);
  if (to <= from) return false;
  const perMs = span.count / Math.max(1, span.last + 1 - span.first);
  const matches = perMs * (to - from);
  const page = pageSize(filter);
  const walk = matches >= page ? perMs * (span.last + 1 - to) + page : span.count;
  return walk < INDEX_WEIGHT * matches;
}

/**
 * A search takes at most this many matching revisions, the newest of the page's window (its
 * cursor and time range), then their runs: its cost stays bounded however common its words.
 */
export const SEARCH_REVISIONS = 1_000;

/** Where a page's runs can be: below or above a cursor, inside a time range. */
interface Window {
  beforeId?: number;
  afterId?: number;
  createdFrom?: number;
  createdTo?: number;
}

/**
 * The revisions whose search document has every word of the query (search-document.ts), at
 * most SEARCH_REVISIONS of them nearest the cursor. Revision ids grow with run ids and times,
 * so the window becomes a range of revision ids, each end one index lookup; the full-text
 * index then reads from that end.
 */
function matchingRevisions(kind: Placeholders, terms: SearchTerms, w: Window): Query | null {
  const id = raw(kind === 'sqlite' ? 'rowid' : 'id');
  const expression = kind === 'sqlite' ? fts5Match(terms) : tsQuery(terms);
  if (expression === null) return null;
  const bounds: Query[] = [];
  if (w.beforeId) bounds.push(sql`${id} <= (SELECT revision_id FROM runs WHERE id < ${w.beforeId} ORDER BY id DESC LIMIT 1)`);
  if (w.afterId) bounds.push(sql`${id} >= (SELECT revision_id FROM runs WHERE id > ${w.afterId} ORDER BY id LIMIT 1)`);
  if (w.createdTo !== undefined) bounds.push(sql`${id} <= (SELECT revision_id FROM runs WHERE created_at < ${w.createdTo} ORDER BY created_at DESC, id DESC LIMIT 1)`);
  if (w.createdFrom !== undefined) bounds.push(sql`${id} >= (SELECT revision_id FROM runs WHERE created_at >= ${w.createdFrom} ORDER BY created_at, id LIMIT 1)`);
  const match = kind === 'sqlite' ? sql`revision_search MATCH ${expression}` : sql`search @@ to_tsquery('simple', ${expression})`;
  return sql`SELECT ${id} AS id FROM ${raw(kind === 'sqlite' ? 'revision_search' : 'revisions')} WHERE ${join([match, ...bounds], ' AND ')}
    ORDER BY ${id} ${raw(w.afterId ? 'ASC' : 'DESC')} LIMIT ${SEARCH_REVISIONS}`;
}

/** A prefix standing for more indexed words than this is left to the full-text index. */
const MAX_PREFIX_WORDS = 64;

/**
 * The query's words and, on SQLite, the indexed words its last one begins (search_words):
 * FTS5 reads every posting of every word a prefix begins before it can give the newest match
 * (70 ms for a word in each of 1M revisions), where a list of whole words streams (under 1 ms).
 */
function* searchTerms(kind: Placeholders, search: string): Work<SearchTerms> {
  const words = queryWords(search);
  if (kind !== 'sqlite' || words.length === 0) return { words, lastWords: null };
  const last = words.at(-1)!;
  const begun = yield* all<{ word: string }>(
    sql`SELECT word FROM search_words WHERE word >= ${last} AND word < ${`${last}\u{10FFFF}`} ORDER BY word LIMIT ${MAX_PREFIX_WORDS + 1}`,
  );
  return { words, lastWords: begun.length > MAX_PREFIX_WORDS ? null : begun.map((b) => b.word) };
}

/**
 * The conditions of a filter, paging aside. Each filter has an index to start from (status,
 * mapping, on SQLite the ids of a time range; see walkNewestFirst for wide ones); a search
 * first finds the few revisions whose words match (revision_search / revisions_search) and
 * takes their runs by revision, instead of checking every run. PostgreSQL's planner picks its
 * indexes itself.
 */
function runConditions(filter: RunFilter, kind: Placeholders, span: RunSpan | undefined, searched: Query | null | undefined): Query[] {
  const where: Query[] = [];
  const sqlite = kind === 'sqlite';
  const times: Array<[operator: string, at: number]> = [];
  if (filter.createdFrom !== undefined) times.push(['>=', filter.createdFrom]);
  if (filter.createdTo !== undefined) times.push(['<', filter.createdTo]);
  if (sqlite && times.length > 0 && !walkNewestFirst(filter, span)) {
    // A narrow range: the time index gives the ids of its runs (an index-only scan), and the
    // page is walked newest first within them, instead of sorting every match by id on the
    // thread that commits deliveries.
    const range = () => sql`FROM runs INDEXED BY runs_by_created WHERE ${join(times.map(([op, at]) => sql`created_at ${raw(op)} ${at}`), ' AND ')}`;
    where.push(sql`r.id BETWEEN (SELECT min(id) ${range()}) AND (SELECT max(id) ${range()})`);
  }
  if (filter.status) where.push(sql`r.status = ${filter.status}`);
  if (filter.mappingName) where.push(sql`r.mapping_name = ${filter.mappingName}`);
  // A unary + keeps SQLite off the time index for the page itself: it is walked by id.
  for (const [op, at] of times) where.push(sql`${raw(sqlite ? '+' : '')}r.created_at ${raw(op)} ${at}`);
  // A query without a letter or digit, or a prefix no word begins, finds nothing rather than everything.
  if (searched !== undefined) where.push(searched ? sql`r.revision_id IN (${searched})` : sql`1 = 0`);
  return where;
}

const whereClause = (where: readonly Query[]): Query => (where.length ? sql`WHERE ${join(where, ' AND ')}` : sql``);

/**
 * One page of runs, newest first: below `beforeId`, or (`afterId`) the page just above it,
 * read upwards and given newest first by listRuns.
 */
export function runsPage(filter: RunFilter, kind: Placeholders, span?: RunSpan, terms?: SearchTerms): Query {
  const searched = terms ? matchingRevisions(kind, terms, filter) : undefined;
  const where = runConditions(filter, kind, span, searched);
  if (filter.beforeId) where.push(sql`r.id < ${filter.beforeId}`);
  if (filter.afterId) where.push(sql`r.id > ${filter.afterId}`);
  return sql`SELECT ${raw(RUN_COLUMNS)} FROM runs r JOIN calls c ON c.id = r.call_row_id JOIN revisions v ON v.id = r.revision_id
    ${whereClause(where)} ORDER BY r.id ${raw(filter.afterId ? 'ASC' : 'DESC')} LIMIT ${pageSize(filter)}`;
}

/** The SQLite page query as text and values (the query-plan tests read it). */
export function listRunsQuery(filter: RunFilter, span?: RunSpan, terms?: SearchTerms): { sql: string; params: unknown[] } {
  const query = runsPage(filter, 'sqlite', span, terms ?? (filter.search === undefined ? undefined : { words: queryWords(filter.search), lastWords: null }));
  return { sql: query.text('sqlite'), params: [...query.values] };
}

function* timeSpan(kind: Placeholders, filter: RunFilter): Work<RunSpan | undefined> {
  const timed = filter.createdFrom !== undefined || filter.createdTo !== undefined;
  if (kind !== 'sqlite' || !timed) return undefined;
  // Each subquery is one index lookup (min/max optimization).
  return yield* get<RunSpan>(
    sql`SELECT (SELECT min(created_at) FROM runs) AS first, (SELECT max(created_at) FROM runs) AS last, (SELECT max(id) FROM runs) AS count`,
  );
}

export function* listRuns(kind: Placeholders, filter: RunFilter): Work<RunSummary[]> {
  const span = yield* timeSpan(kind, filter);
  const terms = filter.search === undefined ? undefined : yield* searchTerms(kind, filter.search);
  const rows = (yield* all<RunRow>(runsPage(filter, kind, span, terms))).map(toRunSummary);
  return filter.afterId ? rows.reverse() : rows;
}

/**
 * How many runs match a filter (paging ignored), counting at most `bound` + 1 of them: a
 * broad filter costs a bounded walk, and the page says "more than". A search counts within the
 * revisions it takes (SEARCH_REVISIONS): when it took that many, there may be more.
 */
export function* countRuns(kind: Placeholders, filter: RunFilter, bound: number): Work<RunCount> {
  const span = yield* timeSpan(kind, filter);
  const window = { createdFrom: filter.createdFrom, createdTo: filter.createdTo };
  const terms = filter.search === undefined ? undefined : yield* searchTerms(kind, filter.search);
  const matched = terms ? matchingRevisions(kind, terms, window) : undefined;
  const where = runConditions(filter, kind, span, matched ? sql`SELECT id FROM matched` : matched);
  const counted = sql`SELECT count(*) FROM (SELECT 1 FROM runs r JOIN calls c ON c.id = r.call_row_id JOIN revisions v ON v.id = r.revision_id
      ${whereClause(where)} LIMIT ${bound + 1}) AS runs_matched`;
  const row = matched
    ? yield* get<{ n: number | string; revisions: number | string }>(
        sql`WITH matched AS MATERIALIZED (${matched}) SELECT (${counted}) AS n, (SELECT count(*) FROM matched) AS revisions`,
      )
    : yield* get<{ n: number | string; revisions: number | string }>(sql`SELECT (${counted}) AS n, 0 AS revisions`);
  const n = Number(row!.n);
  if (n > bound) return { count: bound, atLeast: true };
  return { count: n, atLeast: Number(row!.revisions) >= SEARCH_REVISIONS };
}
