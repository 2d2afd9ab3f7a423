// `aftercall replay <fixtures or folders…>`: recorded payloads through validation, matching,
// scoring and steps, without the store. `--dry-run` executes nothing external and prints the
// plan: matched mappings and why others did not match, score and fired rules, each step's
// rendered input or why it is skipped.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { closeConnectors, createConnectors, stepKinds } from '../connectors/index.js';
import { createLogger } from '../logger.js';
import { loadMappingDir, type CompiledMapping, type CompiledStep } from '../mapping/load-mappings.js';
import { matchMappings } from '../ingest/match.js';
import { planMapping, type MappingPlan, type PlanOptions } from '../mapping/plan-mapping.js';
import { parsePayload, type PayloadIssue } from '../payload/parse-payload.js';
import { detectPlatform } from '../payload/platforms/index.js';
import type { SchemaMode } from '../payload/schema.js';
import { configOrExit, type CliContext } from './cli-config.js';

export type { MappingPlan, StepPlan } from '../mapping/plan-mapping.js';

export interface FilePlan {
  file: string;
  valid: boolean;
  issues?: PayloadIssue[];
  call?: { id: number | string; platform: string; variant: string; channel: string; status: string };
  /** A platform's body that is no end-of-call data: a live event (ignored) or a pre-call request. */
  other?: { kind: 'ignored' | 'precall' | 'unknown-ignored'; event: string | null };
  matched: MappingPlan[];
  notMatched: Array<{ mapping: string; reason: string }>;
}

export function collectFixtureFiles(paths: string[]): string[] {
  return paths.flatMap((p) =>
    statSync(p).isDirectory()
      ? readdirSync(p)
          .filter((f) => f.endsWith('.json'))
          .sort()
          .map((f) => join(p, f))
      : [p],
  );
}

export interface ReplayOptions {
  dryRun: boolean;
  schemaMode: SchemaMode;
  stepTimeoutMs: number;
  /** Test files plan a later revision and say what planned steps would answer (mapping-test.ts). */
  plan?: Omit<PlanOptions, 'now' | 'execute'>;
}

export async function replayFile(file: string, mappings: readonly CompiledMapping[], options: ReplayOptions): Promise<FilePlan> {
  let payload: unknown;
  try {
    payload = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    return { file, valid: false, issues: [{ path: '', message: (error as Error).message }], matched: [], notMatched: [] };
  }
  return replayPayload(file, payload, mappings, options);
}

/** A payload through validation, matching and each matched mapping's plan. */
export async function replayPayload(file: string, payload: unknown, mappings: readonly CompiledMapping[], options: ReplayOptions): Promise<FilePlan> {
  // A recorded body says which platform sent it by its shape (a live one, by its route).
  const parsed = parsePayload(payload, options.schemaMode, { platform: detectPlatform(payload) ?? undefined });
  if (!parsed.ok && parsed.other && parsed.other.kind !== 'unanswerable') {
    // A platform's live event or pre-call request: valid, with nothing to plan.
    return { file, valid: true, other: { kind: parsed.other.kind, event: parsed.other.event }, matched: [], notMatched: [] };
  }
  if (!parsed.ok) return { file, valid: false, issues: parsed.issues, matched: [], notMatched: [] };
  const { call } = parsed;
  const { matched, notMatched } = matchMappings(call, mappings);
  const logger = createLogger('silent');
  const plans: MappingPlan[] = [];
  for (const mapping of matched) {
    const execute = options.dryRun
      ? undefined
      : (step: CompiledStep, input: unknown) =>
          step.kind.execute(input, {
            logger,
            signal: AbortSignal.timeout(options.stepTimeoutMs),
            timeoutMs: options.stepTimeoutMs,
            idempotencyKey: `aftercall-replay-${call.id}-${mapping.name}-${step.id}`,
          });
    plans.push(await planMapping(call, mapping, { ...options.plan, now: Date.now(), execute }));
  }
  return {
    file,
    valid: true,
    call: { id: call.id, platform: call.platform, variant: call.variant, channel: call.channel, status: call.status },
    matched: plans,
    notMatched,
  };
}

