// The operator API's one convention (snake_case, ISO 8601 UTC times) on both /api/runs and
// /api/quarantine, and /api/openapi.json checked against the router's routes and against real
// responses: each sampled answer parses with the zod contract the document is made from, and
// its keys are exactly the served document's properties, so neither can drift.
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import * as contract from '../src/http/api-contract.js';
import { createAdminApi } from '../src/http/admin-api.js';
import { fixture } from './support/fixtures.js';
import { startStubServer, type StubServer } from './support/stub-server.js';
import { startTestService, type TestService } from './support/test-service.js';

const ADMIN = 'admin-token-0123456789';
type Json = Record<string, unknown>;
type Schema = { $ref?: string; type?: string; properties?: Record<string, Schema>; required?: string[]; items?: Schema; anyOf?: Schema[]; additionalProperties?: unknown };

let receiver: StubServer;
let service: TestService;
let doc: { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { content?: { 'application/json': { schema: Schema } } }> }>>; components: { schemas: Record<string, Schema> } };
const samples: Array<{ route: string; method: string; status: number; body: unknown; zod: z.ZodType }> = [];

const api = () => request(service.server);
const bearer = { authorization: `Bearer ${ADMIN}` };
async function sample(method: 'get' | 'post', path: string, route: string, zod: z.ZodType, auth = true) {
  const res = await (auth ? api()[method](path).set(bearer) : api()[method](path));
  samples.push({ route, method, status: res.status, body: res.body, zod });
  return res;
}

beforeAll(async () => {
  receiver = await startStubServer([{ status: 400, body: { error: 'missing field "email"', request: 'r-1' } }]);
  const mapping =
    'name: crm-forward\nsteps:\n' +
    '  - id: maybe\n    use: log\n    when: "call.id = 0"\n    with: { message: never, level: debug }\n' +
    `  - id: crm\n    use: http.request\n    with: { url: "${receiver.url}/crm", body: { call: "{{ call.id }}" } }\n`;
  service = await startTestService({ 'crm.yaml': mapping }, { ADMIN_TOKEN: ADMIN });
  for (const id of [801, 802]) expect((await service.post({ ...fixture<Json>('seed-001-autocalls'), id })).status).toBe(202);
  expect((await service.post({ ...fixture<Json>('seed-001-autocalls'), id: 803, sentiment: 'positive' })).status).toBe(422);
  await service.waitFor(() => service.store.listRuns(), (runs) => runs.length === 2 && runs.every((r) => r.status === 'dead'));
  doc = (await api().get('/api/openapi.json')).body as typeof doc;
});

afterAll(async () => {
  await service?.cleanup();
  await receiver?.close();
});

