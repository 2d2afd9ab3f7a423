// The Runs page by call: one row per call, its runs folded in under it, with the runs that
// matched the page's filter marked. Also the CSS of this view and of the call page.
import { RUN_STATUSES } from '../../../store/run-status.js';
import { CONVERSATION_KEY_PREFIX, type RunSummary } from '../../../store/store.js';
import { maskPhone } from '../../../masking.js';
import { formatTime } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { badge } from './layout.js';

export interface CallGroup {
  sender: string;
  callId: string;
  customerPhone: string | null;
  /** All runs of the call, newest first. */
  runs: RunSummary[];
  /** Ids of the runs that matched the filter. */
  matched: ReadonlySet<number>;
}

/** The call page of a call: both parts encoded, a sender or call id may hold `/`, `?` or `#`. */
export function callHref(sender: string, callId: string): string {
  return `/admin/calls/${encodeURIComponent(sender)}/${encodeURIComponent(callId)}`;
}

const newestFirst = (a: RunSummary, b: RunSummary) => b.createdAt - a.createdAt || b.id - a.id;

/**
 * The calls of a page of runs, in the order the page's runs come (where each call first
 * appears); each call's runs are all of its runs in `allRuns` (and the page's own, should
 * `allRuns` lack one), newest first; `matched` holds the ids of its runs on the page.
 */
export function groupRunsByCall(page: RunSummary[], allRuns: RunSummary[]): CallGroup[] {
  const key = (r: Pick<RunSummary, 'sender' | 'callId'>) => JSON.stringify([r.sender, r.callId]);
  const groups = new Map<string, { sender: string; callId: string; runs: Map<number, RunSummary>; matched: Set<number> }>();
  for (const run of page) {
    let group = groups.get(key(run));
    if (!group) {
      group = { sender: run.sender, callId: run.callId, runs: new Map(), matched: new Set() };
      groups.set(key(run), group);
    }
    group.matched.add(run.id);
  }
  for (const run of allRuns) groups.get(key(run))?.runs.set(run.id, run);
  for (const run of page) {
    const group = groups.get(key(run))!;
    if (!group.runs.has(run.id)) group.runs.set(run.id, run);
  }
  return [...groups.values()].map((g) => {
    const runs = [...g.runs.values()].sort(newestFirst);
    return {
      sender: g.sender,
      callId: g.callId,
      customerPhone: runs.find((r) => r.customerPhone)?.customerPhone ?? null,
      runs,
      matched: g.matched,
    };
  });
}

export function callGroupsTable(groups: CallGroup[]): SafeHtml {
  return html`<table class="cards calls">
<thead><tr><th>Time (UTC)</th><th>Call</th><th>Sender</th><th>Customer</th><th>Revisions</th><th>Status</th><th>Runs</th></tr></thead>
<tbody>${groups.length ? groups.map(groupRow) : html`<tr><td colspan="7" class="muted">No calls match.</td></tr>`}</tbody>
</table>`;
}

function groupRow(group: CallGroup): SafeHtml {
  const runs = [...group.runs].sort(newestFirst);
  const newest = runs.reduce<number | null>((at, r) => (at === null || r.createdAt > at ? r.createdAt : at), null);
  const byRevision = new Map<number, RunSummary[]>();
  for (const r of runs) byRevision.set(r.revision, [...(byRevision.get(r.revision) ?? []), r]);
  const revisions = [...byRevision].sort(([a], [b]) => b - a);
  return html`<tr>
  <td data-label="Time">${formatTime(newest)}</td>
  <td data-label="Call"><a href="${callHref(group.sender, group.callId)}">${group.callId}</a>${group.callId.startsWith(CONVERSATION_KEY_PREFIX) ? html` <span class="badge">chat</span>` : ''}${runs.some((r) => r.isTest) ? html` <span class="badge test">test</span>` : ''}</td>
  <td data-label="Sender">${group.sender}</td>
  <td data-label="Customer">${maskPhone(group.customerPhone)}</td>
  <td data-label="Revisions" class="num">${byRevision.size}</td>
  <td data-label="Status">${statusSummary(runs)}</td>
  <td data-label="Runs" class="wide"><details class="call-runs"><summary>${runs.length === 1 ? '1 run' : `${runs.length} runs`}${group.matched.size && group.matched.size < runs.length ? html` <span class="muted">(${group.matched.size} matched)</span>` : ''}</summary>
${revisions.map(
    ([revision, revisionRuns]) => html`<div class="call-revision"><span class="muted">Revision ${revision}</span><ul>${revisionRuns.map(
      (r) => html`<li${group.matched.has(r.id) ? html` class="matched"` : ''}><a href="/admin/runs/${r.id}">#${r.id}</a> ${r.mappingName} ${badge(r.status)}${group.matched.has(r.id) ? html` <span class="match">match</span>` : ''}</li>`,
    )}</ul></div>`,
  )}</details></td>
</tr>`;
}

/** How many runs are in each status, in the Runs page's order of statuses: `2 succeeded 1 dead`. */
export function statusSummary(runs: readonly RunSummary[]): SafeHtml {
  return html`<span class="status-summary">${RUN_STATUSES.map((status) => {
    const n = runs.filter((r) => r.status === status).length;
    return n ? html`<span class="status-count">${n} ${badge(status)}</span> ` : '';
  })}</span>`;
}

/** The CSS of the call groups and the call page; appended to ADMIN_CSS (the same variables). */
export const CALL_CSS = `
.status-summary { display:inline-flex; flex-wrap:wrap; gap:4px 8px; align-items:center; }
.status-count { white-space:nowrap; font-variant-numeric:tabular-nums; }
details.call-runs > summary { white-space:nowrap; }
details.call-runs .call-revision { margin:6px 0 0; }
details.call-runs ul { margin:2px 0 0; padding-left:18px; }
details.call-runs li { margin:2px 0; overflow-wrap:anywhere; }
details.call-runs li.matched { font-weight:600; }
.match { display:inline-block; padding:0 6px; border-radius:10px; font-size:11px; font-weight:600; color:var(--info); background:var(--info-bg); border:1px solid var(--info); }
.call-facts { margin-bottom:8px; }
section.revision { background:var(--surface); border:1px solid var(--line); border-radius:4px; padding:8px 10px; margin:0 0 12px; }
section.revision h3 { font-size:15px; margin:0 0 8px; display:flex; flex-wrap:wrap; gap:4px 8px; align-items:baseline; }
section.revision table { margin:6px 0; }
section.revision > p { margin:4px 0; }
section.revision .diff-note { font-size:12px; }
section.revision h3 .call-status { font-weight:400; color:var(--muted); }
table.variable-diff code, table.variable-list code { background:var(--code); padding:0 4px; border-radius:3px; }
.change { display:inline-block; white-space:nowrap; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; }
.change.added { background:var(--ok-bg); color:var(--ok); }
.change.removed { background:var(--bad-bg); color:var(--bad); }
.change.changed { background:var(--warn-bg); color:var(--warn); }
.variable-diff .arrow { color:var(--muted); padding:0 4px; }
.variable-diff .before code { text-decoration:line-through; text-decoration-color:var(--muted); }
.call-run-count { margin:4px 0; }
@media (max-width: 700px) {
  section.revision { padding:6px; }
  table.calls tr { grid-template-columns:repeat(2, minmax(0, 1fr)); }
  table.calls td[data-label=Call], table.calls td[data-label=Status] { grid-column:1 / -1; }
  details.call-runs > summary { white-space:normal; }
}
`;
