// Figure 2 (issue 4): mapping evaluation in process, next to zod validation alone. Over the
// recorded payloads (test/fixtures/*.json) and the example mappings (mappings/*.yaml):
//   validation: parsePayload (strict) of each fixture's parsed JSON;
//   evaluation: matchMappings, then per matched mapping startMapping (variables, score) and
//               prepareStep for every step (`when`, render, the step kind's zod schema, input
//               hash) into a no-op sink: nothing is executed, each prepared step "returns" a
//               canned success ({status: 200, id, body: {id}}) so later steps that read
//               `steps.<id>` render as they would after a real success.
// Both in this process, after a warm-up, in alternating time-bounded rounds, with this
// process's CPU and everybody else's measured per round. Then one pass that attributes the
// evaluation's time to its parts (the timers cost a little; shares only).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createConnectors, stepKinds } from '../src/connectors/index.js';
import { prepareStep, startMapping } from '../src/mapping/evaluate-mapping.js';
import { loadMappingDir, type CompiledMapping } from '../src/mapping/load-mappings.js';
import { matchMappings } from '../src/ingest/match.js';
import type { Call } from '../src/payload/call.js';
import { canonicalJson } from '../src/payload/content-hash.js';
import { parsePayload } from '../src/payload/parse-payload.js';
import { ROOT } from './child.js';
import type { Bench } from './context.js';
import { FIXTURES } from './payload.js';
import { machineBusySeconds } from './proc.js';
import { fixed, meanOf, pct, ratio, table, type Figure } from './report.js';

const SINK_OUTPUT = Object.freeze({ status: 200, id: 'bench-sink-1', body: Object.freeze({ id: 'bench-sink-1' }) });
/** No round runs more iterations than this, whatever the clock says. */
const MAX_ITERATIONS = 1_000_000;

type FigureName = 'parsePayload' | 'evaluate';

interface MicroRound {
  round: number;
  figure: FigureName;
  calls: number;
  seconds: number;
  callsPerSec: number;
  cpu: number;
  otherCpu: number | null;
}

interface Tally {
  matched: number;
  invalidVariables: number;
  prepared: number;
  skipped: number;
  invalid: number;
}

export interface MappingOutcome {
  mappings: string[];
  fixtures: number;
  rejected: string[];
  rounds: MicroRound[];
  /** Per evaluated call, from one pass. */
  perCall: Tally;
  /** µs per call of each part, from the attribution pass. */
  parts: Array<{ part: string; usPerCall: number }>;
  roundMs: number;
}

export async function runMappingEval(bench: Bench): Promise<MappingOutcome> {
  const { settings } = bench;
  const mappings = loadMappingDir(join(ROOT, 'mappings'), stepKinds(createConnectors({})));
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort();
  const bodies: unknown[] = [];
  const calls: Call[] = [];
  const rejected: string[] = [];
  for (const file of files) {
    const body = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as unknown;
    const parsed = parsePayload(body, 'strict');
    if (!parsed.ok) {
      rejected.push(file);
      continue;
    }
    bodies.push(body);
    calls.push(parsed.call);
  }
  if (calls.length === 0) throw new Error('mapping figure: no fixture validates');

  const now = Date.now();
  const tally: Tally = { matched: 0, invalidVariables: 0, prepared: 0, skipped: 0, invalid: 0 };
  const validateAll = () => {
    for (const body of bodies) parsePayload(body, 'strict');
  };
  const evaluateAll = async (count?: Tally) => {
    for (const call of calls) await evaluate(call, mappings, now, count);
  };
  await evaluateAll(tally);
  const perCall = Object.fromEntries(Object.entries(tally).map(([k, v]) => [k, v / calls.length])) as unknown as Tally;

  const run = async (figure: FigureName, ms: number, round: number): Promise<MicroRound> => {
    const cpuBefore = process.cpuUsage();
    const machineBefore = machineBusySeconds();
    const start = performance.now();
    const end = start + ms;
    let iterations = 0;
    while (performance.now() < end && iterations < MAX_ITERATIONS) {
      if (figure === 'parsePayload') validateAll();
      else await evaluateAll();
      iterations += 1;
    }
    const seconds = (performance.now() - start) / 1000;
    const cpuUsed = process.cpuUsage(cpuBefore);
    const cpu = (cpuUsed.user + cpuUsed.system) / 1e6 / seconds;
    const machineAfter = machineBusySeconds();
    const machine = machineBefore !== null && machineAfter !== null ? (machineAfter - machineBefore) / seconds : null;
    const total = iterations * calls.length;
    return { round, figure, calls: total, seconds, callsPerSec: total / seconds, cpu, otherCpu: machine === null ? null : Math.max(0, machine - cpu) };
  };

  console.error(`bench: mapping evaluation: ${mappings.length} mappings × ${calls.length} fixtures, ${settings.microRounds} rounds of ${settings.microRoundMs} ms each`);
  await run('parsePayload', settings.microRoundMs, 0); // warm-up
  await run('evaluate', settings.microRoundMs, 0);
  bench.checkpoint();
  const rounds: MicroRound[] = [];
  for (let round = 1; round <= settings.microRounds; round++) {
    rounds.push(await run('parsePayload', settings.microRoundMs, round));
    rounds.push(await run('evaluate', settings.microRoundMs, round));
    bench.checkpoint();
  }
  const parts = await attribute(bodies, calls, mappings, now, settings.microRoundMs);
  return { mappings: mappings.map((m) => m.name), fixtures: calls.length, rejected, rounds, perCall, parts, roundMs: settings.microRoundMs };
}