describe('one convention on /api/runs and /api/quarantine', () => {
  it('lists runs snake_case with ISO times, pages with next_before', async () => {
    const first = await sample('get', '/api/runs?limit=1', '/api/runs', contract.runListSchema);
    expect(first.status).toBe(200);
    const [run] = first.body.runs as Json[];
    expect(run).toMatchObject({ call_id: '802', mapping_name: 'crm-forward', status: 'dead', is_test: false });
    expect(run!.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(first.body.next_before).toBe(run!.id);
    const second = await sample('get', `/api/runs?limit=1&before=${String(run!.id)}`, '/api/runs', contract.runListSchema);
    expect((second.body.runs as Json[]).map((r) => r.call_id)).toEqual(['801']);
    expect(second.body.next_before).toBeNull();
    // Back up: the page just newer than the last one shown is the first again.
    expect(second.body.next_after).toBe((second.body.runs as Json[])[0]!.id);
    const back = await sample('get', `/api/runs?limit=1&after=${String(second.body.next_after)}`, '/api/runs', contract.runListSchema);
    expect((back.body.runs as Json[]).map((r) => r.call_id)).toEqual(['802']);
    expect(back.body).toMatchObject({ next_after: null, next_before: run!.id });
    expect(first.body.next_after).toBeNull();
  });

  it('filters runs as the Runs page does: q (call id, phone in any format), mapping, from/to in ISO 8601', async () => {
    const ids = async (query: string) => {
      const res = await sample('get', `/api/runs?${query}`, '/api/runs', contract.runListSchema);
      expect(res.status).toBe(200);
      return (res.body.runs as Json[]).map((r) => r.call_id);
    };
    expect(await ids('q=801')).toEqual(['801']);
    const [run] = await service.store.listRuns({ limit: 1 });
    const digits = String(run!.customerPhone).replace(/\D/g, '');
    expect(await ids(`q=${encodeURIComponent('+' + digits)}`)).toEqual(['802', '801']);
    expect(await ids('mapping=crm-forward')).toEqual(['802', '801']);
    expect(await ids('mapping=other')).toEqual([]);
    const created = Date.parse(String((await api().get('/api/runs?limit=1').set(bearer)).body.runs[0].created_at));
    expect(await ids(`from=${new Date(created + 1).toISOString()}`)).toEqual([]);
    expect(await ids(`to=${encodeURIComponent(new Date(created + 1).toISOString().replace('Z', '+00:00'))}&q=80`)).toContain('802');
  });

  it('shows a run with its steps: a skipped one without a start time, a failed one with the vendor evidence', async () => {
    const [dead] = await service.store.listRuns({ limit: 1 });
    const res = await sample('get', `/api/runs/${dead!.id}`, '/api/runs/{id}', contract.runReplySchema);
    const steps = (res.body.run as { steps: Json[] }).steps;
    const step = (id: string) => steps.find((s) => s.step_id === id);
    expect(step('maybe')).toMatchObject({ status: 'skipped', started_at: null, finished_at: expect.stringMatching(/Z$/) });
    expect(step('crm')).toMatchObject({ status: 'failed', evidence: { method: 'POST', url: `${receiver.url}/crm`, status: 400 } });
    expect((res.body.run as Json).call).toMatchObject({ id: 802, customer_phone: expect.any(String) });
  });

  it('lists quarantined deliveries in the same convention', async () => {
    const res = await sample('get', '/api/quarantine', '/api/quarantine', contract.quarantineListSchema);
    const [item] = res.body.quarantine as Json[];
    expect(item).toMatchObject({ reason: 'invalid-payload', errors: [{ path: 'sentiment', message: 'unknown key' }], replayed_at: null });
    expect(item!.received_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(item!.request_id).toEqual(expect.any(String));
    expect(item!.size_bytes).toBeGreaterThan(100);
  });

  it('every key of both is snake_case and every *_at is an ISO time or null (user data aside)', () => {
    const keys: string[] = [];
    const times: unknown[] = [];
    const walk = (value: unknown, skip: Set<string>) => {
      if (Array.isArray(value)) return value.forEach((v) => walk(v, skip));
      if (value === null || typeof value !== 'object') return;
      for (const [k, v] of Object.entries(value)) {
        keys.push(k);
        if (k.endsWith('_at')) times.push(v);
        if (!skip.has(k)) walk(v, skip);
      }
    };
    // Step input/output and the call are data the mapping and the sender shaped.
    for (const s of samples.filter((x) => x.status < 300)) walk(s.body, new Set(['input', 'output', 'call']));
    expect(keys.filter((k) => !/^[a-z][a-z0-9]*(_[a-z0-9]+)*$/.test(k))).toEqual([]);
    expect(times.length).toBeGreaterThan(5);
    for (const t of times) expect(t === null || (typeof t === 'string' && !Number.isNaN(Date.parse(t)) && t.endsWith('Z'))).toBe(true);
  });

  it('rejects a bad query with 400 naming the field', async () => {
    for (const [query, field] of [['limit=0', 'limit'], ['limit=501', 'limit'], ['limit=ten', 'limit'], ['before=-3', 'before'], ['status=lost', 'status'],
      ['after=0', 'after'], ['before=5&after=2', 'after'], [`q=${'x'.repeat(101)}`, 'q'], ['q=', 'q'], ['mapping=', 'mapping'],
      ['from=yesterday', 'from'], ['from=2026-12-03', 'from'], ['to=2026-12-03T10:00', 'to'], ['to=2026-13-45T10:00:00Z', 'to']]) {
      const res = await sample('get', `/api/runs?${query}`, '/api/runs', contract.errorSchema);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'INVALID_QUERY', field });
    }
  });

  it('answers retries, replays and errors in the same convention', async () => {
    const [dead] = await service.store.listRuns({ limit: 1 });
    receiver.script([{ status: 200, body: { id: 'lead-1' } }]);
    const retried = await sample('post', `/api/runs/${dead!.id}/retry`, '/api/runs/{id}/retry', contract.requeuedSchema);
    expect(retried.status).toBe(202);
    expect((await sample('post', `/api/runs/${dead!.id}/retry`, '/api/runs/{id}/retry', contract.errorSchema)).status).toBe(409);
    expect((await sample('get', '/api/runs/999999', '/api/runs/{id}', contract.errorSchema)).status).toBe(404);
    expect((await sample('get', '/api/runs', '/api/runs', contract.errorSchema, false)).status).toBe(401);
    const [quarantined] = await service.store.listQuarantine();
    const replay = await sample('post', `/api/quarantine/${quarantined!.id}/replay`, '/api/quarantine/{id}/replay', contract.errorSchema);
    expect(replay.status).toBe(422); // still invalid under the strict schema
    expect((await sample('post', '/api/quarantine/999999/replay', '/api/quarantine/{id}/replay', contract.errorSchema)).status).toBe(404);
  });
});

