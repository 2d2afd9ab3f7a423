// Two real service processes on one PostgreSQL database, as behind a load balancer: the same
// call delivered to both at once, a burst of distinct calls and re-evaluations split across
// them, then one instance killed with SIGKILL mid-run. Every acknowledged call must run
// exactly once per mapping, a `repeat: never` step must never run twice for a call, and
// nothing may be left stuck: the survivor resumes the dead instance's runs after their lease.
// Skipped, with a warning, when TEST_DATABASE_URL is not set.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { callVersion } from './store/store-conformance.js';
import { startStubServer, type StubServer } from './support/stub-server.js';
import { tempDir } from './support/temp-dir.js';
import { createTestSchema, TEST_DATABASE_URL, warnWhenNoDatabase, type TestSchema } from './support/test-database.js';

warnWhenNoDatabase('test/multi-instance.test.ts');

const ROOT = join(import.meta.dirname, '..');
const TOKEN = 'multi-instance-token-0123456789';
const CONCURRENCY = 4; // per instance
const RACED_CALLS = 5; // each delivered 10 times at once, 5 times to each instance
const BURST = 30; // distinct calls
const REEVALUATED = 10; // of the burst, delivered again with new content: revision 2

interface Instance {
  proc: ChildProcess;
  url: string;
  output: () => string;
}

const children: ChildProcess[] = [];
let receiver: StubServer | undefined;
let schema: TestSchema | undefined;
const dir = tempDir();

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : null)));
  await receiver?.close();
  await schema?.drop();
  dir.cleanup();
});

async function startInstance(env: Record<string, string>): Promise<Instance> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'serve'], {
    cwd: ROOT, // so `--import tsx` resolves; every path below is absolute
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let out = '';
  proc.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  proc.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start: ${out}`)), 20_000);
    const check = () => {
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    proc.stdout!.on('data', check);
    proc.once('exit', (code) => reject(new Error(`service exited with ${code}: ${out}`)));
  });
  return { proc, url, output: () => out };
}

const payload = (id: number, revision = 1): unknown => JSON.parse(callVersion(revision - 1, { id }).rawBody.toString());

async function deliver(instance: Instance, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const reply = await fetch(`${instance.url}/webhooks/post-call/${TOKEN}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: reply.status, body: (await reply.json()) as Record<string, unknown> };
}

interface StepRow {
  run_id: number;
  step_id: string;
  status: string;
  call_key: string;
  revision: number;
}

