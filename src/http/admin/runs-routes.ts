// The Runs list (runs or calls, filtered, searched, paged both ways, counted, with the activity
// panel) and a call's page. Mounted behind the admin session (admin-routes.ts).
import { Router, type Request } from 'express';
import type { MappingRegistry } from '../../mapping/mapping-registry.js';
import { isRunStatus } from '../../store/run-status.js';
import type { Activity, RunFilter, RunSummary, Store } from '../../store/store.js';
import { html } from './html.js';
import { noticeFrom } from './notices.js';
import { activityPanel, connectorRates, type ActivityRange } from './views/activity-panel.js';
import { groupRunsByCall } from './views/call-groups.js';
import { callPage } from './views/call-page.js';
import { layout } from './views/layout.js';
import { runsPage, type RunFilters, type RunsPaging } from './views/runs-page.js';

export interface RunsRoutesDeps {
  store: Store;
  mappings: MappingRegistry;
  now: () => number;
  /** How long the activity counts are reused across page views (and live polls); 0: never. */
  activityCacheMs?: number;
}

const PAGE_SIZE = 50;
const HOUR = 3_600_000;
/** Each range as buckets: 24 hours, or 28 quarter days. */
const RANGES: Record<ActivityRange, { buckets: number; bucketMs: number }> = {
  '24h': { buckets: 24, bucketMs: HOUR },
  '7d': { buckets: 28, bucketMs: 6 * HOUR },
};
const DEFAULT_ACTIVITY_CACHE_MS = 15_000;

export function createRunsRoutes(deps: RunsRoutesDeps): Router {
  const router = Router();
  const cached = new Map<ActivityRange, { at: number; activity: Activity }>();
  const cacheMs = deps.activityCacheMs ?? DEFAULT_ACTIVITY_CACHE_MS;

  /** One store query per range and cache period, however many operators keep the page open. */
  async function activity(range: ActivityRange): Promise<Activity> {
    const now = deps.now();
    const hit = cached.get(range);
    if (hit && now - hit.at < cacheMs) return hit.activity;
    const { buckets, bucketMs } = RANGES[range];
    const to = (Math.floor(now / bucketMs) + 1) * bucketMs;
    const fresh = await deps.store.activity(to - buckets * bucketMs, to, bucketMs);
    cached.set(range, { at: now, activity: fresh });
    return fresh;
  }

  const connectorOf = (mappingName: string, stepId: string): string | null => {
    const step = deps.mappings.current().find((m) => m.name === mappingName)?.steps.find((s) => s.id === stepId);
    return step ? step.kind.kind.split('.')[0]! : null;
  };

  router.get('/', async (req, res) => {
    const filters = readFilters(req.query);
    const before = positiveInt(req.query.before);
    const after = before === undefined ? positiveInt(req.query.after) : undefined;
    const filter = runFilterOf(filters);
    const [page, count, recent] = await Promise.all([
      deps.store.listRuns({ ...filter, beforeId: before, afterId: after, limit: PAGE_SIZE + 1 }),
      deps.store.countRuns(filter),
      activity(filters.range ?? '24h'),
    ]);
    const { shown, paging } = pageOf(page, { before, after });
    const groups = filters.view === 'calls' ? groupRunsByCall(shown, await deps.store.listCallRuns(distinctCalls(shown))) : undefined;
    const range = filters.range ?? '24h';
    const rangeHref = (r: ActivityRange) => `/admin?${new URLSearchParams({ ...definedOnly(filters), range: r })}`;
    res.status(200).type('html').send(
      runsPage({
        runs: shown,
        groups,
        filters,
        mappings: deps.mappings.current().map((m) => m.name),
        count,
        paging,
        activity: activityPanel({ activity: recent, rates: connectorRates(recent.steps, connectorOf), range, rangeHref }),
        csrf: req.adminSession!.csrf,
        notice: noticeFrom(req.query),
      }),
    );
  });

  router.get('/calls/:sender/:callId', async (req, res) => {
    const history = await deps.store.getCallHistory(String(req.params.sender), String(req.params.callId));
    if (!history) {
      res.status(404).type('html').send(layout('Not found', html`<p>No call ${req.params.callId} from ${req.params.sender}.</p>`, req.adminSession));
      return;
    }
    res.status(200).type('html').send(callPage({ history, csrf: req.adminSession!.csrf }));
  });

  return router;
}

/** The page to show of up to PAGE_SIZE + 1 runs, and the cursors to either side. */
function pageOf(runs: RunSummary[], cursor: { before?: number; after?: number }): { shown: RunSummary[]; paging: RunsPaging } {
  const more = runs.length > PAGE_SIZE;
  if (cursor.after !== undefined) {
    // Read upwards from `after`: the extra run is the newest, beyond this page.
    const shown = more ? runs.slice(1) : runs;
    return { shown, paging: { newerAfter: more ? shown[0]!.id : null, olderBefore: shown.length ? shown[shown.length - 1]!.id : cursor.after + 1 } };
  }
  const shown = runs.slice(0, PAGE_SIZE);
  return {
    shown,
    paging: {
      newerAfter: cursor.before !== undefined ? (shown[0]?.id ?? cursor.before - 1) : null,
      olderBefore: more ? shown[shown.length - 1]!.id : null,
    },
  };
}

function distinctCalls(runs: RunSummary[]): Array<{ sender: string; callId: string }> {
  const seen = new Map(runs.map((r) => [`${r.sender}\u0000${r.callId}`, { sender: r.sender, callId: r.callId }]));
  return [...seen.values()];
}

/** What the store is asked for the typed filters (paging aside). */
export function runFilterOf(filters: RunFilters): RunFilter {
  return {
    status: isRunStatus(filters.status) ? filters.status : undefined,
    mappingName: filters.mapping || undefined,
    createdFrom: filters.from ? timeFrom(filters.from) : undefined,
    createdTo: filters.to ? timeTo(filters.to) : undefined,
    search: filters.q || undefined,
  };
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/;

export function readFilters(query: Request['query']): RunFilters {
  const text = (v: unknown) => (typeof v === 'string' ? v.trim().slice(0, 100) : undefined);
  const time = (v: unknown) => (typeof v === 'string' && (DATE.test(v) || DATE_TIME.test(v)) && !Number.isNaN(timeFrom(v)) ? v : undefined);
  return {
    status: text(query.status),
    mapping: text(query.mapping),
    from: time(query.from),
    to: time(query.to),
    q: text(query.q),
    view: query.view === 'calls' ? 'calls' : undefined,
    range: query.range === '7d' ? '7d' : undefined,
  };
}

/** The first millisecond a `from` field means, in UTC. */
function timeFrom(value: string): number {
  return Date.parse(DATE.test(value) ? `${value}T00:00:00Z` : `${value}Z`);
}

/** Just after the last millisecond a `to` field means: the whole day, minute or second given. */
function timeTo(value: string): number {
  const span = DATE.test(value) ? 24 * HOUR : value.length > 16 ? 1_000 : 60_000;
  return timeFrom(value) + span;
}

function definedOnly(filters: RunFilters): Record<string, string> {
  return Object.fromEntries(Object.entries(filters).filter((entry): entry is [string, string] => typeof entry[1] === 'string' && entry[1] !== ''));
}

export function positiveInt(value: unknown): number | undefined {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}
