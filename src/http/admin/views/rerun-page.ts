import type { RunDetail } from '../../../store/store.js';
import { html } from '../html.js';
import type { RerunPlan } from '../rerun-plan.js';
import { badge, layout, postButton } from './layout.js';

export function rerunPage(options: { run: RunDetail; plan: RerunPlan; csrf: string }): string {
  const { run, plan, csrf } = options;
  return layout(
    `Re-run ${run.id}`,
    html`<h1>Re-run #${run.id} · ${run.mappingName} ${badge(run.status)}</h1>
<p>Call ${run.callId}, revision ${run.revision}, with the mapping as it is loaded now.</p>
${plan.problem ? html`<p class="error">${plan.problem}</p>` : ''}
<table>
<thead><tr><th>Step</th><th>Kind</th><th>Repeat</th><th>What happens</th></tr></thead>
<tbody>${plan.steps.map(
      (s) => html`<tr><td>${s.id}</td><td>${s.use}</td><td>${s.repeat}</td><td>${s.runs ? html`<strong>${s.decision}</strong>` : html`<span class="muted">${s.decision}</span>`}</td></tr>`,
    )}</tbody>
</table>
<div class="actions">
  ${postButton(`/admin/runs/${run.id}/rerun`, `Re-run: ${plan.steps.filter((s) => s.runs).length} step(s) will execute`, csrf, 'danger')}
  <a href="/admin/runs/${run.id}">Cancel</a>
</div>`,
    { csrf },
  );
}
