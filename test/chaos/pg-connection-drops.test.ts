// Dropped database connections under load, on PostgreSQL: a simulated platform sends N calls
// (retrying deliveries that got no 2xx) while every connection of the service is terminated
// again and again (`pg_terminate_backend`, spaced by finished runs, not by time); then every
// call is re-evaluated (re-sent with changed extracted variables: a new revision) under the
// same terminations. Afterwards:
//   - the SMS step (`repeat: never`) took effect exactly once per call at the stub gateway:
//     no revision sent it again under a new idempotency key (a step in flight when its record
//     was lost may be re-sent with the SAME key, which the gateway deduplicates);
//   - no run is `succeeded` with a step that is not `succeeded` or `skipped`;
//   - every acked call was processed, and no run is left unfinished.
// Skipped loudly without TEST_DATABASE_URL.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlList, UNFINISHED } from '../../src/store/run-status.js';
import { createTestSchema, TEST_DATABASE_URL, warnWhenNoDatabase, type TestSchema } from '../support/test-database.js';
import { chaosCall, salesFollowupYaml } from './support/calls.js';
import { postJson, ServiceSupervisor } from './support/child-service.js';
import { chaosScenario } from './support/scenario.js';
import { chaosSeed, pick, pollUntil, printSummary, seededRandom, sleep } from './support/scale.js';

warnWhenNoDatabase('test/chaos/pg-connection-drops.test.ts');

const CALLS = pick({ short: 80, full: 1_000 });
const SENDERS = 8;
/** Finished runs between two terminations. */
const RUNS_PER_TERMINATION = pick({ short: 4, full: 10 });
/** Deliveries of one call before the platform gives up (bounded; a refused one is retried). */
const MAX_ATTEMPTS = 30;
/** A safety net against a hang only: the scenario ends by counts. */
const TEST_TIMEOUT_MS = pick({ short: 120_000, full: 900_000 });
const FIRST_ID = 1_800_000;
const FINISHED = `status NOT IN ${sqlList(UNFINISHED)}`;

const scenario = chaosScenario('pg-drops');
let schema: TestSchema | undefined;
beforeAll(async () => {
  if (TEST_DATABASE_URL) schema = await createTestSchema('aftercall_chaos_drops');
});
afterAll(async () => {
  await scenario.supervisor?.kill9(); // before the schema goes
  await schema?.drop();
});

