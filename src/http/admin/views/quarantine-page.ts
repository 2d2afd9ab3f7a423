import type { Receipt } from '../../../store/store.js';
import { maskText } from '../../../masking.js';
import { formatTime } from '../format.js';
import { html } from '../html.js';
import { jsonViewer, layout, postButton } from './layout.js';

export function quarantinePage(options: { receipts: Receipt[]; csrf: string; notice?: string }): string {
  const open = options.receipts.filter((r) => r.rawBody && !r.replayedAt);
  return layout(
    'Quarantine',
    html`<h1>Quarantine</h1>
<p class="muted">Deliveries rejected as malformed or invalid, kept for a replay once the schema or SCHEMA_MODE allows them, or until dismissed.</p>
${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ''}
<form id="bulk" method="post" action="/admin/quarantine/bulk"><input type="hidden" name="_csrf" value="${options.csrf}"></form>
${open.length ? html`<div class="actions bulk">
  <button class="primary" type="submit" form="bulk" name="action" value="replay">Replay checked</button>
  <button class="danger" type="submit" form="bulk" name="action" value="dismiss">Dismiss checked</button>
</div>` : ''}
<table class="cards">
<thead><tr><th></th><th>#</th><th>Received (UTC)</th><th>Sender</th><th>Reason</th><th>Schema errors</th><th>Payload</th><th>Headers</th><th></th></tr></thead>
<tbody>${options.receipts.length
      ? options.receipts.map(
          (r) => html`<tr><td data-label="Select">${r.rawBody && !r.replayedAt ? html`<input type="checkbox" name="ids" value="${r.id}" form="bulk" aria-label="Select #${r.id}">` : ''}</td>
<td data-label="#">${r.id}</td><td data-label="Received (UTC)">${formatTime(r.receivedAt)}</td><td data-label="Sender">${r.sender}</td><td data-label="Reason">${r.reason}</td>
<td data-label="Schema errors" class="wide"><ul>${r.issues.map((i) => html`<li><code>${i.path || '(body)'}</code>: ${i.message}</li>`)}</ul></td>
<td data-label="Payload" class="wide"><details><summary>${r.rawBody ? `${r.rawBody.length} bytes` : 'purged'}</summary><pre>${maskText(r.rawBody?.toString('utf8').slice(0, 20_000) ?? '')}</pre></details></td>
<td data-label="Headers" class="wide">${r.headers ? jsonViewer('Headers', r.headers) : html`<span class="muted">not recorded</span>`}<div class="muted">request id <code>${r.requestId}</code></div></td>
<td class="row-actions">${r.replayedAt
            ? html`<span class="muted">replayed ${formatTime(r.replayedAt)}</span>`
            : r.rawBody
              ? html`${postButton(`/admin/quarantine/${r.id}/replay`, 'Replay', options.csrf)}${postButton(`/admin/quarantine/${r.id}/dismiss`, 'Dismiss', options.csrf, 'danger')}`
              : postButton(`/admin/quarantine/${r.id}/dismiss`, 'Dismiss', options.csrf, 'danger')}</td></tr>`,
        )
      : html`<tr><td colspan="9" class="muted">Nothing in quarantine.</td></tr>`}</tbody>
</table>`,
    { csrf: options.csrf },
  );
}
