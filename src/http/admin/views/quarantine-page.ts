import type { Receipt } from '../../../store/store.js';
import { maskText } from '../../../masking.js';
import { formatTime } from '../format.js';
import { html } from '../html.js';
import { layout, postButton } from './layout.js';

export function quarantinePage(options: { receipts: Receipt[]; csrf: string; notice?: string }): string {
  return layout(
    'Quarantine',
    html`<h1>Quarantine</h1>
<p class="muted">Deliveries rejected as malformed or invalid, kept for a replay once the schema or SCHEMA_MODE allows them.</p>
${options.notice ? html`<p role="status">${options.notice}</p>` : ''}
<table>
<thead><tr><th>#</th><th>Received (UTC)</th><th>Sender</th><th>Reason</th><th>Schema errors</th><th>Payload</th><th></th></tr></thead>
<tbody>${options.receipts.length
      ? options.receipts.map(
          (r) => html`<tr><td>${r.id}</td><td>${formatTime(r.receivedAt)}</td><td>${r.sender}</td><td>${r.reason}</td>
<td><ul>${r.issues.map((i) => html`<li><code>${i.path || '(body)'}</code>: ${i.message}</li>`)}</ul></td>
<td><details><summary>${r.rawBody ? `${r.rawBody.length} bytes` : 'purged'}</summary><pre>${maskText(r.rawBody?.toString('utf8').slice(0, 20_000) ?? '')}</pre></details></td>
<td>${r.replayedAt ? html`<span class="muted">replayed ${formatTime(r.replayedAt)}</span>` : r.rawBody ? postButton(`/admin/quarantine/${r.id}/replay`, 'Replay', options.csrf) : ''}</td></tr>`,
        )
      : html`<tr><td colspan="7" class="muted">Nothing in quarantine.</td></tr>`}</tbody>
</table>`,
    { csrf: options.csrf },
  );
}
