// Found by the vendor-outage scenario ("step timeouts not enforced" in its summary): the
// STEP_TIMEOUT_MS of an http.request step was lost when a garbage collection runs while the
// request is in flight, and a vendor that hangs then holds the step (and a worker slot) until it
// answers, or until undici's own 300 s headers timeout.
//
// Cause: src/connectors/http-request.ts built the fetch signal as
//   AbortSignal.any([ctx.signal, AbortSignal.timeout(ms)])
// and keeps no reference to the timeout signal. On Node 20 (this repo's engine, >= 20.12; seen
// on 20.20.2) a composite signal holds its sources weakly and the timeout's timer holds its
// signal weakly, so a GC collects the timeout signal and it never fires: nodejs/node#57736
// ("AbortSignal.any() is unreliable and breaks timeouts", labelled confirmed-bug).
// src/connectors/connector.ts's deadlineSignal now holds the timer and the controller itself.
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/test-service.js';
import { chaosCall, httpStep, mappingYaml } from './support/calls.js';
import { startVendorStub, type VendorStub } from './support/vendor-stub.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

let service: TestService | undefined;
let vendor: VendorStub | undefined;
afterEach(async () => {
  await service?.cleanup();
  await vendor?.close();
});

describe('http.request step timeout', () => {
  it('a hanging vendor is cut off after STEP_TIMEOUT_MS even when a GC runs meanwhile', async () => {
    // The vendor takes the request and answers only after 10 s (a hung upstream).
    vendor = await startVendorStub({ name: 'crm', holdMs: 10_000 });
    vendor.setFaults(['timeout-before-effect']);
    service = await startTestService(
      { 'crm.yaml': mappingYaml('crm', [httpStep('crm', `${vendor.url}/contacts`, '{ call: "{{ call.id }}" }')]) },
      { STEP_TIMEOUT_MS: '300', SHUTDOWN_TIMEOUT_MS: '200' },
    );
    expect((await service.post(chaosCall(4711))).status).toBe(202);
    const s = service;
    await s.waitFor(() => vendor!.requests.length, (n) => n === 1, 5_000);
    gc();
    gc();
    // The step must fail as timed out (the run then waits for its retry) well within 3 s.
    const runs = await s.waitFor(
      () => s.store.listRuns(),
      (list) => list[0]?.status === 'retrying',
      3_000,
    ).catch(async () => s.store.listRuns());
    expect(runs[0]?.status).toBe('retrying');
    expect(runs[0]?.lastError).toMatch(/timed out/);
  }, 20_000);
});
