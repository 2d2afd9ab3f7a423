import type { CompiledMapping } from '../../../mapping/load-mappings.js';
import { checkVariables } from '../../../mapping/variables.js';
import { FINISHED, RERUNNABLE, REQUEUEABLE } from '../../../store/run-status.js';
import { withoutTranscripts, type CallPayload, type RunDetail, type StepEvidence, type StepResult } from '../../../store/store.js';
import { maskPhone, maskText, maskValue } from '../../../masking.js';
import { formatDuration, formatTime } from '../format.js';
import { html } from '../html.js';
import { badge, jsonViewer, layout, postButton } from './layout.js';
import { callHref } from './call-groups.js';
import { liveControl } from './live-control.js';

export function runPage(options: {
  run: RunDetail;
  mapping: CompiledMapping | null;
  /** The revision's accepted delivery, when its record is still stored. */
  delivery?: CallPayload | null;
  csrf: string;
  notice?: string;
}): string {
  const { run, mapping, csrf } = options;
  const call = run.call;
  const declared = mapping?.variables ?? {};
  const check = checkVariables(call.extracted_variables, declared);
  const names = [...new Set([...Object.keys(declared), ...Object.keys(call.extracted_variables)])];
  const problemFor = (name: string) => check.problems.find((p) => p.startsWith(`extracted.${name}:`));
  const final = (FINISHED as readonly string[]).includes(run.status);
  const json = (label: string, value: unknown, key = label) => jsonViewer(label, maskValue(value, { content: 'mask' }), { key });

  return layout(
    `Run ${run.id}`,
    html`<div class="page-head"><h1 data-live-region="run-head"${final ? html` data-live-final` : ''}>Run #${run.id} · ${run.mappingName} ${badge(run.status)}${run.isTest ? html` <span class="badge test">test delivery</span>` : ''}</h1>${liveControl({ final })}</div>
<div data-live-region="run"${final ? html` data-live-final` : ''}>
${options.notice ? html`<p class="notice" role="status">${options.notice}</p>` : ''}
<div class="actions">
  ${REQUEUEABLE.includes(run.status) ? postButton(`/admin/runs/${run.id}/retry`, 'Retry this run', csrf) : ''}
  ${RERUNNABLE.includes(run.status) ? html`<a class="button" href="/admin/runs/${run.id}/rerun">Re-run with the current mappings…</a>` : ''}
  <a class="button" href="/admin/runs/${run.id}/payload?scrub=1" download>Download payload (scrubbed)</a>
  <a class="button" href="/admin/runs/${run.id}/payload" download>Download payload (raw)</a>
</div>
${run.lastError ? run.status === 'succeeded' ? html`<p class="muted">An earlier attempt failed: ${maskText(run.lastError)}</p>` : html`<p class="error">${maskText(run.lastError)}</p>` : ''}
<div class="grid">
  <div><span>Call id</span>${run.callId}</div>
  <div><span>Revision</span>${run.revision}</div>
  <div><span>Sender</span>${run.sender}</div>
  <div><span>Variant</span>${call.variant}${call.event ? ` (${call.event})` : ''}</div>
  <div><span>Channel</span>${call.channel ?? 'phone'}</div>
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
  <div><span>Delivered</span>${options.delivery ? html`${formatTime(options.delivery.receivedAt)}${options.delivery.requestId ? html`<br>request id <code>${options.delivery.requestId}</code>` : ''}` : html`<span class="muted">record purged</span>`}<br><a href="${callHref(run.sender, run.callId)}">Every delivery of this call →</a></div>
</div>

<h2>Extracted variables</h2>
<table class="cards">
<thead><tr><th>Name</th><th>Declared</th><th>Value</th><th>Check</th></tr></thead>
<tbody>${names.map((name) => {
      const spec = declared[name];
      const problem = problemFor(name);
      return html`<tr><td data-label="Name">${name}</td><td data-label="Declared">${spec ? `${spec.type}${spec.optional ? ', optional' : ''}${spec.enum ? ` (${spec.enum.join(' | ')})` : ''}${spec.default !== undefined ? `, default ${String(spec.default)}` : ''}` : html`<span class="muted">not declared</span>`}</td>
<td data-label="Value" class="wide">${maskText(display(call.extracted_variables[name]))}</td><td data-label="Check">${problem ? html`<span class="error">${problem}</span>` : badge('ok')}</td></tr>`;
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
<table class="cards steps">
<thead><tr><th>Step</th><th>Status</th><th>Attempts</th><th>Started</th><th>Took</th><th>Input</th><th>Output / error</th></tr></thead>
<tbody>${run.steps.length
      ? run.steps.map((s) => stepRow(s, json))
      : html`<tr><td colspan="7" class="muted">No step has run yet.</td></tr>`}</tbody>
</table>

<h2>Call</h2>
${call.attachments?.length ? html`<p>Attachments: ${call.attachments.map((a) => `${a.type} ${maskText(a.filename ?? a.url)}`).join(', ')}</p>` : ''}
<details><summary>Transcript (${call.transcript.turns.length} turns)</summary><pre>${maskText(call.transcript.text)}</pre></details>
${json('Normalized payload', withoutTranscripts(call))}
</div>`,
    { csrf },
  );
}

function display(value: unknown): string {
  if (value === undefined) return '—';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * One step. A skipped step never ran: no start time and no duration, which would only be the
 * instant its skip was recorded.
 */
function stepRow(s: StepResult, json: (label: string, value: unknown, key?: string) => ReturnType<typeof html>) {
  const ran = s.status !== 'skipped';
  return html`<tr><td data-label="Step">${s.stepId}</td><td data-label="Status">${badge(s.status)}</td><td data-label="Attempts" class="num">${s.attempts}</td>
<td data-label="Started">${ran ? formatTime(s.startedAt) : ''}</td>
<td data-label="Took" class="num">${ran ? formatDuration(s.startedAt && s.finishedAt ? s.finishedAt - s.startedAt : null) : ''}</td>
<td data-label="Input" class="wide">${s.input === null ? html`<span class="muted">—</span>` : json('Input', s.input, `${s.stepId}:input`)}</td>
<td data-label="Output / error" class="wide">${s.error ? html`<p class="${ran ? 'error' : 'muted'}">${maskText(s.error)}</p>` : ''}${evidence(s.evidence, s.stepId)}${s.output === null ? '' : json('Output', s.output, `${s.stepId}:output`)}</td></tr>`;
}

/** A failed step's request and the start of the vendor's answer (stored masked and bounded). */
function evidence(e: StepEvidence | null, stepId: string) {
  if (!e) return '';
  const body = e.body === null ? null : jsonOrText(e.body);
  return html`<div class="evidence">
<p><span class="vendor-status">${e.status === null ? 'No answer' : `HTTP ${e.status}`}</span> from <code>${e.method} ${maskText(e.url)}</code></p>
${body === null
    ? html`<p class="muted">The answer had no body.</p>`
    : typeof body === 'string'
      ? html`<details open data-key="${stepId}:answer"><summary>Answer${e.truncated ? ' (start)' : ''}</summary><pre>${maskText(body)}</pre></details>`
      : jsonViewer('Answer', body, { open: true, key: `${stepId}:answer` })}
</div>`;
}

/** The answer parsed when it is whole JSON (stored masked already), else its text. */
function jsonOrText(body: string): unknown {
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed !== null && typeof parsed === 'object' ? parsed : body;
  } catch {
    return body;
  }
}
