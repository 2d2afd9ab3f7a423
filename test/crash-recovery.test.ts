// The real service as a child process, killed with SIGKILL between ack and run completion,
// then restarted on the same SQLite file: nothing acknowledged is lost, and no step that had
// completed (recorded as succeeded) is executed again.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { fixture } from './support/fixtures.js';
import { startStubServer, type StubServer } from './support/stub-server.js';
import { tempDir } from './support/temp-dir.js';

const ROOT = join(import.meta.dirname, '..');
const TOKEN = 'crash-test-token-0123456789';
const CALLS = 20;

let child: ChildProcess | undefined;
let receiver: StubServer | undefined;
const dir = tempDir();
afterEach(async () => {
  child?.kill('SIGKILL');
  await receiver?.close();
  dir.cleanup();
});

async function startChild(env: Record<string, string>): Promise<{ proc: ChildProcess; url: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'serve'], {
    cwd: ROOT, // so `--import tsx` resolves; every path below is absolute
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`service did not start: ${out}`)), 20_000);
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    proc.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    proc.once('exit', (code) => reject(new Error(`service exited with ${code}: ${out}`)));
  });
  return { proc, url };
}

function readStore(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    const runs = db.prepare('SELECT status, COUNT(*) AS n FROM runs GROUP BY status').all() as Array<{ status: string; n: number }>;
    const succeededSteps = db
      .prepare(`SELECT c.call_key, s.step_id FROM step_results s JOIN runs r ON r.id = s.run_id JOIN calls c ON c.id = r.call_row_id WHERE s.status = 'succeeded'`)
      .all() as Array<{ call_key: string; step_id: string }>;
    return { runs: Object.fromEntries(runs.map((r) => [r.status, r.n])), succeededSteps };
  } finally {
    db.close();
  }
}

describe('crash recovery', () => {
  it('SIGKILL between ack and completion: restart resumes, nothing lost, no completed step repeated', async () => {
    // Each step takes a while, so the kill lands while runs are mid-way.
    receiver = await startStubServer([{ status: 200, delayMs: 60, body: { ok: true } }]);
    const mappings = join(dir.path, 'mappings');
    mkdirSync(mappings);
    writeFileSync(
      join(mappings, 'two-steps.yaml'),
      `name: two-steps\nsteps:\n` +
        `  - id: crm\n    use: http.request\n    with: { url: "${receiver.url}/crm", body: { call: "{{ call.id }}" } }\n` +
        `  - id: notify\n    use: http.request\n    with: { url: "${receiver.url}/notify", body: { call: "{{ call.id }}" } }\n`,
    );
    const sqlitePath = join(dir.path, 'data', 'aftercall.db');
    const env = {
      PORT: '0',
      HOST: '127.0.0.1',
      SQLITE_PATH: sqlitePath,
      MAPPINGS_DIR: mappings,
      WEBHOOK_TOKENS: TOKEN,
      LOG_LEVEL: 'warn',
      WORKER_CONCURRENCY: '2',
      WORKER_POLL_INTERVAL_MS: '50',
      RATE_LIMIT_PER_MINUTE: '0',
    };

    const first = await startChild(env);
    child = first.proc;
    const acked: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const body = fixture('seed-001-autocalls');
      body.id = 500_000 + i;
      body.customer_phone = '+14155550100';
      const reply = await fetch(`${first.url}/webhooks/post-call/${TOKEN}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(reply.status).toBe(202);
      acked.push(500_000 + i);
    }
    // Kill once some, but not all, of the work is done.
    const deadline = Date.now() + 10_000;
    while (receiver.requests.length < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    first.proc.kill('SIGKILL');
    await new Promise((resolve) => first.proc.once('exit', resolve));

    const atKill = readStore(sqlitePath);
    const completedBefore = new Set(atKill.succeededSteps.map((s) => `${s.call_key}/${s.step_id}`));
    expect(completedBefore.size).toBeGreaterThan(0);
    expect(completedBefore.size).toBeLessThan(CALLS * 2); // really cut off mid-way
    const requestsBefore = receiver.requests.length;

    const second = await startChild(env);
    child = second.proc;
    const done = Date.now() + 20_000;
    let state = readStore(sqlitePath);
    while ((state.runs.succeeded ?? 0) < CALLS && Date.now() < done) {
      await new Promise((r) => setTimeout(r, 50));
      state = readStore(sqlitePath);
    }
    expect(state.runs).toEqual({ succeeded: CALLS }); // every acknowledged call ran

    const sent = new Map<string, number>();
    for (const r of receiver.requests) {
      const key = `${(r.json as { call: number }).call}/${r.url.slice(1)}`;
      sent.set(key, (sent.get(key) ?? 0) + 1);
    }
    for (const id of acked) {
      for (const step of ['crm', 'notify']) {
        const key = `${id}/${step}`;
        expect(sent.get(key) ?? 0, key).toBeGreaterThanOrEqual(1);
        // A step recorded as completed before the crash is never executed again.
        if (completedBefore.has(key)) expect(sent.get(key), key).toBe(1);
      }
    }
    // At most the steps in flight at the kill (WORKER_CONCURRENCY) were sent twice.
    expect(receiver.requests.length - CALLS * 2).toBeLessThanOrEqual(2);
    expect(requestsBefore).toBeGreaterThan(0);
  }, 60_000);
});
