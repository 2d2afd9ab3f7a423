// Vendor outage: while calls arrive, the stub CRM and SMS gateway answer 500/503, 429 with
// Retry-After, time out (some after the message was already sent) and drop connections. After
// the outage ends:
//   - every run completes, none went to the dead letter during the outage;
//   - no duplicate SMS and no duplicate CRM write: retries carry the same Idempotency-Key, so an
//     SMS that went out before a timeout is not sent a second time;
// and a vendor that never recovers (the ERP, with `retry: { max_attempts: 3 }`) sends its runs to
// the dead letter only after exactly that many attempts, with RETRIES_EXHAUSTED.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chaosCall, httpStep, mappingYaml, salesFollowupYaml } from './support/calls.js';
import { postJson, ServiceSupervisor } from './support/child-service.js';
import { chaosScenario } from './support/scenario.js';
import { chaosSeed, pick, pollUntil, printSummary, seededRandom, sleep } from './support/scale.js';
import { readStore, unfinishedRuns } from './support/store-probe.js';
import type { Fault } from './support/vendor-stub.js';

const CALLS = pick({ short: 30, full: 200 });
const OUTAGE_MS = pick({ short: 3_000, full: 12_000 });
const TEST_TIMEOUT_MS = pick({ short: 45_000, full: 180_000 });
const STEP_TIMEOUT_MS = 300;
const RETRY_LIMIT = 100;
const ERP_ATTEMPTS = 3;
const FIRST_ID = 820_000;

// The CRM flaps (an answer now and then), so runs get past it and meet the SMS outage too.
const CRM_OUTAGE: Fault[] = ['error-500', 'ok', 'throttle-429', 'timeout-after-effect', 'ok', 'unavailable-503', 'reset-before-effect', 'timeout-before-effect'];
const SMS_OUTAGE: Fault[] = ['timeout-after-effect', 'error-500', 'reset-after-effect', 'throttle-429', 'timeout-before-effect', 'unavailable-503'];

const scenario = chaosScenario('outage');
const { dir } = scenario;

