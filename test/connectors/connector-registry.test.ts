// Connectors built from their configuration (connector-registry.ts): variables read once, when
// they are built; an incomplete connector still built, its steps failing with what to set; the
// configuration check of every step kind derived from its connector's spec.
import { afterEach, describe, expect, it } from 'vitest';
import { PermanentError } from '../../src/connectors/connector.js';
import { closeConnectors, CONNECTOR_SPECS, createConnectors, stepKinds } from '../../src/connectors/index.js';
import { fakeHubSpot } from './support/fake-vendors.js';
import { stepContext } from './support/step-harness.js';
import { startVendorStub, type VendorStub } from './support/vendor-stub.js';

let stub: VendorStub | undefined;
afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

describe('createConnectors', () => {
  it('reads the variables once: a step sends with what the connector was built from', async () => {
    stub = await startVendorStub(fakeHubSpot().route);
    const env: Record<string, string | undefined> = { HUBSPOT_ACCESS_TOKEN: 'pat-built', HUBSPOT_BASE_URL: stub.url };
    const connectors = createConnectors(env);
    try {
      env.HUBSPOT_ACCESS_TOKEN = 'pat-later';
      env.HUBSPOT_BASE_URL = 'http://127.0.0.1:9';
      const note = stepKinds(connectors).get('hubspot.note.create')!;
      await note.execute(note.input.parse({ body: 'x', contact_id: '1' }), stepContext());
      expect(stub.requests.map((r) => r.headers.authorization)).toEqual(['Bearer pat-built']);
    } finally {
      await closeConnectors(connectors);
    }
  });

  it('builds a connector whose variables are missing: its steps say what to set, the others run', async () => {
    const kinds = stepKinds(createConnectors({}));
    const note = kinds.get('hubspot.note.create')!;
    const failed = await note.execute(note.input.parse({ body: 'x', contact_id: '1' }), stepContext()).catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(PermanentError);
    expect((failed as Error).message).toBe('HubSpot is not configured: set HUBSPOT_ACCESS_TOKEN');
    const log = kinds.get('log')!;
    expect(await log.execute(log.input.parse({ message: 'hi' }), stepContext())).toEqual({ logged: true });
  });

  it('gives every step kind of a connector with variables the check derived from them, a step\'s needs after', () => {
    const kinds = stepKinds(createConnectors({}));
    for (const spec of CONNECTOR_SPECS.filter((s) => s.config)) {
      for (const step of spec.steps) expect(kinds.get(step.kind)!.missingConfig).toBeTypeOf('function');
    }
    expect(kinds.get('log')!.missingConfig).toBeUndefined();
    const sms = kinds.get('twilio.sms.send')!;
    const account = { TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}`, TWILIO_AUTH_TOKEN: 't' };
    expect(sms.missingConfig!({}, { to: '+14155550100' })).toBe('TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN');
    expect(sms.missingConfig!(account, { to: '+14155550100' })).toMatch(/^a sender: /);
    expect(sms.missingConfig!(account, { from: '+14155550199' })).toBeNull();
    expect(sms.missingConfig!({ ...account, TWILIO_FROM: '+14155550199' }, { to: '+14155550100' })).toBeNull();
  });
});
