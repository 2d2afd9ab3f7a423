// Stateful stand-ins for the vendors' APIs, answering like the real ones do (shapes taken from
// their API docs and the SDKs' models): what one creates, a later search finds. Used as the
// routes of a VendorStub; tests add failures in front with `failNext`, `aftercall sandbox`
// serves them all on one port (their paths do not overlap).
import { createHash } from 'node:crypto';
import type { Route, StubReply } from './vendor-stub.js';

const iso = () => new Date().toISOString();

export interface HubSpotObject {
  id: string;
  properties: Record<string, string>;
  associations: unknown;
  createdAt: string;
}

interface BatchInput {
  id?: string;
  properties?: Record<string, string>;
  associations?: unknown;
  objectWriteTraceId?: string;
}

/**
 * HubSpot CRM v3 objects: search (EQ filters, groups ORed), create, update, batch create and
 * batch update; unique contact email. Batch answers list their results in reverse input order
 * (HubSpot does not promise input order) with each input's objectWriteTraceId; an input that
 * fails (an update of an unknown id, a taken email) makes the answer 207 with an error naming it.
 */
export function fakeHubSpot() {
  const objects: Record<string, HubSpotObject[]> = {};
  let nextId = 501;
  const view = (o: HubSpotObject) => ({ id: o.id, properties: o.properties, createdAt: o.createdAt, updatedAt: iso(), archived: false });
  const create = (type: string, input: BatchInput): HubSpotObject => {
    const o = { id: String(nextId++), properties: { ...input.properties }, associations: input.associations ?? [], createdAt: iso() };
    (objects[type] ??= []).push(o);
    return o;
  };
  const emailTaken = (type: string, input: BatchInput) => {
    const email = input.properties?.email;
    return type === 'contacts' && email ? objects[type]?.find((o) => o.properties.email === email) : undefined;
  };
  const batch = (type: string, action: 'create' | 'update', inputs: BatchInput[]): StubReply => {
    const results: unknown[] = [];
    const errors: unknown[] = [];
    for (const input of inputs) {
      const trace = input.objectWriteTraceId === undefined ? {} : { objectWriteTraceId: input.objectWriteTraceId };
      const fail = (category: string, message: string) =>
        errors.push({ status: 'error', category, message, context: { ...(input.id ? { ids: [input.id] } : {}), ...(input.objectWriteTraceId ? { objectWriteTraceId: [input.objectWriteTraceId] } : {}) } });
      if (action === 'create') {
        const taken = emailTaken(type, input);
        if (taken) fail('CONFLICT', `Contact already exists. Existing ID: ${taken.id}`);
        else results.push({ ...view(create(type, input)), ...trace });
      } else {
        const o = objects[type]?.find((x) => x.id === input.id);
        if (!o) fail('OBJECT_NOT_FOUND', `Could not get some ${type} objects, they may be deleted or not exist.`);
        else {
          Object.assign(o.properties, input.properties);
          results.push({ ...view(o), ...trace });
        }
      }
    }
    const times = { requestedAt: iso(), startedAt: iso(), completedAt: iso() };
    const answer = { status: 'COMPLETE', results: results.reverse(), ...times };
    if (errors.length > 0) return { status: 207, body: { ...answer, numErrors: errors.length, errors } };
    return { status: action === 'create' ? 201 : 200, body: answer };
  };
  const route: Route = (req) => {
    const m = /^\/crm\/v3\/objects\/(\w+)(?:\/(search|\d+|batch\/create|batch\/update))?$/.exec(req.path);
    if (!m) return undefined;
    const type = m[1]!;
    const list = (objects[type] ??= []);
    const body = (req.json ?? {}) as {
      filterGroups?: Array<{ filters: Array<{ propertyName: string; value: string }> }>;
      properties?: Record<string, string>;
      associations?: unknown;
      inputs?: BatchInput[];
    };
    if (req.method === 'POST' && (m[2] === 'batch/create' || m[2] === 'batch/update')) {
      const inputs = body.inputs ?? [];
      if (inputs.length === 0 || inputs.length > 100) {
        return { status: 400, body: { status: 'error', message: `Batch size must be between 1 and 100, got ${inputs.length}`, category: 'VALIDATION_ERROR' } };
      }
      return batch(type, m[2] === 'batch/create' ? 'create' : 'update', inputs);
    }
    if (req.method === 'POST' && m[2] === 'search') {
      const results = list.filter((o) => (body.filterGroups ?? []).some((g) => g.filters.every((f) => o.properties[f.propertyName] === f.value)));
      return { status: 200, body: { total: results.length, results: results.map(view) } };
    }
    if (req.method === 'POST' && !m[2]) {
      const taken = emailTaken(type, body);
      if (taken) {
        return {
          status: 409,
          body: { status: 'error', message: `Contact already exists. Existing ID: ${taken.id}`, category: 'CONFLICT', correlationId: 'c-1' },
        };
      }
      return { status: 201, body: view(create(type, body)) };
    }
    if (req.method === 'PATCH' && m[2]) {
      const o = list.find((x) => x.id === m[2]);
      if (!o) return { status: 404, body: { status: 'error', message: 'resource not found', category: 'OBJECT_NOT_FOUND' } };
      Object.assign(o.properties, body.properties);
      return { status: 200, body: view(o) };
    }
    return undefined;
  };
  return { route, objects };
}

