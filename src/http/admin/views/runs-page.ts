import { RUN_STATUSES } from '../../../store/run-status.js';
import { CONVERSATION_KEY_PREFIX, type RunSummary } from '../../../store/store.js';
import { maskPhone } from '../../../masking.js';
import { formatDuration, formatTime } from '../format.js';
import { html } from '../html.js';
import { badge, layout } from './layout.js';

export interface RunFilters {
  status?: string;
  mapping?: string;
  from?: string;
  to?: string;
  q?: string;
}

export function runsPage(options: {
  runs: RunSummary[];
  filters: RunFilters;
  mappings: string[];
  nextBefore: number | null;
  csrf: string;
}): string {
  const { runs, filters } = options;
  const query = (extra: Record<string, string | number>) =>
    `/admin?${new URLSearchParams({ ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v)), ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, String(v)])) })}`;
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
  return layout(
    'Runs',
    html`<h1>Runs</h1>
<form class="filters" method="get" action="/admin">
  <label>Status <select name="status"><option value="">any</option>${RUN_STATUSES.map(
    (s) => html`<option value="${s}"${s === filters.status ? html` selected` : ''}>${s}</option>`,
  )}</select></label>
  <label>Mapping <select name="mapping"><option value="">any</option>${options.mappings.map(
    (m) => html`<option value="${m}"${m === filters.mapping ? html` selected` : ''}>${m}</option>`,
  )}</select></label>
  <label>From <input type="date" name="from" value="${filters.from ?? ''}"></label>
  <label>To <input type="date" name="to" value="${filters.to ?? ''}"></label>
  <label>Phone or call id <input type="search" name="q" value="${filters.q ?? ''}" placeholder="+4915… or 12345"></label>
  <button class="primary" type="submit">Filter</button>
</form>
<table class="runs cards">
<thead><tr><th>Time (UTC)</th><th>Call</th><th>Rev</th><th>Sender</th><th>Customer</th><th>Mapping</th><th>Status</th><th>Score</th><th>Duration</th></tr></thead>
<tbody>${rows.length ? rows : html`<tr><td colspan="9" class="muted">No runs match.</td></tr>`}</tbody>
</table>
${options.nextBefore ? html`<p class="pager"><a href="${query({ before: options.nextBefore })}">Older runs →</a></p>` : ''}`,
    { csrf: options.csrf },
  );
}
