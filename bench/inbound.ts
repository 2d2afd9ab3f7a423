// Figure 6 (issue 19): how fast an inbound-call request is answered, p99 over sequential
// requests to the real service in this process (SQLite store, HubSpot's SDK against the
// sandbox's stand-in on 127.0.0.1):
//   cached:   the same caller again, its HubSpot lookup served from the cache;
//   uncached: a new caller each time, so a HubSpot contact search per request;
//   hanging:  an http.request lookup to a server that never answers: answered at the deadline
//             (INBOUND_DEADLINE_MS) with the defaults; sent 10 at a time, as the figure is the
//             deadline, not the rate.
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { fakeHubSpot } from '../src/sandbox/fake-vendors.js';
import { startVendorStub } from '../src/sandbox/vendor-stub.js';
import { startService } from '../src/service.js';
import { TOKEN, type Bench } from './context.js';
import { fixed, table, verdict, type Figure } from './report.js';

const PLATFORM_LIMIT_MS = 2_000;
const DEADLINE_MS = 1_500;
const ASSISTANT = '+15550100987';

type Case = 'cached' | 'uncached' | 'hanging';
const LABEL: Record<Case, string> = {
  cached: 'cached HubSpot lookup',
  uncached: 'uncached HubSpot lookup (stub vendor)',
  hanging: 'lookup that never answers',
};

export interface InboundOutcome {
  cases: Record<Case, { requests: number; p50: number; p99: number; max: number; defaults: number }>;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? NaN;

export async function runInbound(bench: Bench): Promise<InboundOutcome> {
  const quick = bench.settings.quick;
  const hubspot = fakeHubSpot();
  // The team's own API answers `/team`; everything else is HubSpot.
  const vendor = await startVendorStub((req) => (req.path === '/team' ? { status: 200, body: { plan: 'gold' } } : hubspot.route(req)), { keep: 1_000 });
  const hanging = createServer(() => undefined);
  await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
  const dir = join(bench.tmp, 'inbound');
  mkdirSync(join(dir, 'mappings'), { recursive: true });
  writeFileSync(
    join(dir, 'mappings', 'inbound.yaml'),
    `name: inbound-bench
steps:
  - { id: note, use: log, with: { message: "x", level: debug } }
inbound:
  match: { assistant_phone: "${ASSISTANT}" }
  lookups:
    - { id: crm, use: hubspot.contact.find_by_phone, with: { phone: "{{ inbound.customer_phone }}" } }
    - id: team
      use: http.request
      with: { method: GET, url: "{{ inbound.variables.hang ? 'http://127.0.0.1:${(hanging.address() as AddressInfo).port}/x' : '${vendor.url}/team' }}" }
  variables:
    customer_name: "{{ lookups.crm.firstname }}"
    plan: "{{ lookups.team.body.plan }}"
  defaults: { customer_name: there, plan: standard }
`,
  );
  process.env.HUBSPOT_ACCESS_TOKEN = 'pat-bench';
  process.env.HUBSPOT_BASE_URL = vendor.url;
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    SQLITE_PATH: join(dir, 'aftercall.db'),
    MAPPINGS_DIR: join(dir, 'mappings'),
    WEBHOOK_TOKENS: TOKEN,
    LOG_LEVEL: 'silent',
    RATE_LIMIT_PER_MINUTE: '0',
    INBOUND_DEADLINE_MS: String(DEADLINE_MS),
  });
  const service = await startService(config, createLogger('silent'));
  let caller = 1_000_000;
  const ask = async (body: Record<string, unknown>) => {
    const started = performance.now();
    const response = await fetch(`${service.baseUrl}/webhooks/inbound-call/${TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = (await response.json()) as Record<string, unknown>;
    if (response.status !== 200) bench.fail(`inbound answered ${response.status}`);
    return { ms: performance.now() - started, defaults: answer.plan === 'standard' && answer.customer_name === 'there' };
  };
  const phone = () => `+1555${String(caller++).padStart(7, '0')}`;
  const measure = async (n: number, parallel: number, body: () => Record<string, unknown>) => {
    const times: number[] = [];
    let defaults = 0;
    for (let done = 0; done < n; done += parallel) {
      const batch = await Promise.all(Array.from({ length: Math.min(parallel, n - done) }, () => ask(body())));
      for (const r of batch) {
        times.push(r.ms);
        if (r.defaults) defaults++;
      }
    }
    times.sort((a, b) => a - b);
    return { requests: n, p50: quantile(times, 0.5), p99: quantile(times, 0.99), max: times[times.length - 1]!, defaults };
  };
  try {
    const n = quick ? 100 : 1_000;
    // Warm-up: the first requests make the keep-alive connections and JIT the path.
    await measure(20, 1, () => ({ customer_phone: phone(), assistant_phone: ASSISTANT }));
    const known = phone();
    hubspot.objects.contacts = [{ id: '900', properties: { firstname: 'Ada', phone: known }, associations: [], createdAt: new Date().toISOString() }];
    await ask({ customer_phone: known, assistant_phone: ASSISTANT });
    const cached = await measure(n, 1, () => ({ customer_phone: known, assistant_phone: ASSISTANT }));
    const uncached = await measure(n, 1, () => ({ customer_phone: phone(), assistant_phone: ASSISTANT }));
    const hangingCase = await measure(quick ? 10 : 40, 10, () => ({ customer_phone: phone(), assistant_phone: ASSISTANT, variables: { hang: true } }));
    bench.checkpoint();
    return { cases: { cached, uncached, hanging: hangingCase } };
  } finally {
    await service.stop();
    hanging.closeAllConnections();
    await new Promise((resolve) => hanging.close(resolve));
    await vendor.close();
  }
}

export function inboundFigures(outcome: InboundOutcome): Figure[] {
  return (Object.keys(LABEL) as Case[]).map((c) => {
    const x = outcome.cases[c];
    const limit = c === 'hanging' ? PLATFORM_LIMIT_MS : DEADLINE_MS;
    return {
      figure: `inbound answer p99 ms, ${LABEL[c]} (${x.requests} requests)`,
      baseline: c === 'hanging' ? `${DEADLINE_MS} (deadline)` : `${PLATFORM_LIMIT_MS} (platform limit)`,
      value: fixed(x.p99, 1),
      ratio: fixed(x.p99 / (c === 'hanging' ? DEADLINE_MS : PLATFORM_LIMIT_MS), 2),
      target: `< ${limit} ms`,
      result: verdict(x.p99 < limit),
    };
  });
}

export function inboundDetail(outcome: InboundOutcome): string {
  const rows = (Object.keys(LABEL) as Case[]).map((c) => {
    const x = outcome.cases[c];
    return [LABEL[c], x.requests, fixed(x.p50, 1), fixed(x.p99, 1), fixed(x.max, 1), x.defaults];
  });
  return [
    '### 6. Inbound-call answer time (issue 19)',
    '',
    `- the real service in this process (SQLite), INBOUND_DEADLINE_MS=${DEADLINE_MS}; HubSpot's SDK against the sandbox stand-in; requests one at a time (the hanging case 10 at a time)`,
    '',
    table(['case', 'requests', 'p50 ms', 'p99 ms', 'max ms', 'answered with the defaults'], rows),
  ].join('\n');
}
