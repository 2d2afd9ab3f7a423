import type { RunCount } from '../../../store/store.js';
import { html } from '../html.js';
import { layout } from './layout.js';
import type { RunFilters } from './runs-page.js';

/** What retrying the runs of a filter would do, per mapping and step (action-routes.ts builds it). */
export interface BulkRetryPlan {
  filters: RunFilters;
  total: RunCount;
  /** Exactly the runs the confirmation retries: the newest of the filter, at most BULK_LIMIT. */
  runIds: number[];
  mappings: Map<string, {
    runs: number;
    /** Why some runs would end again at once (a mapping gone, invalid variables), with how many. */
    problems: Map<string, number>;
    steps: Map<string, { use: string; runs: number; otherwise: Map<string, number> }>;
  }>;
}

export function bulkRetryPage(options: { plan: BulkRetryPlan; csrf: string }): string {
  const { plan, csrf } = options;
  const n = plan.runIds.length;
  const executions = [...plan.mappings.values()].reduce((sum, m) => sum + [...m.steps.values()].reduce((s, step) => s + step.runs, 0), 0);
  const back = `/admin?${new URLSearchParams(Object.entries(plan.filters).filter((e): e is [string, string] => typeof e[1] === 'string' && e[1] !== ''))}`;
  const partial = plan.total.atLeast || plan.total.count > n;
  return layout(
    'Retry runs',
    html`<h1>Retry ${n} ${n === 1 ? 'run' : 'runs'}</h1>
<p>${partial ? html`The newest ${n} of ${plan.total.count.toLocaleString('en-US')}${plan.total.atLeast ? '+' : ''} matching runs; retry again for the rest.` : html`Every run of the filter.`}
Completed steps are kept; each run goes back to the queue with the current mapping.</p>
${[...plan.mappings].map(
      ([name, m]) => html`<h2>${name} <span class="muted">${m.runs} ${m.runs === 1 ? 'run' : 'runs'}</span></h2>
${[...m.problems].map(([problem, count]) => html`<p class="error">${count} × ${problem}</p>`)}
<table class="cards">
<thead><tr><th>Step</th><th>Kind</th><th>Will run</th><th>Otherwise</th></tr></thead>
<tbody>${[...m.steps].map(
        ([id, step]) => html`<tr><td data-label="Step">${id}</td><td data-label="Kind">${step.use}</td>
<td data-label="Will run" class="num">${step.runs ? html`<strong>in ${step.runs} of ${m.runs}</strong>` : html`<span class="muted">none</span>`}</td>
<td data-label="Otherwise">${[...step.otherwise].map(([decision, count]) => html`<div class="muted">${count} × ${decision}</div>`)}</td></tr>`,
      )}</tbody>
</table>`,
    )}
<form class="actions" method="post" action="/admin/bulk/retry">
  <input type="hidden" name="_csrf" value="${csrf}">
  <input type="hidden" name="ids" value="${plan.runIds.join(',')}">
  <button class="danger" type="submit"${n === 0 ? html` disabled` : ''}>Retry ${n} ${n === 1 ? 'run' : 'runs'}: ${executions} step ${executions === 1 ? 'execution' : 'executions'}</button>
  <a href="${back}">Cancel</a>
</form>`,
    { csrf },
  );
}
