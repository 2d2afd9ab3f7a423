// The platform connector in the real service: a delivered call runs a mapping that texts the
// caller through the platform's own number and re-queues them into a callback campaign, against
// the platform stub; a 429 from the platform leaves the run retrying at the platform's
// retry_after, not the worker's backoff.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fixture } from '../support/fixtures.js';
import { startTestService, type TestService } from '../support/test-service.js';
import { fakePlatform } from './support/platform/fake-platform.js';
import { startVendorStub, type VendorStub } from './support/vendor-stub.js';

const MAPPING = `name: platform-follow-up
steps:
  - id: thanks
    use: platform.sms.send
    with: { to: "{{ call.customer_phone }}", body: "Thanks for your call! We will call you back.", from: "+4915550100" }
  - id: callback
    use: platform.lead.add
    with: { campaign_id: 5, phone_number: "{{ call.customer_phone }}", variables: { sms_id: "{{ steps.thanks.id }}" } }
`;

let stub: VendorStub;
let service: TestService | undefined;
afterEach(async () => {
  await service?.cleanup();
  service = undefined;
  await stub.close();
  vi.unstubAllEnvs();
});

async function start(): Promise<TestService> {
  stub = await startVendorStub(fakePlatform().route);
  vi.stubEnv('PLATFORM', 'famulor');
  vi.stubEnv('PLATFORM_BASE_URL', stub.url);
  vi.stubEnv('PLATFORM_API_KEY', 'famulor-test-key');
  service = await startTestService({ 'platform.yaml': MAPPING });
  return service;
}

describe('platform steps in the service', () => {
  it('a call sends the SMS from the platform number and adds the caller to the callback campaign, once', async () => {
    const s = await start();
    const call = fixture('sales-qualification');
    expect((await s.post(call)).status).toBe(202);
    const [run] = await s.waitFor(() => s.store.listRuns(), (runs) => runs.length === 1 && ['succeeded', 'dead'].includes(runs[0]!.status));
    expect(run!.status).toBe('succeeded');
    expect(stub.calls()).toEqual(['GET /api/user/phone-numbers/all', 'POST /api/user/sms', 'POST /api/user/lead']);
    expect(stub.requests[1]!.json).toEqual({ from: 11, to: call.customer_phone, body: 'Thanks for your call! We will call you back.' });
    expect(stub.requests[2]!.json).toMatchObject({ campaign_id: 5, phone_number: call.customer_phone, variables: { sms_id: 'SMS_67890' } });
    // A resend of the same call is a duplicate: nothing is sent again.
    expect((await s.post(call)).status).toBe(200);
    expect(stub.requests).toHaveLength(3);
  });

  it('a 429 with retry_after 60 leaves the run retrying 60 s later (the platform\'s delay, not the backoff)', async () => {
    const s = await start();
    stub.failNext({ status: 429, body: { message: 'Too Many Attempts.', retry_after: 60 } });
    expect((await s.post(fixture('sales-qualification'))).status).toBe(202);
    const [run] = await s.waitFor(() => s.store.listRuns(), (runs) => runs.length === 1 && runs[0]!.status === 'retrying');
    expect(run!.lastError).toContain('answered 429: Too Many Attempts.');
    // RETRY_MAX_DELAY_MS is 200 ms in the test service: only the platform's retry_after explains a minute.
    expect(run!.nextRunAt! - run!.updatedAt).toBeGreaterThanOrEqual(59_000);
    expect(run!.nextRunAt! - run!.updatedAt).toBeLessThanOrEqual(61_000);
    expect(stub.calls()).toEqual(['GET /api/user/phone-numbers/all']);
  });
});
