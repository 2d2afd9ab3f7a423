// Duplicate storm: the same call delivered concurrently 50 times, then re-evaluated revisions
// (each also delivered many times, concurrently, mixed with late retries of the first content
// and byte-different copies of the same content). Per call:
//   - one revision per distinct content, exactly one 202 per distinct content, every other
//     delivery a 200 duplicate (never a 5xx);
//   - the `repeat: never` step (the SMS) takes effect once, for the first revision only;
//   - an `on-change` step whose input changes (the CRM summary) once per revision, in revision
//     order (the CRM ends with the latest content), and one whose input never changes once.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chaosCall, httpStep, mappingYaml } from './support/calls.js';
import { postJson, ServiceSupervisor, type PostResult } from './support/child-service.js';
import { chaosScenario } from './support/scenario.js';
import { chaosSeed, pick, pollUntil, printSummary, seededRandom } from './support/scale.js';
import { readStore, unfinishedRuns } from './support/store-probe.js';

const CALLS = pick({ short: 6, full: 24 });
/** Concurrent copies of the first content. */
const STORM = 50;
/** Distinct contents per call: the first plus re-evaluations. */
const CONTENTS = pick({ short: 3, full: 5 });
const TEST_TIMEOUT_MS = pick({ short: 45_000, full: 180_000 });
const FIRST_ID = 710_000;

const scenario = chaosScenario('storm');
const { dir } = scenario;

const summaryOf = (id: number, content: number) => `call ${id}, evaluation ${content}`;

/** The same content as bytes of another shape: keys reversed, pretty-printed. */
function reshaped(body: Record<string, unknown>): string {
  return JSON.stringify(Object.fromEntries(Object.entries(body).reverse()), null, 2);
}

