// One slow vendor must not hold runs bound elsewhere: the real service and worker, 40 runs
// forwarding to a receiver that holds every request unanswered and 40 to one that answers.
// The hanging receiver's runs are claimed first; with the per-connector limit (half of
// WORKER_CONCURRENCY: 16 of 32) the healthy receiver still gets all its 40 forwards while the
// hanging one holds its requests, and once it answers every run completes, each request sent
// once and no attempt spent on the runs that were given back.
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createBulkhead } from '../src/worker/bulkhead.js';
import { fixture } from './support/fixtures.js';
import { startStubServer, type StubServer } from './support/stub-server.js';
import { startTestService, type TestService } from './support/test-service.js';

let service: TestService | undefined;
let healthy: StubServer | undefined;
let hanging: HangingReceiver | undefined;
afterEach(async () => {
  await service?.cleanup().catch(() => undefined);
  await healthy?.close();
  await hanging?.close();
  service = healthy = hanging = undefined;
});

interface HangingReceiver {
  url: string;
  /** Requests received so far. */
  received(): number;
  /** Requests held unanswered right now. */
  held(): number;
  /** Answers every held request, and every later one at once. */
  release(): void;
  close(): Promise<void>;
}

async function startHangingReceiver(): Promise<HangingReceiver> {
  const held: ServerResponse[] = [];
  let received = 0;
  let released = false;
  const answer = (res: ServerResponse) => {
    if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received++;
      if (released) answer(res);
      else held.push(res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: () => received,
    held: () => held.filter((res) => !res.destroyed).length,
    release() {
      released = true;
      for (const res of held.splice(0)) answer(res);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const forward = (name: string, status: string, url: string) =>
  `name: ${name}\nmatch: { status: [${status}] }\nsteps:\n  - id: forward\n    use: http.request\n    with: { url: "${url}/calls", body: { id: "{{ call.id }}" } }\n`;

function call(id: number, status: string) {
  return { ...fixture('seed-001-autocalls'), id, status, customer_phone: '+14155550100' };
}

describe('per-connector bulkhead', () => {
  it('40 forwards to a hanging receiver do not hold 40 forwards to a healthy one', { timeout: 120_000 }, async () => {
    hanging = await startHangingReceiver();
    healthy = await startStubServer([{ status: 200, body: { ok: true } }]);
    service = await startTestService(
      {
        'hanging.yaml': forward('to-hanging', 'completed', hanging.url),
        'healthy.yaml': forward('to-healthy', 'ended_by_customer', healthy.url),
      },
      // A step timeout far past the test: the hanging receiver's steps never end on their own.
      { STEP_TIMEOUT_MS: '600000', WORKER_CONCURRENCY: '32' },
    );
    const s = service;
    // The hanging receiver's runs first: they are the oldest, so claimed first.
    for (let id = 1; id <= 40; id++) expect((await s.post(call(id, 'completed'))).status).toBe(202);
    for (let id = 101; id <= 140; id++) expect((await s.post(call(id, 'ended_by_customer'))).status).toBe(202);

    await s.waitFor(() => healthy!.requests.length, (n) => n >= 40, 60_000);
    const healthyRuns = await s.waitFor(
      () => s.store.listRuns({ mappingName: 'to-healthy', status: 'succeeded', limit: 100 }),
      (runs) => runs.length === 40,
      60_000,
    );
    // All 40 healthy forwards done while the hanging receiver still holds its requests: as many
    // as one connector may run at once, none answered.
    expect(healthyRuns).toHaveLength(40);
    expect(hanging.held()).toBe(16);
    expect(hanging.received()).toBe(16);

    hanging.release();
    const all = await s.waitFor(
      () => s.store.listRuns({ status: 'succeeded', limit: 100 }),
      (runs) => runs.length === 80,
      60_000,
    );
    expect(all).toHaveLength(80);
    expect(hanging.received()).toBe(40); // each run's forward sent once
    expect(healthy.requests).toHaveLength(40);
    expect(all.every((run) => run.attempts === 0)).toBe(true); // being given back spends no attempt
  });
});

describe('createBulkhead', () => {
  it('hands a freed slot to a waiting step, first come first served; gives up on a key that stays full', async () => {
    const bulkhead = createBulkhead(2);
    const signal = new AbortController().signal;
    const a = (await bulkhead.enter('hubspot', signal))!;
    const b = (await bulkhead.enter('hubspot', signal))!;
    expect(await bulkhead.enter('twilio', signal)).not.toBeNull(); // other connectors are not held
    const order: string[] = [];
    const c = bulkhead.enter('hubspot', signal).then((leave) => (order.push('c'), leave));
    const d = bulkhead.enter('hubspot', signal).then((leave) => (order.push('d'), leave));
    a();
    a(); // leaving twice frees one slot, not two
    const leaveC = await c;
    expect(leaveC).not.toBeNull();
    expect(order).toEqual(['c']);
    expect(bulkhead.running()).toMatchObject({ hubspot: 2 });
    // Nobody leaves: d stops waiting and gets no slot (its run is given back).
    expect(await d).toBeNull();
    b();
    leaveC!();
    expect(bulkhead.running()).toEqual({ twilio: 1 });
  });
});
