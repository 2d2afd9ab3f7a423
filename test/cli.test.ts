// The CLI as a user runs it: its output and its exit code. Commands run in process (runCli);
// the process's own exit code and a stop on SIGTERM are checked on a real child process.
import { mkdirSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startStubServer } from './support/stub-server.js';
import { FIXTURES_DIR } from './support/fixtures.js';
import { startTestService } from './support/test-service.js';
import { tempDir } from './support/temp-dir.js';
import { cliChild, spawnCli } from './support/cli-child.js';
import { cli } from './support/cli-in-process.js';
import { CONNECTOR_SPECS } from '../src/connectors/index.js';

const ROOT = join(import.meta.dirname, '..');
const dir = tempDir();
afterAll(() => dir.cleanup());

describe('aftercall check', () => {
  it('passes the example mappings (exit 0)', async () => {
    const r = await cli(['check']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ok {2}forward-completed-calls\.yaml {2}forward-completed-calls {2}\(2 steps\)$/m);
  });

  it('prints file:line:column problems and exits 1', async () => {
    const bad = join(dir.path, 'bad.yaml');
    writeFileSync(bad, 'name: bad\nsteps:\n  - id: a\n    use: sms.send\n    with: {}\n');
    const r = await cli(['check', bad]);
    expect(r.code).toBe(1);
    // The message names every registered step kind, in registration order.
    const known = CONNECTOR_SPECS.flatMap((spec) => spec.steps.map((step) => step.kind));
    expect(known).toEqual(expect.arrayContaining(['twilio.sms.send', 'platform.sms.send']));
    expect(r.err.trim()).toBe(`${bad}:4:10 steps.0.use: unknown step kind "sms.send" (known: ${known.join(', ')})`);
  });
});

describe('aftercall check exit codes', () => {
  it('a folder is checked; a missing path or an unknown option is a usage error (exit 2)', async () => {
    const r = await cli(['check', 'mappings/', 'nope.yaml']);
    expect(r.code).toBe(2);
    expect(r.out).toMatch(/^ok {2}forward-completed-calls\.yaml/m);
    expect(r.err.trim()).toBe('aftercall check: nope.yaml: no such file or folder');
    expect((await cli(['check', '--strickt'])).code).toBe(2);
  });
});

describe('configuration errors stop the start', () => {
  it('names the variable and the process exits 2', () => {
    const r = cliChild(['serve'], { PORT: 'abc', SQLITE_PATH: join(dir.path, 'x.db') });
    expect(r.code).toBe(2);
    expect(r.err).toContain('PORT: must be a number');
  });
});

