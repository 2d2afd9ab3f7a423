import { afterEach, describe, expect, it } from 'vitest';
import { fixture } from './support/fixtures.js';
import { startStubServer, type StubServer } from './support/stub-server.js';
import { startTestService, type TestService } from './support/test-service.js';

describe('end to end: seed payload → forward', () => {
  let service: TestService | undefined;
  let receiver: StubServer | undefined;
  afterEach(async () => {
    await service?.cleanup();
    await receiver?.close();
  });

  it('accepts the Famulor seed and POSTs it to the receiver once', async () => {
    receiver = await startStubServer();
    service = await startTestService({
      'forward.yaml': `name: forward\nmatch: { status: completed }\nsteps:\n  - id: forward\n    use: http.request\n    with: { url: "${receiver.url}/calls", body: "{{ call }}" }\n`,
    });
    const reply = await service.post(fixture('seed-003-famulor'));
    expect(reply.status).toBe(202);
    const runs = await service.waitFor(() => service!.store.listRuns(), (r) => r[0]?.status === 'succeeded');
    expect(runs[0]?.isTest).toBe(true);
    expect(runs).toHaveLength(1);
    expect(receiver.requests).toHaveLength(1);
    expect((receiver.requests[0]!.json as { id: number }).id).toBe(480336);
  });
});
