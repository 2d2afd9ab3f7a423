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
<table class="cards">
<thead><tr><th>#</th><th>Received (UTC)</th><th>Sender</th><th>Reason</th><th>Schema errors</th><th>Payload</th><th></th></tr></thead>
<tbody>${options.receipts.length
      ? options.receipts.map(
          (r) => html`<tr><td data-label="#">${r.id}</td><td data-label="Received (UTC)">${formatTime(r.receivedAt)}</td><td data-label="Sender">${r.sender}</td><td data-label="Reason">${r.reason}</td>
<td data-label="Schema errors" class="wide"><ul>${r.issues.map((i) => html`<li><code>${i.path || '(body)'}</code>: ${i.message}</li>`)}</ul></td>
<td data-label="Payload" class="wide"><details><summary>${r.rawBody ? `${r.rawBody.length} bytes` : 'purged'}</summary><pre>${maskText(r.rawBody?.toString('utf8').slice(0, 20_000) ?? '')}</pre></details></td>
<td>${r.replayedAt ? html`<span class="muted">replayed ${formatTime(r.replayedAt)}</span>` : r.rawBody ? postButton(`/admin/quarantine/${r.id}/replay`, 'Replay', options.csrf) : ''}</td></tr>`,
        )
      : html`<tr><td colspan="7" class="muted">Nothing in quarantine.</td></tr>`}</tbody>
</table>`,
    { csrf: options.csrf },
  );
}