export interface SalesforceRecord {
  Id: string;
  type: string;
  fields: Record<string, unknown>;
}

/**
 * Salesforce REST (v59.0): query (records whose fields equal any quoted value in the WHERE
 * clause), create, update by id, upsert by external id; OAuth2 token endpoint.
 */
export function fakeSalesforce(options: { instanceUrl?: () => string } = {}) {
  const records: SalesforceRecord[] = [];
  let next = 1;
  const prefix: Record<string, string> = { Lead: '00Q', Contact: '003', Task: '00T' };
  const newId = (type: string) => `${prefix[type] ?? '001'}5e00000${String(next++).padStart(8, '0')}`;
  const route: Route = (req) => {
    if (req.path === '/services/oauth2/token') {
      return {
        status: 200,
        body: {
          access_token: `00Dtoken${next++}`,
          instance_url: options.instanceUrl?.() ?? 'http://127.0.0.1:1',
          id: 'https://login.salesforce.com/id/00D5e000000AbCdEAF/0055e000000XyZaAAB',
          token_type: 'Bearer',
          issued_at: String(Date.now()),
        },
      };
    }
    const base = '/services/data/v59.0';
    if (!req.path.startsWith(base)) return undefined;
    const path = req.path.slice(base.length);
    if (req.method === 'GET' && path === '/query') {
      const q = req.query.get('q') ?? '';
      const type = /FROM (\w+)/.exec(q)?.[1] ?? '';
      const pairs = [...q.matchAll(/(\w+) = '((?:\\'|[^'])*)'/g)].map((p) => [p[1]!, p[2]!.replace(/\\'/g, "'")] as const);
      const found = records.filter((r) => r.type === type && pairs.some(([k, v]) => String(r.fields[k] ?? '') === v));
      return { status: 200, body: { totalSize: found.length, done: true, records: found.map((r) => ({ attributes: { type, url: `${base}/sobjects/${type}/${r.Id}` }, Id: r.Id })) } };
    }
    const m = /^\/sobjects\/(\w+)(?:\/([^/]+))?(?:\/([^/]+))?$/.exec(path);
    if (!m) return undefined;
    const [, type, a, b] = m as unknown as [string, string, string | undefined, string | undefined];
    const fields = (req.json ?? {}) as Record<string, unknown>;
    if (req.method === 'POST' && !a) {
      const r = { Id: newId(type), type, fields };
      records.push(r);
      return { status: 201, body: { id: r.Id, success: true, errors: [] } };
    }
    if (req.method === 'PATCH' && a && !b) {
      const r = records.find((x) => x.Id === a);
      if (!r) return { status: 404, body: [{ errorCode: 'NOT_FOUND', message: 'The requested resource does not exist' }] };
      Object.assign(r.fields, fields);
      return { status: 204 };
    }
    if (req.method === 'PATCH' && a && b) {
      const value = decodeURIComponent(b);
      const r = records.find((x) => x.type === type && String(x.fields[a]) === value);
      if (r) {
        Object.assign(r.fields, fields);
        return { status: 200, body: { id: r.Id, success: true, errors: [], created: false } };
      }
      const created = { Id: newId(type), type, fields: { ...fields, [a]: value } };
      records.push(created);
      return { status: 201, body: { id: created.Id, success: true, errors: [], created: true } };
    }
    return undefined;
  };
  return { route, records };
}

export interface PipedriveRecord {
  id: number;
  kind: 'persons' | 'deals' | 'activities' | 'notes';
  data: Record<string, unknown>;
}

/** Pipedrive API v2 (persons search/add/update, deals, activities) and v1 notes. */
export function fakePipedrive() {
  const records: PipedriveRecord[] = [];
  let next = 101;
  const add = (kind: PipedriveRecord['kind'], data: Record<string, unknown>): StubReply => {
    const r = { id: next++, kind, data };
    records.push(r);
    return { status: 201, body: { success: true, data: { id: r.id, ...data, add_time: iso() } } };
  };
  const values = (list: unknown) => (Array.isArray(list) ? list.map((x) => (x as { value: string }).value) : []);
  const route: Route = (req) => {
    const body = (req.json ?? {}) as Record<string, unknown>;
    if (req.method === 'GET' && req.path === '/api/v2/persons/search') {
      const term = req.query.get('term') ?? '';
      const field = req.query.get('fields') === 'email' ? 'emails' : 'phones';
      const hits = records.filter((r) => r.kind === 'persons' && values(r.data[field]).includes(term));
      const items = hits.map((r) => ({
        result_score: 1,
        item: { id: r.id, type: 'person', name: r.data.name, phones: values(r.data.phones), emails: values(r.data.emails) },
      }));
      return { status: 200, body: { success: true, data: { items }, additional_data: { next_cursor: null } } };
    }
    const m = /^\/api\/v2\/persons\/(\d+)$/.exec(req.path);
    if (req.method === 'PATCH' && m) {
      const r = records.find((x) => x.kind === 'persons' && x.id === Number(m[1]));
      if (!r) return { status: 404, body: { success: false, error: 'Person not found', code: 'ERR_NOT_FOUND' } };
      Object.assign(r.data, body);
      return { status: 200, body: { success: true, data: { id: r.id, ...r.data } } };
    }
    if (req.method !== 'POST') return undefined;
    if (req.path === '/api/v2/persons') return add('persons', body);
    if (req.path === '/api/v2/deals') return add('deals', body);
    if (req.path === '/api/v2/activities') return add('activities', body);
    if (req.path === '/v1/notes') return add('notes', body);
    return undefined;
  };
  const of = (kind: PipedriveRecord['kind']) => records.filter((r) => r.kind === kind);
  return { route, records, of };
}

/** Twilio's Messages resource: every POST is a queued message with a fresh SM… sid. */
export function fakeTwilio() {
  let next = 1;
  const route: Route = (req) => {
    const m = /^\/2010-04-01\/Accounts\/(AC\w+)\/Messages\.json$/.exec(req.path);
    if (!m || req.method !== 'POST') return undefined;
    const f = req.form ?? {};
    const sid = `SM${createHash('md5').update(String(next++)).digest('hex')}`;
    return {
      status: 201,
      body: {
        sid,
        account_sid: m[1],
        to: f.To,
        from: f.From ?? null,
        messaging_service_sid: f.MessagingServiceSid ?? null,
        body: f.Body,
        status: 'queued',
        num_segments: '1',
        direction: 'outbound-api',
        api_version: '2010-04-01',
        date_created: new Date().toUTCString(),
        uri: `/2010-04-01/Accounts/${m[1]}/Messages/${sid}.json`,
      },
    };
  };
  return { route };
}
