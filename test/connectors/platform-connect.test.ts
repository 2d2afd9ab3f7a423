// `aftercall connect` / `disconnect` against a stub of the platform API that records requests:
// the classic enable/disable endpoints with the documented bodies, URLs built from PUBLIC_URL
// and the webhook token, idempotent (a second run only reads), --dry-run only reads, disconnect
// removes only aftercall's own URLs; and the Famulor 2.0 assistant settings.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cli } from '../support/cli-in-process.js';
import { fakePlatform, V1_ASSISTANT_ID } from './support/platform/fake-platform.js';
import { startVendorStub, type VendorStub } from './support/vendor-stub.js';

const TOKEN = 'tok-0123456789abcdef';
const URLS = {
  postCall: `https://hooks.example.com/webhooks/post-call/${TOKEN}`,
  inbound: `https://hooks.example.com/webhooks/inbound-call/${TOKEN}`,
  ended: `https://hooks.example.com/webhooks/conversation-ended/${TOKEN}`,
};

let stub: VendorStub;
let platform: ReturnType<typeof fakePlatform>;
let env: Record<string, string>;
beforeEach(async () => {
  platform = fakePlatform();
  stub = await startVendorStub(platform.route);
  env = { PLATFORM_API_KEY: 'ac-test-key', PLATFORM_BASE_URL: stub.url, PUBLIC_URL: 'https://hooks.example.com/', WEBHOOK_TOKENS: `platform=${TOKEN}` };
});
afterEach(() => stub.close());

const writes = () => stub.requests.filter((r) => r.method !== 'GET').map((r) => ({ path: r.path, body: r.json }));

