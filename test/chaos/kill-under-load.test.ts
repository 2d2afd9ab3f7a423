// Kill -9 under load: a simulated platform sends N distinct calls (retrying deliveries that got
// no 2xx, like the real one, and giving up on some) while the service is SIGKILLed at points
// spread over the calls (after every N/(KILLS+1) settled calls, once runs are under way) and
// restarted on the same SQLite file. The scenario is bounded by counts, not by the clock: a
// sender whose delivery failed waits until the service is up again, so each kill costs at most
// one failed delivery per sender however long a restart takes on a busy machine. Afterwards:
//   - every call that got a 2xx was processed exactly once per mapping (one effect per step at
//     the stub vendors; a step in flight at a kill may be re-sent, with the SAME Idempotency-Key,
//     which the vendor deduplicates: documented at-least-once for steps in flight);
//   - no step recorded `succeeded` before a kill is ever sent again;
//   - every call that was committed without an ack is processed fully too (never half-done),
//     and no run is left pending/running/retrying.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chaosCall, httpStep, mappingYaml, salesFollowupYaml } from './support/calls.js';
import { postJson, ServiceSupervisor, type ServiceProcess } from './support/child-service.js';
import { chaosScenario } from './support/scenario.js';
import { chaosSeed, pick, pollUntil, printSummary, seededRandom, sleep } from './support/scale.js';
import { readStore, unfinishedRuns } from './support/store-probe.js';

const CALLS = pick({ short: 60, full: 500 });
const KILLS = pick({ short: 3, full: 12 });
const SENDERS = pick({ short: 6, full: 8 });
/** Deliveries of one call before the platform gives up (Famulor: the first try + 3 retries). */
const MAX_ATTEMPTS = 4;
/** Chance that the platform gives up on a call after a failed delivery. */
const GIVE_UP = 0.15;
/** A safety net against a hang only: the scenario ends by counts. */
const TEST_TIMEOUT_MS = pick({ short: 300_000, full: 900_000 });
const FIRST_ID = 900_000;

const scenario = chaosScenario('kill');
const { dir } = scenario;

