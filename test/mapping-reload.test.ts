// Hot reload while runs are in flight: a run finishes with the mapping version it started
// with, new calls get the new version, a broken file never takes the service down.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { fixture } from './support/fixtures.js';
import { startStubServer, type StubServer } from './support/stub-server.js';
import { startTestService, type TestService } from './support/test-service.js';

let service: TestService | undefined;
let receiver: StubServer | undefined;
afterEach(async () => {
  await service?.cleanup();
  await receiver?.close();
});

const ADMIN = 'admin-token-0123456789';
const version = (label: string, url: string, budget = 'number') =>
  `name: crm\nvariables:\n  budget: { type: ${budget}, optional: true }\nsteps:\n  - id: crm\n    use: http.request\n` +
  `    with: { url: "${url}", body: { version: ${label}, call: "{{ call.id }}" } }\n`;

function call(id: number, extracted: Record<string, unknown> = {}) {
  const body = fixture('seed-001-autocalls');
  body.id = id;
  body.customer_phone = '+14155550100';
  body.extracted_variables = { ...(body.extracted_variables as object), ...extracted };
  return body;
}

describe('hot reload', () => {
  it('swaps versions atomically while runs are in flight and keeps the last good version of a broken file', async () => {
    receiver = await startStubServer([{ status: 200, delayMs: 400 }]);
    service = await startTestService({ 'crm.yaml': version('v1', receiver.url) }, { ADMIN_TOKEN: ADMIN });
    const s = service;
    const file = join(s.config.MAPPINGS_DIR, 'crm.yaml');
    const hashOf = () => s.mappings.current()[0]!.hash;
    const v1 = hashOf();

    await s.post(call(1));
    await s.waitFor(() => receiver!.requests.length, (n) => n === 1); // run 1 is mid-step

    writeFileSync(file, version('v2', receiver.url));
    const v2 = await s.waitFor(hashOf, (h) => h !== v1);
    await s.post(call(2));
    const runs = await s.waitFor(() => s.store.listRuns(), (list) => list.length === 2 && list.every((r) => r.status === 'succeeded'));
    const bodies = receiver.requests.map((r) => r.json);
    expect(bodies).toEqual([{ version: 'v1', call: 1 }, { version: 'v2', call: 2 }]);
    expect(Object.fromEntries(runs.map((r) => [r.callId, r.mappingHash]))).toEqual({ '1': v1, '2': v2 });

    // A broken edit: the service keeps v2, says so in /readyz (details need a token), and goes on working.
    writeFileSync(file, 'name: crm\nsteps:\n  - id: crm\n    use: http.requestt\n');
    const ready = await s.waitFor(
      async () => (await request(s.server).get('/readyz').set('authorization', `Bearer ${ADMIN}`)).body as { status: string; checks: { mappings: { problems?: string[] } } },
      (body) => (body.checks.mappings.problems?.length ?? 0) > 0,
    );
    expect(ready.status).toBe('ready');
    expect(ready.checks.mappings.problems![0]).toMatch(/crm\.yaml:4:10 steps\.0\.use: unknown step kind "http\.requestt"/);
    expect(hashOf()).toBe(v2);
    await s.post(call(3));
    await s.waitFor(() => receiver!.requests.length, (n) => n === 3);
    expect(receiver.requests[2]!.json).toEqual({ version: 'v2', call: 3 });

    // Fixed again: the problem clears.
    writeFileSync(file, version('v3', receiver.url));
    await s.waitFor(() => s.mappings.problems().length, (n) => n === 0);
    expect(hashOf()).not.toBe(v2);
  });

  it('an operator retry of an invalid-variables run uses the fixed mapping', async () => {
    receiver = await startStubServer([{ status: 200 }]);
    service = await startTestService({ 'crm.yaml': version('v1', receiver.url) }, { ADMIN_TOKEN: ADMIN });
    const s = service;
    await s.post(call(7, { budget: 'around 5k' }));
    const [invalid] = await s.waitFor(() => s.store.listRuns(), (runs) => runs[0]?.status === 'invalid-variables');
    expect(invalid!.lastError).toBe('INVALID_VARIABLES: extracted.budget: expected number, got "around 5k"');

    const before = s.mappings.current()[0]!.hash;
    writeFileSync(join(s.config.MAPPINGS_DIR, 'crm.yaml'), version('v2', receiver.url, 'string'));
    await s.waitFor(() => s.mappings.current()[0]!.hash, (h) => h !== before);
    const retry = await request(s.server).post(`/api/runs/${invalid!.id}/retry`).set('authorization', `Bearer ${ADMIN}`);
    expect(retry.status).toBe(202);
    await s.waitFor(() => s.store.listRuns(), (runs) => runs[0]?.status === 'succeeded');
    expect(receiver.requests.map((r) => r.json)).toEqual([{ version: 'v2', call: 7 }]);
  });
});
