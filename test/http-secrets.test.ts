// Secrets for http.request headers: `{{ $secret('NAME') }}` with NAME declared in HTTP_SECRETS.
// The real service on a real SQLite file against a stub receiver that echoes the header back
// in a failing answer: the value reaches the receiver, and appears nowhere aftercall keeps or
// shows it (the database and WAL bytes, the API, the Runs page, the log lines at debug level).
// `aftercall check` refuses a name that is not declared, and $secret outside headers.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RunDetail } from '../src/store/store.js';
import { fixture } from './support/fixtures.js';
import { logCapture, startTestService, type TestService } from './support/test-service.js';
import { tempDir } from './support/temp-dir.js';
import { cli } from './support/cli-in-process.js';

const ADMIN = 'admin-token-0123456789';
const SECRET = 'crm-key-7f3a9c2e51d04b8a';
const ROTATED = 'crm-key-rotated-0c9d11e2aa';
let service: TestService | undefined;
let receiver: Server | undefined;
afterEach(async () => {
  vi.unstubAllEnvs();
  await service?.cleanup().catch(() => undefined);
  if (receiver) await new Promise<void>((resolve) => receiver!.close(() => resolve()));
  service = receiver = undefined;
});

/** A receiver that answers `status` and echoes the Authorization header it got in the body. */
async function echoingReceiver(status: () => number, seen: string[]): Promise<string> {
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push(String(req.headers.authorization));
      res.writeHead(status(), { 'content-type': 'application/json' }).end(JSON.stringify({ error: `bad key ${req.headers.authorization}` }));
    });
  });
  await new Promise<void>((resolve) => receiver!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
}

const mapping = (url: string) =>
  `name: crm\nsteps:\n  - id: push\n    use: http.request\n    with:\n      url: "${url}/contacts"\n` +
  `      headers:\n        authorization: "Bearer {{ $secret('CRM_API_KEY') }}"\n      body: { id: "{{ call.id }}" }\n`;


describe('$secret in http.request headers', () => {
  it('reaches the receiver, and is in no stored byte, API answer, Runs page or log line', async () => {
    vi.stubEnv('HTTP_SECRETS', 'CRM_API_KEY,ERP_TOKEN');
    vi.stubEnv('CRM_API_KEY', SECRET);
    vi.stubEnv('ERP_TOKEN', 'erp-unused-token');
    const seen: string[] = [];
    let answer = 500;
    const url = await echoingReceiver(() => answer, seen);
    const logs = logCapture();
    service = await startTestService({ 'crm.yaml': mapping(url) }, { ADMIN_TOKEN: ADMIN, LOG_LEVEL: 'debug', RETRY_MAX_ATTEMPTS: '2' }, undefined, {
      logTo: logs.sink,
    });
    const s = service;
    const c = { ...fixture('seed-001-autocalls'), id: 77 };
    expect((await s.post(c)).status).toBe(202);
    // Two attempts that fail (the receiver echoes the key in its answer), then dead.
    const [dead] = await s.waitFor(() => s.store.listRuns(), (runs) => runs[0]?.status === 'dead');
    expect(seen).toEqual([`Bearer ${SECRET}`, `Bearer ${SECRET}`]);
    const run = (await s.store.getRun(dead!.id))!;
    expect(run.steps[0]!.input).toMatchObject({ headers: { authorization: 'Bearer [secret CRM_API_KEY]' } });
    expect(run.steps[0]!.evidence!.body).toBe('{"error":"bad key Bearer [secret CRM_API_KEY]"}');

    // The key is rotated and the receiver fixed; an operator retry sends the new key. The input
    // hash is of `[secret CRM_API_KEY]`: a rotated secret is not a changed input.
    answer = 200;
    vi.stubEnv('CRM_API_KEY', ROTATED);
    const api = request(s.server);
    expect((await api.post(`/api/runs/${run.id}/retry`).set('authorization', `Bearer ${ADMIN}`)).status).toBe(202);
    const done = await s.waitFor(() => s.store.getRun(run.id), (r) => r?.status === 'succeeded');
    expect(seen).toEqual([`Bearer ${SECRET}`, `Bearer ${SECRET}`, `Bearer ${ROTATED}`]);
    expect(done!.steps[0]!.inputHash).toBe(run.steps[0]!.inputHash);
    expect(done!.steps[0]!.output).toEqual({ status: 200, body: { error: 'bad key Bearer [secret CRM_API_KEY]' } }); // echoed back: replaced

    const shown = await api.get(`/api/runs/${run.id}`).set('authorization', `Bearer ${ADMIN}`);
    expect((shown.body as { run: RunDetail }).run.steps[0]!.input).toMatchObject({ headers: { authorization: 'Bearer [secret CRM_API_KEY]' } });
    const agent = request.agent(s.server);
    const form = await agent.get('/admin/login');
    await agent.post('/admin/login').type('form').send({ _csrf: /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!, token: ADMIN });
    const page = (await agent.get(`/admin/runs/${run.id}`)).text;
    expect(page).toContain('[secret CRM_API_KEY]');

    const dbFile = s.config.SQLITE_PATH;
    const files = [dbFile, `${dbFile}-wal`].filter((f) => existsSync(f));
    expect(files).toContain(`${dbFile}-wal`);
    const stored = files.map((f) => readFileSync(f).toString('latin1')).join('');
    expect(stored).toContain('[secret CRM_API_KEY]'); // the check below reads the bytes that hold the runs
    for (const [where, text] of [
      ['database and WAL', stored],
      ['API', JSON.stringify(shown.body)],
      ['Runs page', page],
      ['logs', JSON.stringify(logs.lines)],
    ] as const) {
      expect(text.includes(SECRET) || text.includes(ROTATED), `${where} has the secret`).toBe(false);
    }
    expect(logs.lines.length).toBeGreaterThan(0);
  });

  it('aftercall check refuses an undeclared name and $secret outside headers, naming file and line', async () => {
    const dir = tempDir();
    try {
      const undeclared = join(dir.path, 'undeclared.yaml');
      writeFileSync(undeclared, mapping('https://crm.example.com').replace("$secret('CRM_API_KEY')", "$secret('ERP_TOKEN')"));
      const inBody = join(dir.path, 'in-body.yaml');
      writeFileSync(
        inBody,
        `name: leak\nsteps:\n  - id: push\n    use: http.request\n    with:\n      url: "https://crm.example.com"\n      body: { key: "{{ $secret('CRM_API_KEY') }}" }\n`,
      );
      const env = { HTTP_SECRETS: 'CRM_API_KEY', CRM_API_KEY: SECRET };
      const refused = await cli(['check', undeclared], env);
      expect(refused.code).toBe(1);
      expect(refused.err.trim()).toBe(
        `${undeclared}:8:24 steps.0.with.headers.authorization: secret ERP_TOKEN is not declared in HTTP_SECRETS (declared: CRM_API_KEY)`,
      );
      const leak = await cli(['check', inBody], env);
      expect(leak.code).toBe(1);
      expect(leak.err.trim()).toBe(`${inBody}:7:20 steps.0.with.body.key: $secret is allowed only in the headers of an http.request step`);
      // Declared and set: accepted.
      const good = join(dir.path, 'good.yaml');
      writeFileSync(good, mapping('https://crm.example.com'));
      expect((await cli(['check', good], env)).code).toBe(0);
    } finally {
      dir.cleanup();
    }
  });
});