describe('chaos: vendor outage', () => {
  it(
    'all runs complete after recovery, no duplicate SMS, dead letters only after the retry limit',
    async () => {
      const seed = chaosSeed();
      const random = seededRandom(seed);
      const holdMs = STEP_TIMEOUT_MS * 3;
      const crm = await scenario.stub({ name: 'crm', holdMs, retryAfter: '1', latencyMs: () => Math.floor(random() * 10) });
      const sms = await scenario.stub({ name: 'sms', holdMs, retryAfter: '1', latencyMs: () => Math.floor(random() * 10) });
      const erp = await scenario.stub({ name: 'erp' });
      const mappings = join(dir.path, 'mappings');
      mkdirSync(mappings);
      writeFileSync(join(mappings, 'sales-followup.yaml'), salesFollowupYaml(crm.url, sms.url));
      writeFileSync(
        join(mappings, 'erp-export.yaml'),
        mappingYaml('erp-export', [
          httpStep('export', `${erp.url}/calls`, '{ call: "{{ call.id }}" }', [
            `retry: { max_attempts: ${ERP_ATTEMPTS}, base_delay_ms: 20, max_delay_ms: 100 }`,
          ]),
        ]),
      );
      const sqlitePath = join(dir.path, 'aftercall.db');
      scenario.supervisor = await ServiceSupervisor.create({
        env: {
          SQLITE_PATH: sqlitePath,
          MAPPINGS_DIR: mappings,
          WORKER_CONCURRENCY: '8',
          WORKER_POLL_INTERVAL_MS: '50',
          STEP_TIMEOUT_MS: String(STEP_TIMEOUT_MS),
          RETRY_MAX_ATTEMPTS: String(RETRY_LIMIT),
          RETRY_BASE_DELAY_MS: '50',
          RETRY_MAX_DELAY_MS: '400',
        },
      });
      const service = scenario.supervisor;
      await service.start();

      // --- the outage: calls arrive while the CRM and SMS gateway misbehave; the ERP is down for good
      crm.setFaults(CRM_OUTAGE);
      sms.setFaults(SMS_OUTAGE);
      erp.setFaults(['unavailable-503']);
      const outageEnds = Date.now() + OUTAGE_MS;
      const ids = Array.from({ length: CALLS }, (_, i) => FIRST_ID + i);
      let acked = 0;
      const spacing = (OUTAGE_MS * 0.6) / CALLS;
      for (const id of ids) {
        const reply = await postJson(service.hookUrl, chaosCall(id));
        if (reply.status === 202) acked++;
        await sleep(spacing);
      }
      let deadDuringOutage: string[] = [];
      while (Date.now() < outageEnds) {
        const snapshot = readStore(sqlitePath);
        deadDuringOutage = snapshot.runs.filter((r) => r.mapping === 'sales-followup' && r.status === 'dead').map((r) => r.callKey);
        if (deadDuringOutage.length > 0) break;
        await sleep(200);
      }
      const midOutage = readStore(sqlitePath);

      // --- recovery: the CRM and SMS gateway answer again (the ERP never does) -------------
      crm.setFaults(['ok']);
      sms.setFaults(['ok']);
      const recoveredAt = Date.now();
      const final = await pollUntil(() => readStore(sqlitePath), (s) => s.runs.length === CALLS * 2 && unfinishedRuns(s).length === 0, 30_000, 100);
      const recoveryMs = Date.now() - recoveredAt;
      await service.stop();

      // --- the ledger ------------------------------------------------------------------------
      const followups = final.runs.filter((r) => r.mapping === 'sales-followup');
      const exports = final.runs.filter((r) => r.mapping === 'erp-export');
      const processed = followups.filter((r) => r.status === 'succeeded');
      const smsEffects = sms.effectsByUnit();
      const crmEffects = crm.effectsByUnit();
      const missingEffects = ids.filter((id) => !smsEffects.has(`sms/messages:${id}`) || !crmEffects.has(`crm/contacts:${id}`));
      const duplicates = sms.duplicateEffects() + crm.duplicateEffects();
      const exportSteps = final.steps.filter((s) => s.mapping === 'erp-export');
      const wrongDeadLetters = exports.filter(
        (r) => r.status !== 'dead' || r.attempts !== ERP_ATTEMPTS || !r.lastError?.startsWith(`RETRIES_EXHAUSTED after ${ERP_ATTEMPTS} attempts`),
      );
      const erpSendsPerRun = exportSteps.map((s) => erp.sendsOfKey(s.idempotencyKey));
      const faultsServed = [...crm.requests, ...sms.requests].filter((r) => r.fault !== 'ok').length;
      const retriedRuns = followups.filter((r) => r.attempts > 0).length;
      const effectsBeforeAnswer = [...crm.requests, ...sms.requests].filter((r) => r.effect && r.fault !== 'ok').length;
      // Held answers (timeout faults) that the caller was still waiting for: its step timeout did
      // not fire. See step-timeout-after-gc.test.ts (Node's AbortSignal.any + AbortSignal.timeout).
      const timeoutsNotEnforced = [...crm.requests, ...sms.requests].filter((r) => r.heldAnswerReceived === true).length;
      const smsFaults = sms.requests.filter((r) => r.fault !== 'ok').length;
      const smsLostAnswers = sms.requests.filter((r) => r.effect && r.fault !== 'ok').length;

      printSummary('vendor outage', {
        sent: CALLS,
        acked,
        processed: processed.length,
        duplicates,
        lost: CALLS - processed.length,
        crashes: service.crashes,
        extra: {
          seed,
          'outage ms': OUTAGE_MS,
          'vendor faults served': faultsServed,
          'effects whose answer was lost': effectsBeforeAnswer,
          'retried runs': retriedRuns,
          'max attempts of a run': Math.max(0, ...followups.map((r) => r.attempts)),
          'sms requests': sms.requests.length,
          'sms faults': smsFaults,
          'sms sent but answer lost': smsLostAnswers,
          'sms effects': sms.effects.length,
          'dead during outage': deadDuringOutage.length,
          'dead letters (erp)': exports.filter((r) => r.status === 'dead').length,
          'runs unfinished mid-outage': unfinishedRuns(midOutage).length,
          'recovery ms': recoveryMs,
          'step timeouts not enforced': timeoutsNotEnforced,
        },
      });

      expect(acked).toBe(CALLS);
      expect(faultsServed, 'the outage really happened').toBeGreaterThan(CALLS);
      expect(smsFaults, 'the SMS gateway outage was met').toBeGreaterThan(0);
      expect(smsLostAnswers, 'some SMS went out but the answer was lost (timeout, reset)').toBeGreaterThan(0);
      expect(deadDuringOutage, 'no dead letter before the retry limit').toEqual([]);
      expect(followups.map((r) => r.status)).toEqual(Array(CALLS).fill('succeeded'));
      expect(Math.max(...followups.map((r) => r.attempts))).toBeLessThan(RETRY_LIMIT);
      expect(missingEffects).toEqual([]);
      expect(duplicates, 'duplicate SMS or CRM writes').toBe(0);
      expect(wrongDeadLetters.map((r) => [r.callKey, r.status, r.attempts, r.lastError?.slice(0, 60)])).toEqual([]);
      expect(exports).toHaveLength(CALLS);
      expect(erpSendsPerRun).toEqual(Array(CALLS).fill(ERP_ATTEMPTS));
      expect(unfinishedRuns(final)).toEqual([]);
      expect(service.crashes).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});