describe('aftercall runs', () => {
  it('lists runs and retries a dead one', async () => {
    const receiver = await startStubServer([{ status: 400, body: { error: 'nope' } }]);
    const service = await startTestService({
      'f.yaml': `name: f\nsteps:\n  - id: forward\n    use: http.request\n    with: { url: "${receiver.url}", headers: { x-callback: "+1 415 555 0142" }, body: { mail: "jane.doe@example.com" } }\n`,
    });
    try {
      await service.post({ ...JSON.parse(readFileSync(join(FIXTURES_DIR, 'seed-002-otonistark.json'), 'utf8')), id: 777 });
      await service.waitFor(() => service.store.listRuns(), (runs) => runs[0]?.status === 'dead');
      await service.stopKeepingFiles();
      const env = { SQLITE_PATH: service.config.SQLITE_PATH };

      const list = await cli(['runs', 'list', '--status', 'dead'], env);
      expect(list.code).toBe(0);
      expect(list.out).toMatch(/^ID +UPDATED +CALL +REV +MAPPING +STATUS +TEST +SCORE +LAST ERROR\n#1 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}777 {3}1 +f +dead +STEP_PERMANENT: step forward: POST .* answered 400/);

      const json = JSON.parse((await cli(['runs', 'list', '--json'], env)).out) as Array<{ id: number; status: string }>;
      expect(json).toEqual([expect.objectContaining({ id: 1, status: 'dead' })]);

      const readable = await cli(['runs', 'show', '1'], env);
      expect(readable.out).toMatch(/^Run #1 · f · dead\n/);
      expect(readable.out).toMatch(/^ {2}forward {2}failed \(1 attempt\)/m);
      expect(readable.out).not.toContain('415 555 0142');
      const show = await cli(['runs', 'show', '1', '--json'], env);
      expect(JSON.parse(show.out)).toMatchObject({ id: 1, status: 'dead', steps: [{ stepId: 'forward', status: 'failed' }] });
      // Masked as on the Runs page.
      expect(JSON.parse(show.out)).toMatchObject({ steps: [{ input: { headers: { 'x-callback': '+1 ••• ••• ••42' }, body: { mail: '[email]' } } }] });
      expect(show.out).not.toContain('415 555 0142');
      expect(show.out).not.toContain('jane.doe@example.com');

      expect(await cli(['runs', 'retry', '1'], env)).toMatchObject({ code: 0, out: expect.stringMatching(/run #1 requeued/) });
      expect(await cli(['runs', 'retry', '1'], env)).toMatchObject({ code: 1, err: expect.stringMatching(/not dead/) });
      expect(await cli(['runs', 'retry', '99'], env)).toMatchObject({ code: 1, err: expect.stringMatching(/no run #99/) });
      expect((await cli(['runs', 'list', '--status', 'pending'], env)).out).toMatch(/^#1 .* {2}777 +1 +f +pending/m);
      expect((await cli(['runs', 'list', '--status', 'bogus'], env)).code).toBe(2);
    } finally {
      await service.cleanup().catch(() => undefined);
      await receiver.close();
    }
  });
});

describe('aftercall serve with nothing configured', () => {
  it('generates a strong token once, keeps it beside the database and prints the webhook URL', async () => {
    const home = join(dir.path, 'fresh');
    mkdirSync(home);
    const mappings = join(home, 'mappings');
    mkdirSync(mappings);
    const env = { PORT: '0', HOST: '127.0.0.1', SQLITE_PATH: join(home, 'data', 'aftercall.db'), MAPPINGS_DIR: mappings, WEBHOOK_TOKENS: '' };
    // Started once the banner names the webhook URL; an exit before that fails the test.
    const serve = async () => {
      const proc = spawnCli(['serve'], env);
      let out = '';
      await new Promise<void>((resolve, reject) => {
        proc.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (/webhooks\/post-call\/\S+/.test(out)) resolve();
        });
        proc.once('exit', (code) => reject(new Error(`serve exited (${code}) before printing the webhook URL`)));
      });
      return { proc, out };
    };
    const first = await serve();
    const token = /webhooks\/post-call\/(\S+)/.exec(first.out)![1]!;
    const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(first.out)![1]!;
    expect(token).toMatch(/^[\w-]{32}$/);
    const file = join(home, 'data', 'webhook-token');
    expect(readFileSync(file, 'utf8').trim()).toBe(token);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const payload = readFileSync(join(FIXTURES_DIR, 'seed-003-famulor.json'), 'utf8');
    const post = (path: string) => fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
    expect((await post('/webhooks/post-call')).status).toBe(401);
    expect((await post(`/webhooks/post-call/${token}`)).status).toBe(202);
    first.proc.kill('SIGTERM');
    const exitCode = await new Promise((resolve) => first.proc.once('exit', resolve));
    expect(exitCode).toBe(0); // graceful stop on SIGTERM

    const second = await serve();
    expect(second.out).toContain(`/webhooks/post-call/${token}`);
    second.proc.kill('SIGTERM');
    await new Promise((resolve) => second.proc.once('exit', resolve));
  }, 120_000);
});

describe('aftercall send', () => {
  it('posts a fixture like "Make test request", optionally as a new revision', async () => {
    const service = await startTestService({ 'l.yaml': 'name: l\nsteps:\n  - { id: a, use: log, with: { message: m } }\n' });
    try {
      const url = service.baseUrl + service.hookPath;
      const fixture = join(FIXTURES_DIR, 'seed-002-otonistark.json');
      const first = await cli(['send', fixture, '--url', url, '--test']);
      expect(first.code).toBe(0);
      expect(first.out).toMatch(/^202 \{"status":"accepted","call_id":12345,"revision":1,"runs":1,"test":true/);
      expect((await cli(['send', fixture, '--url', url])).out).toMatch(/^200 \{"status":"duplicate"/);
      expect((await cli(['send', fixture, '--url', url, '--revision', 'b'])).out).toMatch(/^202 \{"status":"accepted","call_id":12345,"revision":2/);
      const bad = await cli(['send', fixture, '--url', `${service.baseUrl}/webhooks/post-call/wrong-token-xxxxxxxx`]);
      expect(bad.code).toBe(1);
      expect(bad.out).toMatch(/^401 /);
    } finally {
      await service.cleanup();
    }
  });

  it('a service that is down: one plain sentence, the token masked, no stack; --version', async () => {
    const service = await startTestService({});
    const down = service.baseUrl;
    await service.cleanup();
    const sent = await cli(['send', join(FIXTURES_DIR, 'seed-002-otonistark.json'), '--url', `${down}/webhooks/post-call/secret-token-0123456789`]);
    expect(sent).toMatchObject({ code: 1, out: '' });
    expect(sent.err).toBe(`aftercall: could not reach ${down}/webhooks/post-call/[token]: connection refused (is it running?)\n`);
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(await cli(['--version'])).toMatchObject({ code: 0, out: `${version}\n` });
  });
});

describe('aftercall replay', () => {
  it('--dry-run prints matched mappings, why others did not match, the score and each rendered input', async () => {
    const r = await cli(['replay', '--dry-run', join(FIXTURES_DIR, 'sales-qualification.json')]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('sales-qualification.json: call 918273 (autocalls, completed)');
    expect(r.out).toContain('  ✓ sales-qualification  score 78 (hot)');
    expect(r.out).toContain('      +30  extracted.lead_quality = "high"');
    expect(r.out).toContain('      alert_sales (http.request): would run');
    expect(r.out).toContain('"text": "Hot lead (78): Dana Whitfield, +1 415 555 0142. Qualified: wants a demo for 25 seats"');
    expect(r.out).toContain('  · support-triage: assistant_phone is not one of the listed numbers');
  });

  it('--dry-run on the chat and 2.0 event fixtures: the chat use case takes chats, not calls', async () => {
    const files = ['conversation-ended-whatsapp.json', 'event-conversation-ended.json', 'event-call-completed-workspace.json'].map((f) => join(FIXTURES_DIR, f));
    const r = await cli(['replay', '--dry-run', ...files]);
    expect(r.code).toBe(0);
    expect(r.out).toContain('conversation-ended-whatsapp.json: whatsapp chat b2c3d4e5-f6a7-8901-bcde-f12345678901 (famulor, ended)');
    expect(r.out).toContain('  ✓ chat-follow-up');
    expect(r.out).toContain('      inbox (http.request): would run');
    expect(r.out).toContain('"files": [\n');
    expect(r.out).toContain('event-call-completed-workspace.json: call 9cdfe044-a931-4679-a81f-87d352218f4a (famulor, completed)');
    expect(r.out).toContain('  · chat-follow-up: channel phone is not one of widget, whatsapp');
  });

  it('--json and --mapping, over a whole folder', async () => {
    const r = await cli(['replay', '--dry-run', '--json', '--mapping', 'support-triage', FIXTURES_DIR]);
    const plans = JSON.parse(r.out) as Array<{ file: string; valid: boolean; matched: Array<{ mapping: string; score: { band: string }; steps: Array<{ id: string; status: string; reason?: string }> }> }>;
    expect(r.code).toBe(0);
    expect(plans.length).toBeGreaterThanOrEqual(13);
    expect(plans.every((p) => p.valid)).toBe(true);
    const triage = plans.find((p) => p.file.endsWith('support-triage.json'))!;
    expect(triage.matched).toHaveLength(1);
    expect(triage.matched[0]!.score.band).toBe('p1');
    const transfers = plans.find((p) => p.file.endsWith('with-transfers.json'))!;
    expect(transfers.matched[0]!.steps.find((s) => s.id === 'page_on_call')).toMatchObject({ status: 'skipped', reason: 'when is false: score.band = "p1"' });
    expect((await cli(['replay', '--dry-run', '--mapping', 'nope', FIXTURES_DIR])).code).toBe(2);
  });

  it('an invalid payload or invalid variables exit 1 with the exact problems', async () => {
    const bad = join(dir.path, 'bad-call.json');
    const call = JSON.parse(readFileSync(join(FIXTURES_DIR, 'sales-qualification.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(bad, JSON.stringify({ ...call, customer_phone: '555-0142' }));
    const invalid = await cli(['replay', '--dry-run', bad]);
    expect(invalid.code).toBe(1);
    expect(invalid.out).toContain('✗ ');
    expect(invalid.out).toContain('    customer_phone: must be an E.164 phone number');
    const wrongVars = join(dir.path, 'wrong-vars.json');
    writeFileSync(wrongVars, JSON.stringify({ ...call, extracted_variables: { status: true, summary: 'x', budget: 'lots' } }));
    const r = await cli(['replay', '--dry-run', '--mapping', 'sales-qualification', wrongVars]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('  ✗ sales-qualification  invalid-variables');
    expect(r.out).toContain('      extracted.budget: expected number, got "lots"');
  });

  it('without --dry-run it executes the steps against the real receivers', async () => {
    const receiver = await startStubServer([{ status: 201, body: { id: 'lead-9' } }]);
    const mappings = join(dir.path, 'replay-mappings');
    mkdirSync(mappings);
    writeFileSync(
      join(mappings, 'sales.yaml'),
      readFileSync(join(ROOT, 'mappings', 'sales-qualification.yaml'), 'utf8').replaceAll('http://127.0.0.1:4000', receiver.url),
    );
    try {
      const r = await cli(['replay', join(FIXTURES_DIR, 'sales-qualification.json')], { MAPPINGS_DIR: mappings });
      expect(r.code).toBe(0);
      expect(r.out).toContain('      crm (http.request): succeeded');
      expect(r.out).toContain('→ {"status":201,"body":{"id":"lead-9"}}');
      expect(receiver.requests.map((q) => q.url)).toEqual(['/crm/leads', '/alerts/sales']);
      expect((receiver.requests[1]!.json as { crm_status: number }).crm_status).toBe(201);
    } finally {
      await receiver.close();
    }
  });
});