describe.skipIf(!TEST_DATABASE_URL)('several instances on one PostgreSQL database', () => {
  it('concurrent duplicates, a burst and a SIGKILL mid-run: every call once per mapping, nothing stuck', async () => {
    schema = await createTestSchema('aftercall_multi');
    const db = schema.admin;
    const steps = async (): Promise<StepRow[]> =>
      (await db.query<StepRow>(
        `SELECT s.run_id::int AS run_id, s.step_id, s.status, c.call_key, r.revision
         FROM step_results s JOIN runs r ON r.id = s.run_id JOIN calls c ON c.id = r.call_row_id`,
      )).rows;
    const runCounts = async (): Promise<Record<string, number>> =>
      Object.fromEntries((await db.query<{ status: string; n: number }>('SELECT status, COUNT(*)::int AS n FROM runs GROUP BY status')).rows.map((r) => [r.status, r.n]));

    // Each step takes a while at the receiver, so the kill lands while runs are mid-way.
    receiver = await startStubServer([{ status: 200, delayMs: 150, body: { ok: true } }]);
    const mappings = join(dir.path, 'mappings');
    mkdirSync(mappings);
    writeFileSync(
      join(mappings, 'follow-up.yaml'),
      `name: follow-up\nsteps:\n` +
        // on-change (the default): the re-evaluation changes `extracted`, so revision 2 sends it again.
        `  - id: crm\n    use: http.request\n    with: { url: "${receiver.url}/crm", body: { call: "{{ call.id }}", extracted: "{{ extracted }}" } }\n` +
        `  - id: sms\n    use: http.request\n    repeat: never\n    with: { url: "${receiver.url}/sms", body: { call: "{{ call.id }}" } }\n`,
    );
    const env = {
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: schema.url,
      SQLITE_PATH: join(dir.path, 'unused', 'aftercall.db'),
      MAPPINGS_DIR: mappings,
      WEBHOOK_TOKENS: TOKEN,
      LOG_LEVEL: 'warn',
      WORKER_CONCURRENCY: String(CONCURRENCY),
      WORKER_POLL_INTERVAL_MS: '50',
      LEASE_MS: '3000',
      STEP_TIMEOUT_MS: '5000',
      RATE_LIMIT_PER_MINUTE: '0',
    };
    const [a, b] = await Promise.all([startInstance(env), startInstance(env)]);
    const both = [a, b];

    // 1. The same call delivered to both instances at once, ten times per call: one 202 each.
    const raced = Array.from({ length: RACED_CALLS }, (_, i) => 900_001 + i);
    const racedReplies = await Promise.all(
      raced.flatMap((id) => Array.from({ length: 10 }, (_, k) => deliver(both[k % 2]!, payload(id)).then((r) => ({ id, ...r })))),
    );
    for (const id of raced) {
      const mine = racedReplies.filter((r) => r.id === id);
      expect(mine.filter((r) => r.status === 202), `call ${id}`).toHaveLength(1);
      expect(mine.filter((r) => r.status === 200 && r.body.status === 'duplicate'), `call ${id}`).toHaveLength(9);
    }

    // 2. A burst of distinct calls, then re-evaluations of some of them, split across both.
    const burst = Array.from({ length: BURST }, (_, i) => 910_001 + i);
    const burstReplies = await Promise.all(burst.map((id, i) => deliver(both[i % 2]!, payload(id))));
    expect(burstReplies.map((r) => r.status)).toEqual(burst.map(() => 202));
    const reevaluated = burst.slice(0, REEVALUATED);
    const revisionReplies = await Promise.all(reevaluated.map((id, i) => deliver(both[(i + 1) % 2]!, payload(id, 2))));
    expect(revisionReplies.map((r) => [r.status, r.body.revision])).toEqual(reevaluated.map(() => [202, 2]));
    const totalRuns = RACED_CALLS + BURST + REEVALUATED;

    // 3. Kill instance A once some, but not all, of the work is done.
    const deadline = Date.now() + 15_000;
    while (receiver.requests.length < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    a.proc.kill('SIGKILL');
    await new Promise((resolve) => a.proc.once('exit', resolve));
    const atKill = await steps();
    const key = (s: { run_id: number; step_id: string }) => `aftercall-${s.run_id}-${s.step_id}`;
    const completedBefore = new Set(atKill.filter((s) => s.status === 'succeeded').map(key));
    const inFlight = new Set(atKill.filter((s) => s.status === 'started').map(key));
    expect(completedBefore.size).toBeGreaterThan(0);
    expect((await runCounts()).succeeded ?? 0).toBeLessThan(totalRuns); // really cut off mid-way

    // 4. Instance B alone finishes everything, including A's runs once their lease ran out.
    const done = Date.now() + 20_000;
    let counts = await runCounts();
    while ((counts.succeeded ?? 0) < totalRuns && Date.now() < done) {
      await new Promise((r) => setTimeout(r, 100));
      counts = await runCounts();
    }
    expect(counts).toEqual({ succeeded: totalRuns }); // nothing pending, running, retrying or dead
    expect(b.output()).toContain('resumed runs whose lease ran out');

    // Every run: crm sent; sms sent for revision 1 and skipped for revision 2 (repeat: never).
    const final = await steps();
    expect(final).toHaveLength(totalRuns * 2);
    for (const s of final) {
      const expected = s.step_id === 'sms' && s.revision === 2 ? 'skipped' : 'succeeded';
      expect(s.status, `${s.call_key} rev ${s.revision} ${s.step_id}`).toBe(expected);
    }

    // What the receiver got, per run × step (the idempotency key names both).
    const sent = new Map<string, number>();
    for (const r of receiver.requests) {
      const k = String(r.headers['idempotency-key']);
      sent.set(k, (sent.get(k) ?? 0) + 1);
    }
    const executed = final.filter((s) => s.status === 'succeeded');
    expect([...sent.keys()].sort()).toEqual(executed.map(key).sort()); // nothing else, nothing skipped was sent
    for (const s of executed) {
      const times = sent.get(key(s)) ?? 0;
      // A step recorded as completed is never executed again, by either instance; only a step
      // that was in flight when A died may have been sent a second time (same idempotency key).
      if (completedBefore.has(key(s)) || !inFlight.has(key(s))) expect(times, key(s)).toBe(1);
      else expect(times, key(s)).toBeLessThanOrEqual(2);
    }
    const repeats = receiver.requests.length - executed.length;
    expect(repeats).toBeLessThanOrEqual(Math.min(inFlight.size, CONCURRENCY));

    // repeat: never, per call across its revisions: one sms execution (one run) per call.
    for (const id of [...raced, ...burst]) {
      const smsRuns = new Set(
        receiver.requests.filter((r) => r.url === '/sms' && (r.json as { call: number }).call === id).map((r) => r.headers['idempotency-key']),
      );
      expect(smsRuns.size, `sms of call ${id}`).toBe(1);
    }
  }, 60_000);
});
