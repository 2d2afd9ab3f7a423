// One step decision (src/mapping/repeat-policy.ts `decideStep`): the replay dry run, the worker
// and the Runs page's re-run confirmation agree on every `repeat` policy × kind × input, for
// revisions 1 to 3 of one call. The real service (SQLite file, worker, admin page) runs each
// revision and then re-runs it; the replay plans each revision against the store's effects first.
import Database from 'better-sqlite3';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { replayPayload, type StepPlan } from '../src/cli/replay-command.js';
import { defineStep, type Connector } from '../src/connectors/connector.js';
import type { RunDetail } from '../src/store/store.js';
import { fixture } from './support/fixtures.js';
import { startTestService, type TestService } from './support/test-service.js';

const ADMIN = 'admin-token-0123456789';
const REPEATS = ['never', 'on-change', 'always'] as const;
const KINDS = ['safe', 'once'] as const; // once: not safe to repeat (an SMS): a `started` execution counts
const INPUTS = ['same', 'changed', 'new'] as const; // new: its `when` first holds at revision 2
type Repeat = (typeof REPEATS)[number];
type Input = (typeof INPUTS)[number];

const CASES = REPEATS.flatMap((repeat) => KINDS.flatMap((kind) => INPUTS.map((input) => ({ repeat, kind, input }))));
const idOf = (c: (typeof CASES)[number]) => `${c.repeat.replace('-', '')}_${c.kind}_${c.input}`;

/** Executions, by run and step: what the worker really did. */
const executed: Array<{ run: number; step: string }> = [];
const probe = (kind: 'safe' | 'once') =>
  defineStep({
    kind: `probe.${kind}`,
    description: 'Records that it executed.',
    input: z.strictObject({ value: z.string() }),
    defaultRepeat: 'on-change',
    ...(kind === 'once' ? { safeToRepeat: false } : {}),
    async execute(input, ctx) {
      const [, run, step] = /^aftercall-(\d+)-(.+)$/.exec(ctx.idempotencyKey)!;
      executed.push({ run: Number(run), step: step! });
      return { seen: input.value };
    },
  });
const PROBE: Connector = { name: 'probe', steps: [probe('safe'), probe('once')] };

const MAPPING =
  'name: decisions\nsteps:\n' +
  CASES.map((c) => {
    const value = c.input === 'changed' ? '"{{ extracted.summary }}"' : 'fixed';
    const when = c.input === 'new' ? `    when: extracted.summary != "first"\n` : '';
    return `  - id: ${idOf(c)}\n    use: probe.${c.kind}\n    repeat: ${c.repeat}\n${when}    with: { value: ${value} }\n`;
  }).join('');

const SUMMARIES = ['first', 'second', 'third'];
const payload = (revision: number) => {
  const c = fixture('seed-001-autocalls');
  c.id = 4242;
  c.extracted_variables = { ...(c.extracted_variables as object), summary: SUMMARIES[revision - 1] };
  return c;
};

/** What the worker must do with each step of each revision: `run`, the reason it is skipped, or null: its `when` is false. */
function expected(repeat: Repeat, input: Input, revision: number): string | null {
  if (input === 'new' && revision === 1) return null;
  if (revision === 1 || repeat === 'always' || (input === 'new' && revision === 2)) return 'run';
  const doneAt = input === 'new' ? 2 : 1; // the latest revision that executed it
  if (repeat === 'never') return `repeat: never (done for revision ${doneAt})`;
  if (input === 'changed') return 'run';
  return `repeat: on-change (input unchanged since revision ${doneAt})`;
}

/** A step's fate in one execution of a run: `run`, or its recorded reason. */
function workerDecisions(run: RunDetail, from: number): Map<string, string> {
  const ran = new Set(executed.slice(from).filter((e) => e.run === run.id).map((e) => e.step));
  return new Map(run.steps.map((s) => [s.stepId, ran.has(s.stepId) ? 'run' : s.status === 'skipped' ? `${s.error}` : `kept ${s.status}`]));
}

function replayDecisions(steps: StepPlan[]): Map<string, string> {
  return new Map(steps.map((s) => [s.id, s.status === 'planned' ? 'run' : `${s.reason}`]));
}

