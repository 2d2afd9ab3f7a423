// /readyz: unready while the store cannot commit (it writes a heartbeat, and a failed commit
// counts for a while), and nothing but ok/not-ok per check for callers without the admin or
// metrics token: mapping problems name absolute file paths, store errors may too.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { chaosCall } from './chaos/support/calls.js';
import { postJson, ServiceSupervisor } from './chaos/support/child-service.js';
import { tempDir } from './support/temp-dir.js';
import { LOG_ONLY, startTestService, type TestService } from './support/test-service.js';

const ADMIN = 'admin-token-0123456789abcdef';
const METRICS = 'metrics-token-0123456789abcdef';
let service: TestService | undefined;
let child: ServiceSupervisor | undefined;
const dirs: Array<{ cleanup(): void }> = [];
afterEach(async () => {
  await service?.cleanup();
  service = undefined;
  await child?.kill9();
  child = undefined;
  for (const d of dirs.splice(0)) d.cleanup();
});

interface Ready {
  status: number;
  body: { status: string; checks: Record<string, { ok: boolean; detail?: string; problems?: string[] }> };
}

async function readyz(url: string, token?: string): Promise<Ready> {
  const response = await fetch(`${url}/readyz`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, body: (await response.json()) as Ready['body'] };
}

describe('/readyz', () => {
  it('shows details (file paths of mapping problems) only with the admin or metrics token', async () => {
    service = await startTestService(LOG_ONLY, { ADMIN_TOKEN: ADMIN, METRICS_TOKEN: METRICS });
    const s = service;
    writeFileSync(join(s.config.MAPPINGS_DIR, 'broken.yaml'), 'name: broken\nsteps: [oops\n');
    const detailed = await s.waitFor(
      () => readyz(s.baseUrl, ADMIN),
      (r) => (r.body.checks.mappings?.problems ?? []).length > 0,
    );
    expect(JSON.stringify(detailed.body)).toContain(s.dir);
    expect(JSON.stringify((await readyz(s.baseUrl, METRICS)).body)).toContain(s.dir);
    for (const token of [undefined, 'wrong-token-0123456789abcdef']) {
      const anonymous = await readyz(s.baseUrl, token);
      expect(anonymous.status).toBe(200);
      expect(anonymous.body).toEqual({ status: 'ready', checks: { store: { ok: true }, mappings: { ok: true }, queue: { ok: true } } });
      expect((await request(s.server).get('/readyz')).text).not.toContain(s.dir);
    }
  });

  it('turns unready while the store cannot commit (file size limit), and ready again after', async () => {
    const dir = tempDir('aftercall-readyz-fsize-');
    dirs.push(dir);
    const mappings = join(dir.path, 'mappings');
    mkdirSync(mappings, { recursive: true });
    writeFileSync(join(mappings, 'log.yaml'), LOG_ONLY['log.yaml']);
    const sqlitePath = join(dir.path, 'aftercall.db');
    child = await ServiceSupervisor.create({ env: { SQLITE_PATH: sqlitePath, MAPPINGS_DIR: mappings, METRICS_TOKEN: METRICS }, ignoreSigxfsz: true });
    const proc = await child.start();
    expect((await postJson(child.hookUrl, chaosCall(810_000))).status).toBe(202);
    expect((await readyz(child.url)).status).toBe(200);

    // No file of the store may grow: a delivery that needs more room fails to commit.
    execFileSync('prlimit', ['--pid', String(proc.pid), '--fsize=4096:unlimited']);
    const refused = await postJson(child.hookUrl, chaosCall(810_001, 'x'.repeat(300_000)));
    expect(refused.status).toBe(503);
    const unready = await readyz(child.url, METRICS);
    expect(unready.status).toBe(503);
    expect(unready.body.checks.store).toMatchObject({ ok: false });
    expect(unready.body.checks.store!.detail).toMatch(/SQLITE_IOERR|disk I\/O|store unavailable/i);
    const anonymous = await readyz(child.url);
    expect(anonymous.body.checks.store).toEqual({ ok: false });
    expect(JSON.stringify(anonymous.body)).not.toContain(dir.path);

    execFileSync('prlimit', ['--pid', String(proc.pid), '--fsize=unlimited:unlimited']);
    let again = await readyz(child.url);
    for (let i = 0; i < 300 && again.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 100));
      again = await readyz(child.url);
    }
    expect(again.status).toBe(200);
    expect((await postJson(child.hookUrl, chaosCall(810_001, 'x'.repeat(300_000)))).status).toBe(202);
    expect(child.crashes).toBe(0);
  }, 60_000);
});