describe('chaos: duplicate storm', () => {
  it(
    'one revision per distinct content; repeat: never steps once; on-change steps once per change, in order',
    async () => {
      const seed = chaosSeed();
      const random = seededRandom(seed);
      const crm = await scenario.stub({
        name: 'crm',
        latencyMs: () => Math.floor(random() * 15),
        unitOf: (path, body) => (path === '/contacts' ? `crm:${String(body.call)}:${String(body.summary)}` : `tag:${String(body.call)}`),
      });
      const sms = await scenario.stub({ name: 'sms', latencyMs: () => Math.floor(random() * 15), unitOf: (_p, body) => `sms:${String(body.call)}` });
      const mappings = join(dir.path, 'mappings');
      mkdirSync(mappings);
      writeFileSync(
        join(mappings, 'sales-followup.yaml'),
        mappingYaml('sales-followup', [
          httpStep('crm', `${crm.url}/contacts`, '{ call: "{{ call.id }}", summary: "{{ extracted.summary }}" }'),
          httpStep('tag', `${crm.url}/tags`, '{ call: "{{ call.id }}", tag: "ai-call" }'),
          httpStep('sms', `${sms.url}/messages`, '{ call: "{{ call.id }}", to: "{{ call.customer_phone }}", text: "Thanks! {{ extracted.summary }}" }', [
            'repeat: never',
          ]),
        ]),
      );
      const sqlitePath = join(dir.path, 'aftercall.db');
      scenario.supervisor = await ServiceSupervisor.create({
        env: { SQLITE_PATH: sqlitePath, MAPPINGS_DIR: mappings, WORKER_CONCURRENCY: '8', WORKER_POLL_INTERVAL_MS: '50' },
      });
      const service = scenario.supervisor;
      await service.start();

      const ids = Array.from({ length: CALLS }, (_, i) => FIRST_ID + i);
      const replies = new Map<number, Array<{ content: number; reply: PostResult }>>(ids.map((id) => [id, []]));
      const deliver = async (id: number, content: number, body: unknown) => {
        const reply = await postJson(service.hookUrl, body, 20_000);
        replies.get(id)!.push({ content, reply });
      };

      // Wave 1: every call STORM times at once (STORM × CALLS concurrent requests).
      await Promise.all(ids.flatMap((id) => Array.from({ length: STORM }, () => deliver(id, 0, chaosCall(id, summaryOf(id, 0))))));
      // Wave 2: the re-evaluations, each many times, mixed with late retries of content 0 and
      // reshaped copies, all at once and shuffled.
      const wave2: Array<() => Promise<void>> = [];
      for (const id of ids) {
        for (let content = 1; content < CONTENTS; content++) {
          const body = chaosCall(id, summaryOf(id, content));
          for (let n = 0; n < 10; n++) wave2.push(() => deliver(id, content, body));
          for (let n = 0; n < 3; n++) wave2.push(() => deliver(id, content, reshaped(body)));
        }
        for (let n = 0; n < 10; n++) wave2.push(() => deliver(id, 0, chaosCall(id, summaryOf(id, 0))));
      }
      for (let i = wave2.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [wave2[i], wave2[j]] = [wave2[j]!, wave2[i]!];
      }
      await Promise.all(wave2.map((send) => send()));

      const settled = await pollUntil(
        () => readStore(sqlitePath),
        (s) => s.runs.length === CALLS * CONTENTS && unfinishedRuns(s).length === 0,
        30_000,
        100,
      );
      await service.stop();
      const final = readStore(sqlitePath);

      // --- the ledger ------------------------------------------------------------------------
      const problems: string[] = [];
      let acked = 0;
      let deliveries = 0;
      let processed = 0;
      for (const id of ids) {
        const list = replies.get(id)!;
        deliveries += list.length;
        const bad = list.filter((r) => r.reply.status !== 202 && r.reply.status !== 200);
        if (bad.length) problems.push(`call ${id}: ${bad.length} replies neither 202 nor 200 (e.g. ${JSON.stringify(bad[0])})`);
        acked += list.length - bad.length;
        for (let content = 0; content < CONTENTS; content++) {
          const accepted = list.filter((r) => r.content === content && r.reply.status === 202);
          if (accepted.length !== 1) problems.push(`call ${id} content ${content}: ${accepted.length} × 202`);
        }
        const revisions = final.revisions.filter((r) => r.callKey === String(id));
        if (revisions.length !== CONTENTS || new Set(revisions.map((r) => r.contentHash)).size !== CONTENTS) {
          problems.push(`call ${id}: ${revisions.length} revisions`);
        }
        const runs = final.runs.filter((r) => r.callKey === String(id));
        processed += runs.filter((r) => r.status === 'succeeded').length;
        if (runs.length !== CONTENTS || runs.some((r) => r.status !== 'succeeded')) problems.push(`call ${id}: runs ${JSON.stringify(runs.map((r) => [r.revision, r.status]))}`);
        // The CRM ends with the content of the latest revision: revisions ran in order.
        const latest = revisions.at(-1)?.summary;
        const crmEffects = crm.effectsByUnit();
        const lastCrm = crm.effects.filter((e) => e.unit.startsWith(`crm:${id}:`)).at(-1);
        if (lastCrm?.body.summary !== latest) problems.push(`call ${id}: CRM ends with ${String(lastCrm?.body.summary)}, latest is ${String(latest)}`);
        for (let content = 0; content < CONTENTS; content++) {
          const n = crmEffects.get(`crm:${id}:${summaryOf(id, content)}`)?.length ?? 0;
          if (n !== 1) problems.push(`call ${id}: CRM update for content ${content} took effect ${n} times`);
        }
        if ((crmEffects.get(`tag:${id}`)?.length ?? 0) !== 1) problems.push(`call ${id}: unchanged tag step took effect more than once`);
        const smsSends = sms.requests.filter((r) => r.unit === `sms:${id}`).length;
        if (smsSends !== 1) problems.push(`call ${id}: ${smsSends} SMS requests`);
        const skipped = final.steps.filter((s) => s.callKey === String(id) && s.stepId === 'sms' && s.status === 'skipped');
        if (skipped.length !== CONTENTS - 1 || !skipped.every((s) => /repeat: never/.test(s.error ?? ''))) {
          problems.push(`call ${id}: sms skipped for ${skipped.length} later revisions`);
        }
      }
      const smsDuplicates = sms.requests.length - CALLS;
      const duplicates = Math.max(0, smsDuplicates) + crm.duplicateEffects() + sms.duplicateEffects();
      printSummary('duplicate storm', {
        sent: deliveries,
        acked,
        processed,
        duplicates,
        lost: CALLS * CONTENTS - processed,
        crashes: service.crashes,
        extra: {
          seed,
          'distinct calls': CALLS,
          'distinct contents per call': CONTENTS,
          'processed counts': 'revisions',
          revisions: final.revisions.length,
          runs: final.runs.length,
          'receipts accepted': final.receipts.accepted ?? 0,
          'receipts duplicate': final.receipts.duplicate ?? 0,
          'sms sent': sms.requests.length,
          'crm effects': crm.effects.length,
          'stuck runs': unfinishedRuns(settled).length,
        },
      });
      expect(problems).toEqual([]);
      expect(duplicates).toBe(0);
      expect(final.receipts.accepted).toBe(CALLS * CONTENTS);
      expect((final.receipts.accepted ?? 0) + (final.receipts.duplicate ?? 0)).toBe(deliveries);
      expect(unfinishedRuns(final)).toEqual([]);
      expect(service.crashes).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});
