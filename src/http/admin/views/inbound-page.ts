// The inbound-call variable requests: a list (newest first) and one request's body, answer and
// lookups. Phones and emails are masked as on the run pages; every value is escaped by html``.
import type { InboundDetail, InboundSummary } from '../../../store/store.js';
import { maskPhone, maskText, maskValue } from '../../../masking.js';
import { formatDuration, formatTime, pretty } from '../format.js';
import { html } from '../html.js';
import { badge, layout } from './layout.js';

const outcomeBadge = (r: InboundSummary) => badge(r.outcome === 'invalid' ? 'dead' : r.deadlineHit ? 'retrying' : 'succeeded');
const outcomeText = (r: InboundSummary) => (r.outcome === 'invalid' ? `refused ${r.status}` : r.deadlineHit ? 'answered at the deadline' : 'answered');

export function inboundListPage(options: { requests: InboundSummary[]; csrf: string }): string {
  return layout(
    'Inbound calls',
    html`<h1>Inbound calls</h1>
<p class="muted">Variable requests the platform sent before connecting an inbound call, and what aftercall answered.</p>
<table>
<thead><tr><th>#</th><th>Received (UTC)</th><th>Caller</th><th>Assistant</th><th>Mappings</th><th>Outcome</th><th>Lookups failed or late</th><th>Took</th></tr></thead>
<tbody>${options.requests.length
      ? options.requests.map(
          (r) => html`<tr><td><a href="/admin/inbound/${r.id}">${r.id}</a></td><td>${formatTime(r.receivedAt)}</td>
<td>${maskPhone(r.customerPhone)}</td><td>${maskPhone(r.assistantPhone)}</td><td>${r.mappings.join(', ') || '—'}</td>
<td>${outcomeBadge(r)} ${outcomeText(r)}</td><td>${r.problems}</td><td>${formatDuration(r.durationMs)}</td></tr>`,
        )
      : html`<tr><td colspan="8" class="muted">No inbound requests yet.</td></tr>`}</tbody>
</table>`,
    { csrf: options.csrf },
  );
}

export function inboundDetailPage(options: { request: InboundDetail; csrf: string }): string {
  const r = options.request;
  const json = (value: unknown) => html`<pre>${pretty(maskValue(value, { content: 'mask' }))}</pre>`;
  return layout(
    `Inbound #${r.id}`,
    html`<h1>Inbound request #${r.id}</h1>
<p>${outcomeBadge(r)} ${outcomeText(r)} in ${formatDuration(r.durationMs)}</p>
<dl>
<dt>Received (UTC)</dt><dd>${formatTime(r.receivedAt)}</dd>
<dt>Request id</dt><dd><code>${r.requestId}</code></dd>
<dt>Sender</dt><dd>${r.sender}</dd>
<dt>Caller</dt><dd>${maskPhone(r.customerPhone)}</dd>
<dt>Assistant</dt><dd>${maskPhone(r.assistantPhone)}</dd>
<dt>Mappings</dt><dd>${r.mappings.join(', ') || '—'}</dd>
</dl>
<h2>Answer</h2>
${json(r.answer)}
<h2>Lookups</h2>
<table>
<thead><tr><th>Mapping</th><th>Lookup</th><th>Kind</th><th>Outcome</th><th>Took</th><th>Error</th></tr></thead>
<tbody>${r.lookups.length
      ? r.lookups.map(
          (l) => html`<tr><td>${l.mapping}</td><td>${l.name}</td><td><code>${l.use}</code></td><td>${l.outcome}</td><td>${formatDuration(l.ms)}</td><td>${maskText(l.error ?? '')}</td></tr>`,
        )
      : html`<tr><td colspan="6" class="muted">No lookups ran.</td></tr>`}</tbody>
</table>
<h2>Request body</h2>
<details><summary>${r.rawBody.length} bytes</summary><pre>${maskText(r.rawBody.toString('utf8').slice(0, 20_000))}</pre></details>
<p><a href="/admin/inbound">All inbound requests</a></p>`,
    { csrf: options.csrf },
  );
}