describe('/api/openapi.json', () => {
  it('is served without a token and is an OpenAPI 3.1 document', async () => {
    const res = await api().get('/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.components.schemas).sort()).toEqual(
      ['Call', 'Error', 'QuarantineList', 'QuarantinedDelivery', 'Replayed', 'Requeued', 'RunDetail', 'RunList', 'RunReply', 'RunSummary', 'Score', 'Step', 'StepEvidence'],
    );
  });

  it('describes every route of the API router, with every method', () => {
    const router = createAdminApi({ store: service.store, receiver: {} as never, adminToken: ADMIN });
    const routes = (router.stack as Array<{ route?: { path: string; methods: Record<string, boolean> } }>)
      .filter((layer) => layer.route)
      .flatMap((layer) => Object.keys(layer.route!.methods).map((m) => `${m} /api${layer.route!.path.replace(/:(\w+)/g, '{$1}')}`));
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`));
    expect(routes.sort()).toEqual(documented.sort());
  });

  it('matches the sampled real responses: parsed by the contract, keys exactly the documented ones', () => {
    expect(samples.length).toBeGreaterThan(12);
    for (const s of samples) {
      const where = `${s.method} ${s.route} ${s.status}`;
      const parsed = s.zod.safeParse(s.body);
      expect(parsed.success ? null : parsed.error.issues, where).toBeNull();
      const operation = doc.paths[s.route]?.[s.method];
      const schema = operation?.responses[String(s.status)]?.content?.['application/json'].schema;
      expect(schema, `${where} is documented`).toBeDefined();
      expect(undocumentedKeys(schema!, s.body, ''), where).toEqual([]);
    }
  });
});

/** Paths in `value` whose keys the document does not list, or required keys it lacks. */
function undocumentedKeys(schema: Schema, value: unknown, at: string): string[] {
  const resolved = schema.$ref ? doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')]! : schema;
  if (resolved.anyOf) {
    const branch = resolved.anyOf.find((b) => (value === null ? b.type === 'null' : b.type !== 'null'));
    return branch ? undocumentedKeys(branch, value, at) : [`${at}: no branch`];
  }
  if (Array.isArray(value) && resolved.items) return value.flatMap((v, i) => undocumentedKeys(resolved.items!, v, `${at}[${i}]`));
  if (value === null || typeof value !== 'object' || !resolved.properties) return [];
  const props = resolved.properties;
  const problems = (resolved.required ?? []).filter((k) => !(k in value)).map((k) => `${at}.${k} missing`);
  for (const [k, v] of Object.entries(value)) {
    if (props[k]) problems.push(...undocumentedKeys(props[k], v, `${at}.${k}`));
    else if (resolved.additionalProperties === false) problems.push(`${at}.${k} undocumented`);
  }
  return problems;
}