/** The confirmation page's table: step id → whether it will execute, and what it says. */
function pageDecisions(text: string): Map<string, { runs: boolean; says: string }> {
  const rows = text.matchAll(/<tr><td>([^<]+)<\/td><td>[^<]+<\/td><td>[^<]+<\/td><td>(<strong>|<span class="muted">)([^<]*)</g);
  const text_ = (escaped: string) => escaped.replace(/&(quot|#39|lt|gt|amp);/g, (_, e: string) => ({ quot: '"', '#39': "'", lt: '<', gt: '>', amp: '&' })[e]!);
  return new Map([...rows].map((m) => [m[1]!, { runs: m[2] === '<strong>', says: text_(m[3]!) }]));
}

let s: TestService;
let agent: ReturnType<typeof request.agent>;
let csrf: string;
beforeAll(async () => {
  s = await startTestService({ 'decisions.yaml': MAPPING }, { ADMIN_TOKEN: ADMIN }, undefined, { connectors: [PROBE] });
  agent = request.agent(s.server);
  const form = await agent.get('/admin/login');
  await agent.post('/admin/login').type('form').send({ _csrf: /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!, token: ADMIN });
  csrf = /name="_csrf" value="([^"]+)"/.exec((await agent.get('/admin')).text)![1]!;
});
afterAll(async () => {
  await s?.cleanup();
});

async function settled(revision: number): Promise<RunDetail> {
  const runs = await s.waitFor(
    () => s.store.listRuns(),
    (list) => list.some((r) => r.revision === revision && r.status === 'succeeded'),
  );
  return (await s.store.getRun(runs.find((r) => r.revision === revision)!.id))!;
}

/** The store's row id of the call, which `findEarlierEffect` takes (read from the SQLite file). */
function callRowId(): number | null {
  const db = new Database(s.config.SQLITE_PATH, { readonly: true, fileMustExist: true });
  try {
    return (db.prepare('SELECT id FROM calls WHERE call_key = ?').pluck().get('4242') as number | undefined) ?? null;
  } finally {
    db.close();
  }
}

describe('one step decision', () => {
  it.each([1, 2, 3])('revision %i: the replay dry run, the worker and the re-run confirmation agree', async (revision) => {
    // The replay dry run, planned against the effects the worker will find.
    const rowId = callRowId();
    const plan = await replayPayload('', payload(revision), s.mappings.current(), {
      dryRun: true,
      schemaMode: s.config.SCHEMA_MODE,
      stepTimeoutMs: 0,
      plan: {
        revision,
        earlierEffect: (mapping, stepId, atMostOnce) =>
          rowId === null ? null : s.store.findEarlierEffect(rowId, mapping, stepId, revision, atMostOnce),
      },
    });
    expect(plan.matched.map((m) => m.mapping)).toEqual(['decisions']);
    const replayed = replayDecisions(plan.matched[0]!.steps);

    const mark = executed.length;
    expect((await s.post(payload(revision))).status).toBe(202);
    const run = await settled(revision);
    expect(run.revision).toBe(revision);
    const worker = workerDecisions(run, mark);

    for (const c of CASES) {
      const id = idOf(c);
      const want = expected(c.repeat, c.input, revision);
      if (want === null) expect(run.steps.find((st) => st.stepId === id)).toMatchObject({ status: 'skipped', input: null });
      else expect({ id, worker: worker.get(id) }).toEqual({ id, worker: want });
      expect({ id, replay: replayed.get(id) }).toEqual({ id, replay: worker.get(id) });
    }
    expect([...worker.values()].filter((d) => d === 'run').length).toBeGreaterThan(0);

    // The re-run: what the confirmation says, then what the worker does.
    const page = pageDecisions((await agent.get(`/admin/runs/${run.id}/rerun`)).text);
    expect([...page.keys()]).toEqual(CASES.map(idOf));
    const rerunMark = executed.length;
    const go = await agent.post(`/admin/runs/${run.id}/rerun`).type('form').send({ _csrf: csrf });
    expect(go.headers.location).toBe(`/admin/runs/${run.id}?notice=rerun-queued`);
    const rerun = await settled(revision);
    const again = workerDecisions(rerun, rerunMark);
    for (const c of CASES) {
      const id = idOf(c);
      const said = page.get(id)!;
      expect({ id, runs: said.runs }).toEqual({ id, runs: again.get(id) === 'run' });
      if (again.get(id) === 'run') continue;
      // Not executed: kept as it succeeded in this run, or skipped saying the same as the page.
      const status = rerun.steps.find((st) => st.stepId === id)!.status;
      if (status === 'succeeded') expect({ id, says: said.says }).toEqual({ id, says: expect.stringMatching(/^will not repeat \(/) });
      else expect({ id, says: said.says }).toEqual({ id, says: `skipped: ${again.get(id)}` });
    }
  });
});
