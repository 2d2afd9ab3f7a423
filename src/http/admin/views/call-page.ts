// One call's whole story: every delivery the sender made, every revision they created (with what
// changed in its extracted variables) and every run each revision started.
import type { Scalar } from '../../../payload/call.js';
import { CONVERSATION_KEY_PREFIX, type CallDelivery, type CallHistory, type CallRevision, type RunSummary } from '../../../store/store.js';
import { maskPhone, maskText, maskValue } from '../../../masking.js';
import { formatTime } from '../format.js';
import { html, type SafeHtml } from '../html.js';
import { variableDiff, type VariableChange } from '../variable-diff.js';
import { statusSummary } from './call-groups.js';
import { badge, jsonViewer, layout } from './layout.js';
import { liveControl } from './live-control.js';

export function callPage(options: { history: CallHistory; csrf: string }): string {
  const { history } = options;
  const revisions = [...history.revisions].sort((a, b) => a.revision - b.revision);
  const deliveries = [...history.deliveries].sort((a, b) => a.receivedAt - b.receivedAt || a.receiptId - b.receiptId);
  const newest = revisions.at(-1);

  return layout(
    `Call ${history.callId}`,
    html`<div class="page-head"><h1>Call ${history.callId}${history.callId.startsWith(CONVERSATION_KEY_PREFIX) ? html` <span class="badge">chat</span>` : ''}</h1>${liveControl()}</div>
<div data-live-region="call">
<div class="grid call-facts">
  <div><span>Sender</span>${history.sender}</div>
  <div><span>Platform</span>${newest ? `${newest.call.platform} / ${newest.call.variant}` : '—'}</div>
  <div><span>Customer</span>${maskPhone(newest?.call.customer_phone)}</div>
  <div><span>First delivery</span>${formatTime(deliveries[0]?.receivedAt)}</div>
  <div><span>Last delivery</span>${formatTime(deliveries.at(-1)?.receivedAt)}</div>
  <div><span>Revisions</span>${revisions.length}</div>
</div>
<h2>Deliveries</h2>
<table class="cards call-deliveries">
<thead><tr><th>Received (UTC)</th><th>Outcome</th><th>Revision</th><th>Request id</th><th>Headers</th></tr></thead>
<tbody>${deliveries.length
      ? deliveries.map(deliveryRow)
      : html`<tr><td colspan="5" class="muted">No delivery of this call is stored.</td></tr>`}</tbody>
</table>

<h2>Revisions</h2>
${revisions.length
  ? revisions.map((revision, i) => revisionSection(revision, revisions[i - 1], history.runs))
  : html`<p class="muted">No revision of this call is stored.</p>`}

<h2>Runs</h2>
<p class="call-run-count">${runCount(history.runs.length)}${history.runs.length ? html`: ${statusSummary(history.runs)}` : ''}</p>
</div>`,
    { csrf: options.csrf },
  );
}

function deliveryRow(d: CallDelivery): SafeHtml {
  return html`<tr><td data-label="Received (UTC)">${formatTime(d.receivedAt)}</td><td data-label="Outcome">${badge(d.outcome)}</td>
<td data-label="Revision" class="num"><a href="#revision-${d.revision}">${d.revision}</a></td>
<td data-label="Request id" class="wide"><code>${d.requestId}</code></td>
<td data-label="Headers" class="wide">${d.headers ? jsonViewer('Headers', maskValue(d.headers, { content: 'mask' })) : html`<span class="muted">not recorded</span>`}</td></tr>`;
}

/**
 * A revision with what changed against the one before it (revision 1, or one whose predecessor
 * is no longer stored: all its variables) and the runs it started.
 */
function revisionSection(revision: CallRevision, previous: CallRevision | undefined, allRuns: RunSummary[]): SafeHtml {
  const runs = allRuns.filter((r) => r.revision === revision.revision);
  const variables = revision.call.extracted_variables;
  const comparable = previous !== undefined && revision.revision >= 2;
  return html`<section class="revision" id="revision-${revision.revision}">
<h3>Revision ${revision.revision} <span class="muted">${formatTime(revision.createdAt)}</span>${revision.isTest ? html` <span class="badge test">test</span>` : ''} <span class="call-status">call ${badge(revision.call.status)}</span></h3>
${comparable
  ? variableChanges(variableDiff(previous.call.extracted_variables, variables), previous.revision)
  : html`${revision.revision >= 2 ? html`<p class="muted">The revision before this one is no longer stored; its extracted variables:</p>` : ''}${variableList(variables)}`}
${runsTable(runs)}
</section>`;
}

function variableChanges(changes: VariableChange[], against: number): SafeHtml {
  if (!changes.length) return html`<p class="muted">No change in the extracted variables since revision ${against}.</p>`;
  return html`<p class="muted diff-note">Extracted variables changed since revision ${against}:</p>
<table class="cards variable-diff">
<thead><tr><th>Variable</th><th>Change</th><th>Before → after</th></tr></thead>
<tbody>${changes.map(
    (c) => html`<tr><td data-label="Variable">${maskText(c.name)}</td><td data-label="Change"><span class="change ${c.kind}">${c.kind}</span></td>
<td data-label="Before → after" class="wide"><span class="before">${c.kind === 'added' ? html`<span class="muted">—</span>` : html`<code>${shown(c.name, c.before)}</code>`}</span> <span class="arrow">→</span> <span class="after">${c.kind === 'removed' ? html`<span class="muted">—</span>` : html`<code>${shown(c.name, c.after)}</code>`}</span></td></tr>`,
  )}</tbody>
</table>`;
}

function variableList(variables: Record<string, Scalar>): SafeHtml {
  const names = Object.keys(variables).sort();
  if (!names.length) return html`<p class="muted">No extracted variables.</p>`;
  return html`<table class="cards variable-list">
<thead><tr><th>Variable</th><th>Value</th></tr></thead>
<tbody>${names.map((name) => html`<tr><td data-label="Variable">${maskText(name)}</td><td data-label="Value" class="wide"><code>${shown(name, variables[name])}</code></td></tr>`)}</tbody>
</table>`;
}

function runsTable(runs: RunSummary[]): SafeHtml {
  if (!runs.length) return html`<p class="muted">No run for this revision.</p>`;
  return html`<table class="cards call-runs">
<thead><tr><th>Run</th><th>Mapping</th><th>Status</th><th>Attempts</th><th>Last error</th></tr></thead>
<tbody>${runs.map(
    (r) => html`<tr><td data-label="Run"><a href="/admin/runs/${r.id}">#${r.id}</a>${r.isTest ? html` <span class="badge test">test</span>` : ''}</td><td data-label="Mapping">${r.mappingName}</td>
<td data-label="Status">${badge(r.status)}</td><td data-label="Attempts" class="num">${r.attempts}</td>
<td data-label="Last error" class="wide">${r.lastError ? html`<span class="error">${maskText(r.lastError)}</span>` : html`<span class="muted">—</span>`}</td></tr>`,
  )}</tbody>
</table>`;
}

/**
 * A variable's value as JSON (so `1` and `"1"` read differently), masked by its name as a payload
 * field is (a `phone` variable is hidden even when it does not look like a number) and then as
 * text (a phone written as a bare number).
 */
function shown(name: string, value: Scalar | undefined): string {
  const masked = Object.values(maskValue({ [name]: value ?? null }, { content: 'mask' }) as Record<string, unknown>)[0];
  return maskText(JSON.stringify(masked) ?? 'null');
}

function runCount(n: number): string {
  return n === 1 ? '1 run' : `${n} runs`;
}