describe('aftercall connect (classic API)', () => {
  it('reads the assistant, then enables the three webhooks with its URLs; a second run changes nothing', async () => {
    const first = await cli(['connect', '--platform', 'autocalls', '--assistant', '7'], env);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(stub.calls()[0]).toBe('GET /api/user/assistants/get');
    expect(stub.requests[0]!.headers.authorization).toBe('Bearer ac-test-key');
    expect(writes()).toEqual([
      { path: '/api/user/assistants/enable-webhook', body: { assistant_id: 7, webhook_url: URLS.postCall } },
      { path: '/api/user/assistants/enable-inbound-webhook', body: { assistant_id: 7, webhook_url: URLS.inbound } },
      { path: '/api/user/assistants/enable-conversation-ended-webhook', body: { assistant_id: 7, webhook_url: URLS.ended } },
    ]);
    expect(first.out).toContain(`post-call           set          ${URLS.postCall} (was none)`);
    expect(first.out).toContain('Done: 3 changed, 0 left as they were.');

    const before = stub.requests.length;
    const second = await cli(['connect', '--platform', 'autocalls', '--assistant', '7'], env);
    expect(second.code).toBe(0);
    expect(stub.calls().slice(before)).toEqual(['GET /api/user/assistants/get']);
    expect(second.out).toContain('Nothing to change.');
  });

  it('--dry-run reads and prints what it would do, and sends nothing else', async () => {
    const r = await cli(['connect', '--platform', 'famulor', '--assistant', '7', '--dry-run'], env);
    expect(r.code).toBe(0);
    expect(stub.calls()).toEqual(['GET /api/user/assistants/get']);
    expect(r.out).toContain(`inbound             would set    ${URLS.inbound} (was none)`);
    expect(r.out).toContain('Dry run: nothing changed (3 to change).');
  });

  it('changes only what differs, and --only limits the kinds', async () => {
    platform.assistants[0]!.webhook_url = URLS.postCall;
    platform.assistants[0]!.is_webhook_active = true;
    platform.assistants[0]!.inbound_webhook_url = 'https://old.example.com/inbound';
    const r = await cli(['connect', '--platform', 'otonistark', '--assistant', '7', '--only', 'post-call,inbound'], env);
    expect(r.code).toBe(0);
    expect(writes()).toEqual([{ path: '/api/user/assistants/enable-inbound-webhook', body: { assistant_id: 7, webhook_url: URLS.inbound } }]);
    expect(r.out).toContain(`post-call           already      ${URLS.postCall}`);
  });

  it('disconnect removes aftercall\'s URLs and leaves one that points elsewhere alone (unless --force)', async () => {
    await cli(['connect', '--platform', 'autocalls', '--assistant', '7'], env);
    platform.assistants[0]!.inbound_webhook_url = 'https://crm.example.com/inbound';
    stub.requests.length = 0;
    const r = await cli(['disconnect', '--platform', 'autocalls', '--assistant', '7'], env);
    expect(r.code).toBe(0);
    expect(writes()).toEqual([
      { path: '/api/user/assistants/disable-webhook', body: { assistant_id: 7 } },
      { path: '/api/user/assistants/disable-conversation-ended-webhook', body: { assistant_id: 7 } },
    ]);
    expect(r.out).toContain('inbound             left alone   https://crm.example.com/inbound: it points elsewhere');
    stub.requests.length = 0;
    const again = await cli(['disconnect', '--platform', 'autocalls', '--assistant', '7'], env);
    expect(writes()).toEqual([]);
    expect(again.out).toContain('Nothing to change.');
    await cli(['disconnect', '--platform', 'autocalls', '--assistant', '7', '--force'], env);
    expect(writes()).toEqual([{ path: '/api/user/assistants/disable-inbound-webhook', body: { assistant_id: 7 } }]);
  });

  it('a setting the listing does not show is set again (the same URL) and never removed without --force', async () => {
    delete platform.assistants[0]!.conversation_ended_webhook_url;
    await cli(['connect', '--platform', 'autocalls', '--assistant', '7'], env);
    delete platform.assistants[0]!.conversation_ended_webhook_url;
    stub.requests.length = 0;
    const again = await cli(['connect', '--platform', 'autocalls', '--assistant', '7'], env);
    expect(writes()).toEqual([{ path: '/api/user/assistants/enable-conversation-ended-webhook', body: { assistant_id: 7, webhook_url: URLS.ended } }]);
    expect(again.out).toContain('(was not readable): the current setting is not readable through the API');
    delete platform.assistants[0]!.conversation_ended_webhook_url;
    stub.requests.length = 0;
    const off = await cli(['disconnect', '--platform', 'autocalls', '--assistant', '7'], env);
    expect(writes().map((w) => w.path)).toEqual(['/api/user/assistants/disable-webhook', '/api/user/assistants/disable-inbound-webhook']);
    expect(off.out).toContain('conversation-ended  left alone   none: the current setting is not readable through the API; --force disables it anyway');
  });

  it('says what is missing: PUBLIC_URL, the key, an unknown assistant', async () => {
    const noUrl = await cli(['connect', '--platform', 'autocalls', '--assistant', '7'], { ...env, PUBLIC_URL: '' });
    expect(noUrl.code).toBe(2);
    expect(noUrl.err).toMatch(/^aftercall connect needs PUBLIC_URL/);
    const noKey = await cli(['connect', '--platform', 'autocalls', '--assistant', '7'], { ...env, PLATFORM_API_KEY: '' });
    expect(noKey.code).toBe(2);
    expect(noKey.err.trim()).toBe('aftercall connect needs PLATFORM_API_KEY');
    const unknown = await cli(['connect', '--platform', 'autocalls', '--assistant', '99'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.err.trim()).toBe('aftercall connect: autocalls.ai: assistant 99 not found in the account (1 assistants listed)');
    expect(stub.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    const vapi = await cli(['connect', '--platform', 'vapi', '--assistant', '7'], env);
    expect(vapi.code).not.toBe(0);
    expect(vapi.err).toContain("option '--platform <name>' argument 'vapi' is invalid. must be one of autocalls, famulor, otonistark, famulor2");
  });
});

describe('aftercall connect --platform famulor2', () => {
  it('sets the post-call and inbound URLs with PATCH /api/v1/assistants/{id}; chat webhooks are not per assistant there', async () => {
    let assistant: Record<string, unknown> = { id: V1_ASSISTANT_ID, webhook_url: null, webhook_delivery_mode: 'none', variable_webhook_url: null };
    await stub.close();
    stub = await startVendorStub((req) => {
      if (req.path !== `/api/v1/assistants/${V1_ASSISTANT_ID}`) return undefined;
      if (req.method === 'PATCH') assistant = { ...assistant, ...(req.json as object) };
      return { body: { data: assistant } };
    });
    const v1 = { ...env, PLATFORM_BASE_URL: stub.url, PLATFORM_API_KEY: 'fam_test_key' };
    const r = await cli(['connect', '--platform', 'famulor2', '--assistant', V1_ASSISTANT_ID], v1);
    expect(r.err).toBe('');
    expect(writes()).toEqual([
      { path: `/api/v1/assistants/${V1_ASSISTANT_ID}`, body: { webhook_url: URLS.postCall, webhook_delivery_mode: 'custom' } },
      { path: `/api/v1/assistants/${V1_ASSISTANT_ID}`, body: { variable_webhook_url: URLS.inbound } },
    ]);
    expect(r.out).toContain('conversation-ended  not set      none: on Famulor 2.0 chat webhooks are set per messaging connector');
    stub.requests.length = 0;
    await cli(['connect', '--platform', 'famulor2', '--assistant', V1_ASSISTANT_ID], v1);
    expect(writes()).toEqual([]);
  });
});
