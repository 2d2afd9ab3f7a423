import { REQUEUEABLE, RUN_STATUSES } from '../../../store/run-status.js';
import { SEARCH_REVISIONS } from '../../../store/sql/list-runs.js';
import { CONVERSATION_KEY_PREFIX, type RunCount, type RunSummary } from '../../../store/store.js';
import { maskPhone } from '../../../masking.js';
import { formatDuration, formatTime } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { callGroupsTable, type CallGroup } from './call-groups.js';
import { badge, layout } from './layout.js';
import { liveControl } from './live-control.js';

/** The list's query string as the operator typed it (times as `datetime-local`, UTC). */
export interface RunFilters {
  status?: string;
  mapping?: string;
  from?: string;
  to?: string;
  q?: string;
  view?: 'runs' | 'calls';
  range?: '24h' | '7d';
}

/** Where the shown page sits: the cursors to the pages either side, when there are any. */
export interface RunsPaging {
  newerAfter: number | null;
  olderBefore: number | null;
}

export function runsPage(options: {
  runs: RunSummary[];
  /** Set in the grouped view: the page's runs folded by call. */
  groups?: CallGroup[];
  filters: RunFilters;
  mappings: string[];
  count: RunCount;
  paging: RunsPaging;
  /** The "at a glance" panel, drawn by activity-panel.ts. */
  activity: SafeHtml;
  csrf: string;
  notice?: string;
}): string {
  const { filters, paging } = options;
  const kept = Object.entries(filters).filter(([, v]) => v) as Array<[string, string]>;
  const query = (extra: Record<string, string | number>) =>
    `/admin?${new URLSearchParams([...kept.filter(([k]) => !(k in extra)), ...Object.entries(extra).map(([k, v]) => [k, String(v)] as [string, string])])}`;
  const view = filters.view ?? 'runs';
  const counted = `${options.count.count.toLocaleString('en-US')}${options.count.atLeast ? '+' : ''}`;
  const retryable = filters.status !== undefined && (REQUEUEABLE as readonly string[]).includes(filters.status);
  const bulkQuery = new URLSearchParams(kept.filter(([k]) => !['view', 'range'].includes(k)));
  return layout(
    'Runs',
    html`<div class="page-head"><h1>Runs</h1>${liveControl()}</div>
${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ''}
${options.activity}
<form class="filters" method="get" action="/admin">
  <label>Search <input type="search" name="q" value="${filters.q ?? ''}" placeholder="call id, phone, campaign, words…"></label>
  <label>Status <select name="status"><option value="">any</option>${RUN_STATUSES.map(
    (s) => html`<option value="${s}"${s === filters.status ? html` selected` : ''}>${s}</option>`,
  )}</select></label>
  <label>Mapping <select name="mapping"><option value="">any</option>${options.mappings.map(
    (m) => html`<option value="${m}"${m === filters.mapping ? html` selected` : ''}>${m}</option>`,
  )}</select></label>
  <label>From (UTC) <input type="datetime-local" name="from" value="${filters.from ?? ''}"></label>
  <label>To (UTC) <input type="datetime-local" name="to" value="${filters.to ?? ''}"></label>
  <input type="hidden" name="view" value="${view}">
  <button class="primary" type="submit">Filter</button>
</form>
<div data-live-region="runs">
<div class="list-head">
  <p class="count"><strong>${counted}</strong> ${options.count.count === 1 && !options.count.atLeast ? 'run matches' : 'runs match'}</p>
  <nav class="views" aria-label="View">
    <a href="${query({ view: 'runs' })}"${view === 'runs' ? html` aria-current="page"` : ''}>Runs</a>
    <a href="${query({ view: 'calls' })}"${view === 'calls' ? html` aria-current="page"` : ''}>By call</a>
  </nav>
  ${options.count.atLeast && filters.q ? html`<p class="muted hint">A search reads the newest ${SEARCH_REVISIONS.toLocaleString('en-US')} matching revisions of its time range and page; add a word or a time range to reach older ones.</p>` : ''}
  ${retryable && options.count.count > 0 ? html`<a class="button" href="/admin/bulk/retry?${bulkQuery.toString()}">Retry these ${counted} runs…</a>` : ''}
</div>
${options.groups ? callGroupsTable(options.groups) : runsTable(options.runs)}
${pager(paging, query)}
</div>`,
    { csrf: options.csrf },
  );
}

function runsTable(runs: RunSummary[]): SafeHtml {
  const rows = runs.map(
    (r) => html`<tr>
  <td data-label="Time">${formatTime(r.createdAt)}</td>
  <td data-label="Call"><a href="/admin/runs/${r.id}">${r.callId}</a>${r.callId.startsWith(CONVERSATION_KEY_PREFIX) ? html` <span class="badge">chat</span>` : ''}${r.isTest ? html` <span class="badge test">test</span>` : ''}</td>
  <td data-label="Rev" class="num">${r.revision}</td>
  <td data-label="Sender">${r.sender}</td>
  <td data-label="Customer">${maskPhone(r.customerPhone)}</td>
  <td data-label="Mapping">${r.mappingName}</td>
  <td data-label="Status">${badge(r.status)}</td>
  <td data-label="Score" class="num">${r.score ? `${r.score.value}${r.score.band ? ` ${r.score.band}` : ''}` : '—'}</td>
  <td data-label="Duration" class="num">${formatDuration(r.finishedAt ? r.finishedAt - r.createdAt : null)}</td>
</tr>`,
  );
  return html`<table class="runs cards">
<thead><tr><th>Time (UTC)</th><th>Call</th><th>Rev</th><th>Sender</th><th>Customer</th><th>Mapping</th><th>Status</th><th>Score</th><th>Duration</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="9" class="muted">No runs match.</td></tr>`}</tbody>
</table>`;
}

function pager(paging: RunsPaging, query: (extra: Record<string, string | number>) => string): SafeHtml {
  if (paging.newerAfter === null && paging.olderBefore === null) return html``;
  // The filters never hold a cursor, so each link carries exactly one.
  return html`<nav class="pager" aria-label="Pages">
  ${paging.newerAfter !== null ? html`<a rel="prev" href="${query({ after: paging.newerAfter })}">← Newer</a>` : html`<span></span>`}
  ${paging.olderBefore !== null ? html`<a rel="next" href="${query({ before: paging.olderBefore })}">Older →</a>` : ''}
</nav>`;
}