function printPlan(plan: FilePlan, dryRun: boolean, print: (line: string) => void): void {
  if (!plan.valid) {
    print(`✗ ${plan.file}: invalid payload`);
    for (const i of plan.issues ?? []) print(`    ${i.path || '(body)'}: ${i.message}`);
    return;
  }
  if (plan.other) {
    const what = plan.other.kind === 'precall' ? 'a pre-call request, answered by the inbound: sections' : 'no end-of-call data, answered 200 ignored';
    print(`${plan.file}: ${plan.other.event ?? 'event'} — ${what}`);
    return;
  }
  const { id, variant, channel, status } = plan.call!;
  print(channel === 'phone' ? `${plan.file}: call ${id} (${variant}, ${status})` : `${plan.file}: ${channel} chat ${id} (${variant}, ${status})`);
  if (plan.matched.length === 0) print('  no mapping matches');
  for (const m of plan.matched) {
    const score = m.score ? `  score ${m.score.value}${m.score.band ? ` (${m.score.band})` : ''}` : '';
    print(`  ${m.status === 'ok' ? '✓' : '✗'} ${m.mapping}${score}${m.status === 'ok' ? '' : `  ${m.status}`}`);
    for (const p of m.problems ?? []) print(`      ${p}`);
    for (const f of m.score?.fired ?? []) print(`      ${f.set !== undefined ? `= ${f.set}` : `${f.add! >= 0 ? '+' : ''}${f.add}`}  ${f.source}`);
    for (const step of m.steps) {
      const head = `      ${step.id} (${step.use}): ${step.status === 'planned' ? (dryRun ? 'would run' : 'planned') : step.status}`;
      print(step.reason ? `${head} — ${step.reason}` : head);
      if (step.input !== undefined) print(indent(JSON.stringify(step.input, null, 2), 10));
      if (step.output !== undefined) print(indent(`→ ${JSON.stringify(step.output)}`, 10));
    }
  }
  for (const n of plan.notMatched) print(`  · ${n.mapping}: ${n.reason}`);
}

function indent(text: string, n: number): string {
  return text
    .split('\n')
    .map((line) => ' '.repeat(n) + line)
    .join('\n');
}

/** A one-line progress bar on stderr, only for a terminal and many files. */
function progress(stderr: CliContext['stderr'], done: number, total: number): void {
  if (!stderr.isTTY || total < 20) return;
  const width = 30;
  const filled = Math.round((done / total) * width);
  stderr.write(`\r[${'#'.repeat(filled)}${' '.repeat(width - filled)}] ${done}/${total}${done === total ? '\n' : ''}`);
}

export function registerReplayCommand(program: Command, ctx: CliContext): void {
  program
    .command('replay')
    .description('Run recorded payloads through validation, matching, scoring and steps (no store)')
    .argument('<paths...>', 'payload files or folders of *.json')
    .option('--dry-run', 'execute nothing external; print the plan')
    .option('--mapping <name>', 'only this mapping')
    .option('--json', 'machine-readable output')
    .action(async (paths: string[], opts: { dryRun?: boolean; mapping?: string; json?: boolean }) => {
      const config = configOrExit(ctx);
      const connectors = createConnectors(ctx.env);
      let mappings = loadMappingDir(config.MAPPINGS_DIR, stepKinds(connectors));
      if (opts.mapping) {
        mappings = mappings.filter((m) => m.name === opts.mapping);
        if (mappings.length === 0) {
          ctx.printError(`no mapping named "${opts.mapping}" in ${config.MAPPINGS_DIR}`);
          ctx.exitCode = 2;
          return;
        }
      }
      const files = collectFixtureFiles(paths);
      const plans: FilePlan[] = [];
      for (const file of files) {
        plans.push(await replayFile(file, mappings, { dryRun: Boolean(opts.dryRun), schemaMode: config.SCHEMA_MODE, stepTimeoutMs: config.STEP_TIMEOUT_MS }));
        progress(ctx.stderr, plans.length, files.length);
      }
      await closeConnectors(connectors); // kept vendor clients and connections (an SMTP one would hold the process)
      if (opts.json) ctx.print(JSON.stringify(plans, null, 2));
      else plans.forEach((p) => printPlan(p, Boolean(opts.dryRun), ctx.print));
      const bad = plans.some((p) => !p.valid || p.matched.some((m) => m.status !== 'ok'));
      if (bad) ctx.exitCode = 1;
    });
}
