// From a real call to a fixture: `aftercall fixtures export` (run in process) and the Runs
// page's download write a stored revision's body as delivered, pretty JSON, raw or scrubbed;
// the scrubbed one still passes the payload schema.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePayload } from '../src/payload/parse-payload.js';
import { fixture } from './support/fixtures.js';
import { LOG_ONLY, startTestService, type TestService } from './support/test-service.js';
import { cli } from './support/cli-in-process.js';

const ADMIN = 'admin-token-0123456789';


async function login(s: TestService) {
  const agent = request.agent(s.server);
  const form = await agent.get('/admin/login');
  const csrf = /name="_csrf" value="([^"]+)"/.exec(form.text)![1]!;
  await agent.post('/admin/login').type('form').send({ _csrf: csrf, token: ADMIN });
  return agent;
}

/** The body as text: supertest would parse a JSON download. */
const asText: Parameters<request.Test['parse']>[0] = (res, done) => {
  let text = '';
  res.on('data', (c: Buffer) => (text += c.toString()));
  res.on('end', () => done(null, text));
};
const pretty = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
const first = fixture('sales-qualification');
const second = { ...first, extracted_variables: { ...(first.extracted_variables as object), summary: 'Demo booked for Dana, 30 seats' } };

let service: TestService;
beforeAll(async () => {
  service = await startTestService(LOG_ONLY, { ADMIN_TOKEN: ADMIN });
  // Sent compact, with a key order of its own: the export is this body, only pretty-printed.
  expect((await service.post(JSON.stringify(first))).status).toBe(202);
  expect((await service.post(JSON.stringify(second))).status).toBe(202);
  await service.waitFor(() => service.store.listRuns(), (runs) => runs.length === 2 && runs.every((r) => r.status === 'succeeded'));
});
afterAll(() => service.cleanup());

describe('the Runs page download', () => {
  it('offers the run\'s payload raw and scrubbed as attachments, behind the session', async () => {
    const runs = await service.store.listRuns();
    const rev1 = runs.find((r) => r.revision === 1)!;
    expect((await request(service.server).get(`/admin/runs/${rev1.id}/payload`)).status).toBe(303); // to the login

    const agent = await login(service);
    const page = await agent.get(`/admin/runs/${rev1.id}`);
    expect(page.text).toContain(`<a class="button" href="/admin/runs/${rev1.id}/payload?scrub=1" download>Download payload (scrubbed)</a>`);
    expect(page.text).toContain(`<a class="button" href="/admin/runs/${rev1.id}/payload" download>Download payload (raw)</a>`);

    const raw = await agent.get(`/admin/runs/${rev1.id}/payload`).buffer(true).parse(asText);
    expect(raw.status).toBe(200);
    expect(raw.headers['content-type']).toMatch(/^application\/json/);
    expect(raw.headers['content-disposition']).toBe('attachment; filename=call-918273-rev1.json');
    expect(raw.headers['cache-control']).toBe('no-store');
    expect(raw.body).toBe(pretty(first));

    const scrubbed = await agent.get(`/admin/runs/${rev1.id}/payload?scrub=1`).buffer(true).parse(asText);
    expect(scrubbed.headers['content-disposition']).toBe('attachment; filename=call-918273-rev1-scrubbed.json');
    const body = String(scrubbed.body);
    expect(body).not.toContain('Dana');
    expect(body).not.toContain('4155550142');
    const parsed = parsePayload(JSON.parse(body), 'strict');
    expect(parsed.ok && parsed.call.id).toBe(918273);

    expect((await agent.get('/admin/runs/999/payload')).status).toBe(404);
  });
});

describe('aftercall fixtures export', () => {
  it('writes the newest or a chosen revision as delivered, scrubbed on request, and names what is missing', async () => {
    await service.stopKeepingFiles();
    const env = { SQLITE_PATH: service.config.SQLITE_PATH };

    const newest = await cli(['fixtures', 'export', '918273'], env);
    expect(newest.err).toBe('');
    expect(newest.code).toBe(0);
    expect(newest.out).toBe(pretty(second));

    const out = join(service.dir, 'call.json');
    const rev1 = await cli(['fixtures', 'export', '918273', '--revision', '1', '--scrub', '--out', out], env);
    expect(rev1.code).toBe(0);
    expect(rev1.err).toContain(`wrote ${out} (call 918273, revision 1, scrubbed)`);
    const written = readFileSync(out, 'utf8');
    expect(written).not.toContain('Whitfield');
    expect(written).toMatch(/"customer_phone": "\+1555010\d{4}"/);
    const parsed = parsePayload(JSON.parse(written), 'strict');
    expect(parsed.ok ? parsed.call.extracted_variables.budget : parsed.issues).toBe(18000);

    const missing = await cli(['fixtures', 'export', '918273', '--revision', '3'], env);
    expect(missing.code).toBe(1);
    expect(missing.err.trim()).toBe('no call 918273 revision 3 in the store (see aftercall runs list)');
  });
});
