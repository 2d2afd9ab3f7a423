// How `runs list` and `runs show` print for a person: an aligned table and a readable run,
// in local time, masked like the Runs page (step inputs carry the call's phones and emails).
import { maskText, maskValue } from '../masking.js';
import type { RunDetail, RunSummary, StepResult } from '../store/store.js';

const pad2 = (n: number) => String(n).padStart(2, '0');

/** `2026-12-02 14:05:09` in the machine's time zone (TZ), as people read their clock. */
export function localTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** Rows as columns padded to their widest cell; the last column is not padded. */
export function alignColumns(rows: string[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => row[col]?.length ?? 0)));
  return rows
    .map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]!))).join('  ').trimEnd())
    .join('\n');
}

function scoreText(run: RunSummary): string {
  return run.score ? `${run.score.value}${run.score.band ? ` ${run.score.band}` : ''}` : '';
}

export function formatRunsTable(runs: readonly RunSummary[]): string {
  if (runs.length === 0) return 'no runs';
  const header = ['ID', 'UPDATED', 'CALL', 'REV', 'MAPPING', 'STATUS', 'TEST', 'SCORE', 'LAST ERROR'];
  const rows = runs.map((r) => [
    `#${r.id}`,
    localTime(r.updatedAt),
    r.callId,
    String(r.revision),
    r.mappingName,
    r.status,
    r.isTest ? 'test' : '',
    scoreText(r),
    r.lastError ? maskText(oneLine(r.lastError)) : '',
  ]);
  return alignColumns([header, ...rows]);
}

function oneLine(text: string, max = 120): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** A value as compact JSON, masked; long values keep their start. */
function shown(value: unknown, max = 400): string {
  const text = JSON.stringify(maskValue(value, { content: 'mask' }));
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function stepLines(step: StepResult): string[] {
  const attempts = step.attempts > 0 ? ` (${step.attempts} attempt${step.attempts === 1 ? '' : 's'})` : '';
  const lines = [`  ${step.stepId}  ${step.status}${attempts}${step.finishedAt ? `  ${localTime(step.finishedAt)}` : ''}`];
  if (step.error) lines.push(`      ${step.status === 'failed' ? 'error' : 'reason'}: ${maskText(step.error)}`);
  if (step.input !== null && step.input !== undefined) lines.push(`      input:  ${shown(step.input)}`);
  if (step.output !== null && step.output !== undefined) lines.push(`      output: ${shown(step.output)}`);
  if (step.evidence) {
    const e = step.evidence;
    lines.push(`      answer: ${e.method} ${maskText(e.url)} → ${e.status ?? 'no answer'}${e.body ? ` ${shown(e.body, 200)}` : ''}`);
  }
  return lines;
}

export function formatRun(run: RunDetail): string {
  const lines = [
    `Run #${run.id} · ${run.mappingName} · ${run.status}${run.isTest ? ' · test delivery' : ''}`,
    alignColumns([
      ['  call', `${run.callId} revision ${run.revision} from ${run.sender}`],
      ['  created', localTime(run.createdAt)],
      ['  updated', localTime(run.updatedAt)],
      ['  attempts', String(run.attempts)],
      ...(run.nextRunAt ? [['  next try', localTime(run.nextRunAt)]] : []),
      ...(run.score ? [['  score', `${scoreText(run)}${run.score.fired.length ? ` (${run.score.fired.map((f) => f.source).join(', ')})` : ''}`]] : []),
      ...(run.lastError ? [['  last error', maskText(run.lastError)]] : []),
    ]),
    run.steps.length ? 'Steps:' : 'Steps: none recorded',
    ...run.steps.flatMap(stepLines),
  ];
  return lines.join('\n');
}