describe('chaos: kill -9 under load', () => {
  it(
    'acked calls are processed exactly once per mapping, nothing committed is left half-done',
    async () => {
      const seed = chaosSeed();
      const random = seededRandom(seed);
      const latency = () => 5 + Math.floor(random() * 55);
      const crm = await scenario.stub({ name: 'crm', latencyMs: latency });
      const sms = await scenario.stub({ name: 'sms', latencyMs: latency });
      const erp = await scenario.stub({ name: 'erp', latencyMs: latency });

      const mappings = join(dir.path, 'mappings');
      mkdirSync(mappings);
      writeFileSync(join(mappings, 'sales-followup.yaml'), salesFollowupYaml(crm.url, sms.url));
      writeFileSync(
        join(mappings, 'erp-forward.yaml'),
        mappingYaml('erp-forward', [httpStep('forward', `${erp.url}/calls`, '{ call: "{{ call.id }}" }')]),
      );
      const sqlitePath = join(dir.path, 'data', 'aftercall.db');
      scenario.supervisor = await ServiceSupervisor.create({
        env: {
          SQLITE_PATH: sqlitePath,
          MAPPINGS_DIR: mappings,
          WORKER_CONCURRENCY: '4',
          WORKER_POLL_INTERVAL_MS: '50',
          LEASE_MS: '5000',
          STEP_TIMEOUT_MS: '3000',
          RETRY_BASE_DELAY_MS: '50',
          RETRY_MAX_DELAY_MS: '500',
        },
      });
      const service = scenario.supervisor;
      await service.start();

      // --- the platform: N distinct calls; a failed delivery is retried once the service is back
      const acked = new Set<number>();
      const gaveUp = new Set<number>();
      let posts = 0;
      let failedPosts = 0;
      const queue = Array.from({ length: CALLS }, (_, i) => ({ id: FIRST_ID + i, attempts: 0 }));
      const settledCalls = () => acked.size + gaveUp.size;
      /** From the SIGKILL until the next process listens (the kill is not seen at once). */
      let killing = false;
      /** Resolves once a process other than `gone` listens. */
      const upAgain = async (gone: ServiceProcess | undefined) => {
        while (!(service.current && service.current !== gone && service.current.alive())) await sleep(20);
      };
      const sender = async () => {
        for (let call = queue.shift(); call; call = queue.shift()) {
          const id = call.id;
          call.attempts++;
          posts++;
          const target = service.current;
          const reply = await postJson(service.hookUrl, chaosCall(id), 10_000);
          const ok =
            (reply.status === 202 || reply.status === 200) &&
            (reply.body?.status === 'accepted' || reply.body?.status === 'duplicate') &&
            reply.body?.call_id === id;
          if (ok) acked.add(id);
          else {
            failedPosts++;
            if (call.attempts >= MAX_ATTEMPTS || random() < GIVE_UP) gaveUp.add(id);
            else queue.push(call);
            // Killed under it: like the real platform, which retries 30, 60 and 120 s later, the
            // sender comes back after the restart.
            if (killing || !target?.alive()) await upAgain(target);
          }
          await sleep(Math.floor(random() * 30));
        }
      };
      const senders = Promise.all(Array.from({ length: SENDERS }, sender));

      // --- chaos: SIGKILL after every CALLS/(KILLS+1) settled calls, restart on the same file
      /** Idempotency key of a step recorded succeeded → when the process that recorded it died. */
      const succeededAtKill = new Map<string, number>();
      let killsMidRun = 0;
      for (let k = 0; k < KILLS; k++) {
        const threshold = Math.floor(((k + 1) * CALLS) / (KILLS + 1));
        while (settledCalls() < threshold) await sleep(10);
        // Then the first moment when some run is under way, so kills land mid-run.
        await pollUntil(() => unfinishedRuns(readStore(sqlitePath)).length, (n) => n > 0, 5_000, 10);
        killing = true;
        await service.kill9();
        const deadAt = Date.now();
        const atKill = readStore(sqlitePath);
        for (const step of atKill.steps) {
          if (step.status === 'succeeded' && !succeededAtKill.has(step.idempotencyKey)) succeededAtKill.set(step.idempotencyKey, deadAt);
        }
        if (unfinishedRuns(atKill).length > 0) killsMidRun++;
        await service.start();
        killing = false;
      }
      await senders;

      // --- let the last process finish everything it holds ---------------------------------
      const settled = await pollUntil(
        () => readStore(sqlitePath),
        (s) => unfinishedRuns(s).length === 0 && s.runs.length === s.calls.size * 2,
        120_000,
        100,
      );
      await service.stop();
      const final = readStore(sqlitePath);

      // --- the ledger ------------------------------------------------------------------------
      const expectedUnits = (id: string) => [`crm/contacts:${id}`, `sms/messages:${id}`, `erp/calls:${id}`];
      const effectCount = new Map<string, number>();
      for (const stub of [crm, sms, erp]) {
        for (const [unit, list] of stub.effectsByUnit()) effectCount.set(unit, list.length);
      }
      const fullyProcessed = (id: string) => {
        const runs = final.runs.filter((r) => r.callKey === id);
        const steps = final.steps.filter((s) => s.callKey === id);
        return (
          runs.length === 2 &&
          runs.every((r) => r.status === 'succeeded') &&
          steps.length === 3 &&
          steps.every((s) => s.status === 'succeeded') &&
          expectedUnits(id).every((u) => (effectCount.get(u) ?? 0) >= 1)
        );
      };
      const committed = [...final.calls];
      const processed = committed.filter(fullyProcessed);
      const lost = [...acked].filter((id) => !final.calls.has(String(id)) || !fullyProcessed(String(id)));
      const halfDone = committed.filter((id) => !acked.has(Number(id)) && !fullyProcessed(id));
      const phantom = [...effectCount.keys()].filter((unit) => !final.calls.has(unit.slice(unit.lastIndexOf(':') + 1)));
      // A step recorded succeeded before a kill, sent again by a later process.
      const reExecuted = [crm, sms, erp].flatMap((stub) =>
        stub.requests.filter((r) => r.key !== null && succeededAtKill.has(r.key) && r.at > succeededAtKill.get(r.key)!),
      );
      const duplicateEffects = crm.duplicateEffects() + sms.duplicateEffects() + erp.duplicateEffects();
      const duplicates = duplicateEffects + reExecuted.length;

      printSummary('kill -9 under load', {
        sent: CALLS,
        acked: acked.size,
        processed: processed.length,
        duplicates,
        lost: lost.length,
        crashes: service.crashes,
        extra: {
          seed,
          posts,
          'failed posts': failedPosts,
          'gave up': gaveUp.size,
          committed: committed.length,
          'committed unacked': committed.filter((id) => !acked.has(Number(id))).length,
          'half-done': halfDone.length,
          kills: service.kills,
          'kills mid-run': killsMidRun,
          'in-flight re-sends (same key)': crm.resentSameKey() + sms.resentSameKey() + erp.resentSameKey(),
          'stuck runs': unfinishedRuns(settled).length,
        },
      });
      if (service.crashLogs.length > 0) console.error(service.crashLogs.join('\n---\n'));

      expect(service.kills).toBe(KILLS);
      expect(killsMidRun, 'at least one kill landed while runs were unfinished').toBeGreaterThan(0);
      // Each kill fails at most one delivery per sender (a sender waits for the restart), so at
      // most SENDERS × KILLS calls can be given up, however slow the machine.
      expect(gaveUp.size + acked.size).toBe(CALLS);
      expect(acked.size, 'enough calls were acknowledged in the end').toBeGreaterThanOrEqual(CALLS - SENDERS * KILLS);
      expect(duplicates, `re-executed after success: ${JSON.stringify(reExecuted.slice(0, 5))}`).toBe(0);
      expect(lost, 'acked calls not fully processed').toEqual([]);
      expect(halfDone, 'committed (unacked) calls left half-done').toEqual([]);
      expect(phantom, 'effects of calls that were never committed').toEqual([]);
      expect(unfinishedRuns(final)).toEqual([]);
      expect(service.crashes).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});