async function evaluate(call: Call, mappings: readonly CompiledMapping[], now: number, count?: Tally): Promise<void> {
  const { matched } = matchMappings(call, mappings);
  for (const mapping of matched) {
    if (count) count.matched += 1;
    const start = await startMapping(call, mapping, now);
    if (!start.ok) {
      if (count) count.invalidVariables += 1;
      continue;
    }
    const { context } = start;
    for (const step of mapping.steps) {
      const prepared = await prepareStep(step, context);
      if (prepared.action === 'run') {
        context.steps[step.id] = SINK_OUTPUT;
        if (count) count.prepared += 1;
      } else if (prepared.action === 'skip') {
        context.steps[step.id] = null;
        if (count) count.skipped += 1;
      } else {
        if (count) count.invalid += 1;
        break; // the worker stops the run at an invalid step
      }
    }
  }
}

/**
 * Where the evaluation's time goes: the same work as `evaluate`, with prepareStep taken apart
 * into its pieces (when, render, schema, hash), each timed. Runs for about `ms`.
 */
async function attribute(bodies: unknown[], calls: Call[], mappings: readonly CompiledMapping[], now: number, ms: number) {
  const spent: Record<string, number> = {
    parsePayload: 0,
    match: 0,
    'startMapping (variables, score)': 0,
    'step when': 0,
    'step render': 0,
    'step zod schema': 0,
    'step input hash': 0,
  };
  let n = 0;
  const end = performance.now() + ms;
  const timeSync = <T>(part: string, fn: () => T): T => {
    const t = performance.now();
    const value = fn();
    spent[part]! += performance.now() - t;
    return value;
  };
  const timeAsync = async <T>(part: string, fn: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const value = await fn();
    spent[part]! += performance.now() - t;
    return value;
  };
  for (let iteration = 0; performance.now() < end && iteration < MAX_ITERATIONS; iteration++) {
    for (let i = 0; i < calls.length; i++) {
      const call = calls[i]!;
      n += 1;
      timeSync('parsePayload', () => parsePayload(bodies[i], 'strict'));
      const { matched } = timeSync('match', () => matchMappings(call, mappings));
      for (const mapping of matched) {
        const start = await timeAsync('startMapping (variables, score)', () => startMapping(call, mapping, now));
        if (!start.ok) continue;
        const { context } = start;
        for (const step of mapping.steps) {
          const when = step.when;
          if (when && !(await timeAsync('step when', async () => when(context)))) {
            context.steps[step.id] = null;
            continue;
          }
          let rendered: unknown;
          try {
            rendered = await timeAsync('step render', async () => step.render(context));
          } catch {
            break;
          }
          const parsed = timeSync('step zod schema', () => step.kind.input.safeParse(rendered));
          if (!parsed.success) break;
          timeSync('step input hash', () => createHash('sha256').update(canonicalJson(parsed.data)).digest('hex'));
          context.steps[step.id] = SINK_OUTPUT;
        }
      }
    }
  }
  return Object.entries(spent).map(([part, total]) => ({ part, usPerCall: (total * 1000) / Math.max(1, n) }));
}

export function mappingFigures(outcome: MappingOutcome): Figure[] {
  const parse = meanOf(outcome.rounds.filter((r) => r.figure === 'parsePayload').map((r) => r.callsPerSec));
  const evaluate = meanOf(outcome.rounds.filter((r) => r.figure === 'evaluate').map((r) => r.callsPerSec));
  const n = outcome.rounds.length / 2;
  return [
    {
      figure: `mapping evaluation (match + score + render), calls/s in process (mean of ${n})`,
      baseline: `${fixed(parse)} (parsePayload)`,
      value: fixed(evaluate),
      ratio: ratio(evaluate / parse),
      target: 'report only',
      result: 'report only',
    },
  ];
}

export function mappingDetail(outcome: MappingOutcome): string {
  const out: string[] = [];
  const c = outcome.perCall;
  out.push('### 2. Mapping evaluation vs zod validation, in process (issue 4)', '');
  out.push(
    `- ${outcome.fixtures} fixtures from test/fixtures${outcome.rejected.length ? ` (left out, invalid: ${outcome.rejected.join(', ')})` : ''} × ` +
      `the ${outcome.mappings.length} example mappings in mappings/ (${outcome.mappings.join(', ')}); ` +
      `a "call" is one fixture through matchMappings → startMapping → prepareStep per step (no-op sink, nothing executed)`,
  );
  out.push(
    `- per call: ${fixed(c.matched, 2)} mappings matched, ${fixed(c.prepared, 2)} steps rendered and validated, ${fixed(c.skipped, 2)} skipped by \`when\`, ` +
      `${fixed(c.invalid, 2)} invalid, ${fixed(c.invalidVariables, 2)} invalid-variables`,
  );
  out.push(`- warm-up one round each, then alternating rounds of ${outcome.roundMs} ms`, '');
  out.push(
    table(
      ['round', 'figure', 'calls/s', 'µs/call', 'calls', 'bench CPU', 'other CPU'],
      outcome.rounds.map((r) => [r.round, r.figure, fixed(r.callsPerSec), fixed(1e6 / r.callsPerSec, 1), r.calls, pct(r.cpu), pct(r.otherCpu)]),
    ),
    '',
  );
  const total = outcome.parts.filter((p) => p.part !== 'parsePayload').reduce((a, p) => a + p.usPerCall, 0);
  out.push('Where an evaluation\'s time goes (one timed pass; µs per call, share of the evaluation):', '');
  out.push(
    table(
      ['part', 'µs/call', 'share of evaluation'],
      outcome.parts.map((p) => [p.part, fixed(p.usPerCall, 1), p.part === 'parsePayload' ? '(baseline)' : pct(p.usPerCall / total)]),
    ),
  );
  return out.join('\n');
}