describe.skipIf(!TEST_DATABASE_URL)('chaos: PostgreSQL connections dropped under load', () => {
  it(
    'no step is sent twice, and no run ends succeeded with a step unrecorded',
    async () => {
      const db = schema!;
      const seed = chaosSeed();
      const random = seededRandom(seed);
      const latency = () => 1 + Math.floor(random() * 15);
      // A CRM update per revision is expected (repeat: on-change): its unit is the content.
      const crm = await scenario.stub({ name: 'crm', latencyMs: latency, unitOf: (path, body) => `crm${path}:${String(body.call)}:${String(body.summary)}` });
      const sms = await scenario.stub({ name: 'sms', latencyMs: latency });
      const mappings = join(scenario.dir.path, 'mappings');
      mkdirSync(mappings);
      writeFileSync(join(mappings, 'sales-followup.yaml'), salesFollowupYaml(crm.url, sms.url));
      scenario.supervisor = await ServiceSupervisor.create({
        env: {
          DATABASE_URL: db.url, // its connections carry the schema's name as application_name
          MAPPINGS_DIR: mappings,
          WORKER_POLL_INTERVAL_MS: '50',
          LEASE_MS: '2000',
          STEP_TIMEOUT_MS: '3000',
          RETRY_BASE_DELAY_MS: '50',
          RETRY_MAX_DELAY_MS: '300',
        },
      });
      const service = scenario.supervisor;
      await service.start();

      const finishedRuns = async () => Number((await db.admin.query<{ n: string }>(`SELECT COUNT(*) AS n FROM runs WHERE ${FINISHED}`)).rows[0]!.n);

      // --- chaos: terminate every connection of the service once per few finished runs ----
      // Owed terminations are paid as soon as the service holds a connection again, so their
      // number follows the runs, not how fast this machine is.
      let terminations = 0;
      let connectionsTerminated = 0;
      let stopChaos = false;
      const chaos = (async () => {
        while (!stopChaos) {
          const owed = Math.floor((await finishedRuns()) / RUNS_PER_TERMINATION) + 1 - terminations;
          const { rows } =
            owed > 0
              ? await db.admin.query<{ n: string }>(
                  'SELECT COUNT(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE application_name = $1',
                  [db.name],
                )
              : { rows: [{ n: '0' }] };
          const terminated = Number(rows[0]!.n);
          if (terminated === 0) {
            await sleep(10);
            continue;
          }
          terminations++;
          connectionsTerminated += terminated;
        }
      })();

      // --- the platform: every call once, then every call re-evaluated --------------------
      const acked = new Map<number, Set<number>>(); // call → revisions acknowledged
      let posts = 0;
      let refused = 0;
      const gaveUp: number[] = [];
      const deliverAll = async (revision: number) => {
        const queue = Array.from({ length: CALLS }, (_, i) => FIRST_ID + i);
        const sender = async () => {
          for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
            const summary = revision === 1 ? `summary of call ${id}` : `re-evaluated summary of call ${id}`;
            for (let attempt = 1; ; attempt++) {
              posts++;
              const reply = await postJson(service.hookUrl, chaosCall(id, summary), 10_000);
              if ((reply.status === 202 || reply.status === 200) && reply.body?.call_id === id) {
                acked.set(id, (acked.get(id) ?? new Set()).add(Number(reply.body.revision)));
                break;
              }
              refused++;
              if (attempt >= MAX_ATTEMPTS) {
                gaveUp.push(id);
                break;
              }
              await sleep(20 + Math.floor(random() * 80));
            }
          }
        };
        await Promise.all(Array.from({ length: SENDERS }, sender));
      };
      await deliverAll(1);
      await deliverAll(2);

      // --- every run finishes (those stranded by a lost write come back after their lease) --
      const totalRuns = async () => Number((await db.admin.query<{ n: string }>('SELECT COUNT(*) AS n FROM runs')).rows[0]!.n);
      await pollUntil(
        async () => ({ total: await totalRuns(), finished: await finishedRuns() }),
        (c) => c.total > 0 && c.finished === c.total,
        TEST_TIMEOUT_MS / 2,
        100,
      );
      stopChaos = true;
      await chaos;
      await service.stop();

      // --- the ledger ----------------------------------------------------------------------
      const runs = (
        await db.admin.query<{ id: number; call_key: string; revision: number; status: string; last_error: string | null }>(
          `SELECT r.id, c.call_key, r.revision, r.status, r.last_error FROM runs r JOIN calls c ON c.id = r.call_row_id ORDER BY r.id`,
        )
      ).rows;
      const steps = (
        await db.admin.query<{ run_id: number; step_id: string; status: string; error: string | null }>(
          'SELECT run_id, step_id, status, error FROM step_results',
        )
      ).rows;
      const stepsOf = new Map<number, typeof steps>();
      for (const s of steps) stepsOf.set(s.run_id, [...(stepsOf.get(s.run_id) ?? []), s]);
      // The run committed succeeded while a step's record never landed.
      const succeededUnrecorded = runs.filter(
        (r) => r.status === 'succeeded' && (stepsOf.get(r.id)?.length !== 2 || stepsOf.get(r.id)!.some((s) => s.status !== 'succeeded' && s.status !== 'skipped')),
      );
      const smsByCall = sms.effectsByUnit();
      const resent = sms.duplicateEffects(); // an SMS taking effect again under another key
      const committedCalls = new Set(runs.map((r) => Number(r.call_key)));
      const smsMissing = [...acked.keys()].filter((id) => (smsByCall.get(`sms/messages:${id}`)?.length ?? 0) === 0);
      const unfinished = runs.filter((r) => (UNFINISHED as readonly string[]).includes(r.status));
      const notSucceeded = runs.filter((r) => r.status !== 'succeeded');
      const lost = [...acked.keys()].filter((id) => !committedCalls.has(id));

      printSummary('PostgreSQL connections dropped under load', {
        sent: CALLS * 2,
        acked: [...acked.values()].reduce((n, revisions) => n + revisions.size, 0),
        processed: runs.filter((r) => r.status === 'succeeded').length,
        duplicates: resent,
        lost: lost.length,
        crashes: service.crashes,
        extra: {
          seed,
          posts,
          'refused posts': refused,
          'gave up': gaveUp.length,
          terminations,
          'connections terminated': connectionsTerminated,
          runs: runs.length,
          'succeeded with a step unrecorded': succeededUnrecorded.length,
          'sms sent again (other key)': resent,
          'sms re-sent with the same key': sms.resentSameKey(),
          'runs not succeeded': notSucceeded.length,
        },
      });
      if (service.crashLogs.length > 0) console.error(service.crashLogs.join('\n---\n'));

      expect(terminations, 'connections were dropped throughout').toBeGreaterThanOrEqual(Math.floor((CALLS * 2) / RUNS_PER_TERMINATION / 2));
      expect(gaveUp, 'calls never acknowledged').toEqual([]);
      expect(resent, 'SMS sent twice under different keys').toBe(0);
      expect(succeededUnrecorded.map((r) => ({ run: r.id, steps: stepsOf.get(r.id) }))).toEqual([]);
      expect(smsMissing, 'acked calls without their SMS').toEqual([]);
      expect(lost).toEqual([]);
      expect(unfinished).toEqual([]);
      // http.request is safe to repeat: a step left `started` is sent again with its own key, so
      // every run ends succeeded.
      expect(notSucceeded.map((r) => `${r.id}: ${r.status} ${r.last_error}`)).toEqual([]);
      expect(runs).toHaveLength(CALLS * 2);
      expect(service.crashes).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});
