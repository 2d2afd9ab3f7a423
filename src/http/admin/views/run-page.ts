import type { CompiledMapping } from '../../../mapping/load-mappings.js';
import { checkVariables } from '../../../mapping/variables.js';
import { RERUNNABLE, REQUEUEABLE } from '../../../store/run-status.js';
import { withoutTranscripts, type RunDetail, type StepEvidence } from '../../../store/store.js';
import { maskPhone, maskText, maskValue } from '../../../masking.js';
import { formatDuration, formatTime, pretty } from '../format.js';
import { html } from '../html.js';
import { badge, layout, postButton } from './layout.js';

export function runPage(options: { run: RunDetail; mapping: CompiledMapping | null; csrf: string; notice?: string }): string {
  const { run, mapping, csrf } = options;
  const call = run.call;
  const declared = mapping?.variables ?? {};
  const check = checkVariables(call.extracted_variables, declared);
  const names = [...new Set([...Object.keys(declared), ...Object.keys(call.extracted_variables)])];
  const problemFor = (name: string) => check.problems.find((p) => p.startsWith(`extracted.${name}:`));
  const json = (value: unknown) => html`<pre>${pretty(maskValue(value, { content: 'mask' }))}</pre>`;

  return layout(
    `Run ${run.id}`,
    html`<h1>Run #${run.id} · ${run.mappingName} ${badge(run.status)}${run.isTest ? html` <span class="badge test">test delivery</span>` : ''}</h1>
${options.notice ? html`<p class="muted" role="status">${options.notice}</p>` : ''}
<div class="actions">
  ${REQUEUEABLE.includes(run.status) ? postButton(`/admin/runs/${run.id}/retry`, 'Retry this run', csrf) : ''}
  ${RERUNNABLE.includes(run.status) ? html`<a href="/admin/runs/${run.id}/rerun">Re-run with the current mappings…</a>` : ''}
  <a href="/admin/runs/${run.id}/payload?scrub=1" download>Download payload (scrubbed)</a>
  <a href="/admin/runs/${run.id}/payload" download>Download payload (raw)</a>
</div>
${run.lastError ? html`<p class="error">${maskText(run.lastError)}</p>` : ''}
<div class="grid">
  <div><span>Call id</span>${run.callId}</div>
  <div><span>Revision</span>${run.revision}</div>
  <div><span>Sender</span>${run.sender}</div>
  <div><span>Variant</span>${call.variant}${call.event ? ` (${call.event})` : ''}</div>
  <div><span>Call status</span>${call.status}</div>
  <div><span>Customer</span>${maskPhone(call.customer_phone)}</div>
  <div><span>Assistant</span>${maskPhone(call.assistant_phone)}</div>
  <div><span>Call duration</span>${call.duration ?? '—'} s</div>
  <div><span>Call created</span>${call.created_at ?? '—'}</div>
  <div><span>Campaign</span>${call.campaign?.name ?? '—'}</div>
  <div><span>Attempts</span>${run.attempts}</div>
  <div><span>Next attempt</span>${formatTime(run.nextRunAt)}</div>
  <div><span>Run created</span>${formatTime(run.createdAt)}</div>
  <div><span>Mapping version</span>${run.mappingHash}</div>
</div>

<h2>Extracted variables</h2>
<table>
<thead><tr><th>Name</th><th>Declared</th><th>Value</th><th>Check</th></tr></thead>
<tbody>${names.map((name) => {
      const spec = declared[name];
      const problem = problemFor(name);
      return html`<tr><td>${name}</td><td>${spec ? `${spec.type}${spec.optional ? ', optional' : ''}${spec.enum ? ` (${spec.enum.join(' | ')})` : ''}${spec.default !== undefined ? `, default ${String(spec.default)}` : ''}` : html`<span class="muted">not declared</span>`}</td>
<td>${maskText(display(call.extracted_variables[name]))}</td><td>${problem ? html`<span class="error">${problem}</span>` : badge('ok')}</td></tr>`;
    })}</tbody>
</table>

<h2>Score</h2>
${run.score
  ? html`<p><strong>${run.score.value}</strong>${run.score.band ? html` · ${badge(run.score.band)}` : ''}</p>
<table><thead><tr><th>Rule</th><th>Effect</th></tr></thead><tbody>${run.score.fired.map(
      (f) => html`<tr><td>${f.source}</td><td class="num">${f.set !== undefined ? `= ${f.set}` : `${(f.add ?? 0) >= 0 ? '+' : ''}${f.add}`}</td></tr>`,
    )}</tbody></table>`
  : html`<p class="muted">No score for this run.</p>`}

<h2>Steps</h2>
<table>
<thead><tr><th>Step</th><th>Status</th><th>Attempts</th><th>Started</th><th>Took</th><th>Input</th><th>Output / error</th></tr></thead>
<tbody>${run.steps.length
      ? run.steps.map(
          (s) => html`<tr><td>${s.stepId}</td><td>${badge(s.status)}</td><td class="num">${s.attempts}</td><td>${formatTime(s.startedAt)}</td>
<td class="num">${formatDuration(s.startedAt && s.finishedAt ? s.finishedAt - s.startedAt : null)}</td>
<td>${s.input === null ? html`<span class="muted">—</span>` : json(s.input)}</td>
<td>${s.error ? html`<p class="${s.status === 'skipped' ? 'muted' : 'error'}">${maskText(s.error)}</p>` : ''}${evidence(s.evidence)}${s.output === null ? '' : json(s.output)}</td></tr>`,
        )
      : html`<tr><td colspan="7" class="muted">No step has run yet.</td></tr>`}</tbody>
</table>

<h2>Call</h2>
<details><summary>Transcript (${call.transcript.turns.length} turns)</summary><pre>${maskText(call.transcript.text)}</pre></details>
<details><summary>Normalized payload</summary>${json(withoutTranscripts(call))}</details>`,
    { csrf },
  );
}

function display(value: unknown): string {
  if (value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A failed step's request and the start of the vendor's answer (stored masked and bounded). */
function evidence(e: StepEvidence | null) {
  if (!e) return '';
  const answer = e.status === null ? 'no answer' : `answered ${e.status}`;
  return html`<p class="evidence">${e.method} ${maskText(e.url)} · ${answer}</p>${e.body === null
    ? ''
    : html`<details><summary>Answer${e.truncated ? ' (start)' : ''}</summary><pre>${maskText(e.body)}</pre></details>`}`;
}
