// slack.message.send with the real @slack/web-api and @slack/webhook clients against a local stub
// (SLACK_BASE_URL, a webhook URL on 127.0.0.1): what each client sends, thread replies, and how
// Slack's answers are classified. The stub answers as Slack documents:
// chat.postMessage answers HTTP 200 { ok, channel, ts, message } or { ok: false, error }
// (https://docs.slack.dev/reference/methods/chat.postMessage), 429 with Retry-After in seconds
// when rate limited (https://docs.slack.dev/apis/web-api/rate-limits); an incoming webhook answers
// "ok", or 400/403/404/410 with the error code as text and 500 for Slack's own trouble
// (https://api.slack.com/changelog/2016-05-17-changes-to-errors-for-incoming-webhooks).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PermanentError, TransientError } from '../../src/connectors/connector.js';
import { evidenceOf, storedEvidence } from '../../src/connectors/evidence.js';
import { closeTestConnectors, inputProblems, KINDS, runStep, stepError } from './support/step-harness.js';
import { closedPortUrl, startVendorStub, type VendorRequest, type VendorStub } from './support/vendor-stub.js';

const TOKEN = 'xoxb-1111-2222-test';
const HOOK_PATH = '/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX';
const CHANNELS: Record<string, string> = { '#sales-hot-leads': 'C0123456789', C0123456789: 'C0123456789' };

/** chat.postMessage and an incoming webhook, answering as Slack does. */
function fakeSlack() {
  let seq = 0;
  return (req: VendorRequest) => {
    if (req.path === '/api/chat.postMessage') {
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return { body: { ok: false, error: 'invalid_auth' } };
      const channel = CHANNELS[req.form?.channel ?? ''];
      if (!channel) return { body: { ok: false, error: 'channel_not_found' } };
      const ts = `1764700000.${String(++seq).padStart(6, '0')}`;
      return { body: { ok: true, channel, ts, message: { type: 'message', subtype: 'bot_message', text: req.form?.text, ts } } };
    }
    if (req.path === HOOK_PATH) return { headers: { 'content-type': 'text/html' }, body: 'ok' };
    return { status: 404, headers: { 'content-type': 'text/html' }, body: 'no_service' };
  };
}

let stub: VendorStub;
beforeEach(async () => {
  stub = await startVendorStub(fakeSlack());
  vi.stubEnv('SLACK_BOT_TOKEN', TOKEN);
  vi.stubEnv('SLACK_BASE_URL', `${stub.url}/api`);
  vi.stubEnv('SLACK_WEBHOOK_URL', `${stub.url}${HOOK_PATH}`);
});
afterEach(async () => {
  vi.unstubAllEnvs();
  await closeTestConnectors();
  await stub.close();
});

const alert = {
  channel: '#sales-hot-leads',
  text: 'Hot lead +49 151 23456789 — score 82',
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*Hot lead* +49 151 23456789 — score *82*' } }],
};

describe('slack.message.send through chat.postMessage', () => {
  it('posts channel, text and blocks form-encoded with the bot token; output { ts, channel }', async () => {
    const out = await runStep('slack.message.send', alert);
    expect(out).toEqual({ ts: '1764700000.000001', channel: 'C0123456789' });
    expect(stub.calls()).toEqual(['POST /api/chat.postMessage']);
    const [req] = stub.requests;
    expect(req!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(req!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(req!.form).toEqual({ channel: '#sales-hot-leads', text: alert.text, blocks: JSON.stringify(alert.blocks) });
  });

  it("replies in the thread of an earlier message by its ts, optionally broadcast to the channel", async () => {
    const first = (await runStep('slack.message.send', alert)) as { ts: string };
    await runStep('slack.message.send', { channel: 'C0123456789', text: 'Transcript: …', thread_ts: first.ts, reply_broadcast: true });
    await runStep('slack.message.send', { channel: 'C0123456789', text: 'No thread', thread_ts: null, reply_broadcast: true });
    expect(stub.requests.map((r) => r.form)).toEqual([
      expect.objectContaining({ channel: '#sales-hot-leads' }),
      { channel: 'C0123456789', text: 'Transcript: …', thread_ts: '1764700000.000001', reply_broadcast: 'true' },
      { channel: 'C0123456789', text: 'No thread' }, // an earlier step skipped: a message of its own
    ]);
  });

  it('keeps its client and connection for the next step', async () => {
    await runStep('slack.message.send', alert);
    await runStep('slack.message.send', alert);
    expect(stub.requests).toHaveLength(2);
    expect(stub.connections()).toBe(1);
  });

  it('ok:false channel_not_found, not_in_channel, invalid_auth, missing_scope: permanent, with the code and what to do', async () => {
    const unknown = await stepError('slack.message.send', { ...alert, channel: '#nowhere' });
    expect(unknown).toBeInstanceOf(PermanentError);
    expect(unknown.message).toBe('Slack (chat.postMessage): Slack answered channel_not_found (check the channel id or name; a private channel needs the app invited)');
    stub.failNext({ body: { ok: false, error: 'not_in_channel' } }, { body: { ok: false, error: 'missing_scope', needed: 'chat:write', provided: 'incoming-webhook' } });
    expect((await stepError('slack.message.send', alert)).message).toMatch(/not_in_channel \(invite the app to the channel/);
    expect((await stepError('slack.message.send', alert)).message).toMatch(/missing_scope \(the app needs the chat:write scope\)$/);
    vi.stubEnv('SLACK_BOT_TOKEN', 'xoxb-revoked');
    const auth = await stepError('slack.message.send', alert);
    expect(auth).toBeInstanceOf(PermanentError);
    expect(auth.message).toMatch(/invalid_auth \(SLACK_BOT_TOKEN is not valid\)$/);
    expect(stub.requests).toHaveLength(4); // none retried by the SDK
  });

  it('a refused post keeps its evidence: method, URL, status and the answer', async () => {
    const error = await stepError('slack.message.send', { ...alert, channel: '#nowhere' });
    expect(storedEvidence(evidenceOf(error)!)).toEqual({
      method: 'POST',
      url: `${stub.url}/api/chat.postMessage`,
      status: 200,
      body: '{"ok":false,"error":"channel_not_found"}',
      truncated: false,
    });
  });

  it('429 with Retry-After: transient with that delay, and the SDK does not wait or retry by itself', async () => {
    stub.failNext({ status: 429, headers: { 'retry-after': '7' }, body: { ok: false, error: 'ratelimited' } });
    const error = await stepError('slack.message.send', alert);
    expect(error).toBeInstanceOf(TransientError);
    expect(error.retryAfterMs).toBe(7_000);
    expect(stub.requests).toHaveLength(1);
  });

  it('429 without a Retry-After, ok:false ratelimited or internal_error: transient', async () => {
    stub.failNext({ status: 429, body: { ok: false, error: 'ratelimited' } }, { body: { ok: false, error: 'ratelimited' } }, { body: { ok: false, error: 'internal_error' } });
    for (let i = 0; i < 3; i++) {
      const error = await stepError('slack.message.send', alert);
      expect(error, `answer ${i}`).toBeInstanceOf(TransientError);
      expect(error.retryAfterMs).toBeUndefined();
    }
    expect(stub.requests).toHaveLength(3);
  });

  it('ok:false fatal_error (Slack: some of it may have succeeded): permanent, saying the message may have been posted', async () => {
    stub.failNext({ body: { ok: false, error: 'fatal_error' } });
    const error = await stepError('slack.message.send', alert);
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/fatal_error: the message may have been posted; check the channel/);
  });

  it('500 and 503: transient, one request each (the SDK does not retry)', async () => {
    stub.failNext({ status: 500, headers: { 'content-type': 'text/html' }, body: '<html>oops</html>' }, { status: 503, headers: { 'retry-after': '2' }, body: '' });
    const first = await stepError('slack.message.send', alert);
    const second = await stepError('slack.message.send', alert);
    expect(first).toBeInstanceOf(TransientError);
    expect(first.message).toMatch(/^Slack \(chat\.postMessage\) answered 500/);
    expect(second).toBeInstanceOf(TransientError);
    expect(second.retryAfterMs).toBe(2_000);
    expect(stub.requests).toHaveLength(2);
  });

  it('no answer within the timeout: the message may have been posted, so permanent (for an operator), not retried', async () => {
    stub.failNext({ body: { ok: true, channel: 'C0123456789', ts: '1.2' }, delayMs: 3_000 });
    const error = await stepError('slack.message.send', alert, { timeoutMs: 200 });
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/^Slack \(chat\.postMessage\): no answer within 200 ms after the request was sent, so the message may have been posted/);
    expect(stub.requests).toHaveLength(1);
    expect(evidenceOf(error)).toMatchObject({ method: 'POST', url: `${stub.url}/api/chat.postMessage` });
    // Its request was cut, not left running behind the step.
    await vi.waitFor(() => expect(stub.requests[0]!.cutAt).toBeDefined());
  });

  it('a shutdown before sending stops the step; nothing is sent', async () => {
    const abort = new AbortController();
    abort.abort();
    await expect(runStep('slack.message.send', alert, { signal: abort.signal })).rejects.toThrow('aborted: the service is shutting down');
    expect(stub.requests).toHaveLength(0);
  });

  it('connection refused (nothing sent): transient', async () => {
    vi.stubEnv('SLACK_BASE_URL', `${await closedPortUrl()}/api`);
    const error = await stepError('slack.message.send', alert);
    expect(error).toBeInstanceOf(TransientError);
    expect(error.message).toMatch(/ECONNREFUSED/);
  });
});

describe('slack.message.send through an incoming webhook', () => {
  it('without a channel: JSON to SLACK_WEBHOOK_URL, or to the step\'s webhook_url; output { ts: null, channel: null }', async () => {
    const { channel: _channel, ...message } = alert;
    expect(await runStep('slack.message.send', message)).toEqual({ ts: null, channel: null });
    stub.failNext({ headers: { 'content-type': 'text/html' }, body: 'ok' });
    await runStep('slack.message.send', { text: 'to another channel', webhook_url: `${stub.url}/services/T1/B2/other` });
    expect(stub.calls()).toEqual([`POST ${HOOK_PATH}`, 'POST /services/T1/B2/other']);
    expect(stub.requests[0]!.headers['content-type']).toBe('application/json');
    expect(stub.requests[0]!.headers.authorization).toBeUndefined();
    expect(stub.requests[0]!.json).toEqual({ text: alert.text, blocks: alert.blocks });
  });

  it('404 channel_not_found, 410 channel_is_archived: permanent with Slack\'s word; the URL\'s secret path is kept out of the evidence', async () => {
    stub.failNext({ status: 404, headers: { 'content-type': 'text/html' }, body: 'channel_not_found' }, { status: 410, body: 'channel_is_archived' });
    const notFound = await stepError('slack.message.send', { text: 'x' });
    expect(notFound).toBeInstanceOf(PermanentError);
    expect(notFound.message).toMatch(/^Slack \(incoming webhook\) answered 404: channel_not_found/);
    expect(storedEvidence(evidenceOf(notFound)!)).toMatchObject({ url: `${stub.url}/[secret]`, status: 404, body: 'channel_not_found' });
    expect((await stepError('slack.message.send', { text: 'x' })).message).toMatch(/answered 410: channel_is_archived/);
  });

  it('429 with Retry-After and 500: transient (the webhook client\'s own 429 handling fails at once, without the header)', async () => {
    stub.failNext({ status: 429, headers: { 'retry-after': '30' }, body: 'rate_limited' }, { status: 500, body: 'rollup_error' });
    const limited = await stepError('slack.message.send', { text: 'x' });
    expect(limited).toBeInstanceOf(TransientError);
    expect(limited.retryAfterMs).toBe(30_000);
    expect(await stepError('slack.message.send', { text: 'x' })).toBeInstanceOf(TransientError);
    expect(stub.requests).toHaveLength(2);
  });

  it('no answer within the timeout: may have been posted, permanent', async () => {
    stub.failNext({ body: 'ok', delayMs: 3_000 });
    const error = await stepError('slack.message.send', { text: 'x' }, { timeoutMs: 200 });
    expect(error).toBeInstanceOf(PermanentError);
    expect(error.message).toMatch(/^Slack \(incoming webhook\): no answer within 200 ms after the request was sent/);
  });
});

describe('slack.message.send: input and configuration', () => {
  it('is never repeated blindly: safeToRepeat false, repeat never', () => {
    const kind = KINDS.get('slack.message.send')!;
    expect(kind.safeToRepeat).toBe(false);
    expect(kind.defaultRepeat).toBe('never');
  });

  it('checks the input before anything is sent', () => {
    expect(inputProblems('slack.message.send', { channel: 'C1', webhook_url: 'https://hooks.slack.com/services/a', text: 'x' })).toEqual([
      'webhook_url: give channel (chat.postMessage) or webhook_url, not both',
    ]);
    expect(inputProblems('slack.message.send', { text: 'x', thread_ts: '1764700000.000001' })).toEqual([
      'thread_ts: a thread reply needs channel: incoming webhooks answer no ts to thread on',
    ]);
    expect(inputProblems('slack.message.send', { channel: 'C1', text: 'x', thread_ts: 'yesterday' })).toEqual(['thread_ts: must be a message ts like 1503435956.000247']);
    expect(inputProblems('slack.message.send', { channel: 'C1', text: '' })).toHaveLength(1);
    expect(inputProblems('slack.message.send', { channel: 'C1', text: 'x', blocks: [{ text: 'no type' }] })).toHaveLength(1);
    expect(inputProblems('slack.message.send', { channel: 'C1', text: 'x', blocks: Array(51).fill({ type: 'divider' }) })).toHaveLength(1);
  });

  it('names what a step lacks: the bot token for a channel, a webhook otherwise', () => {
    const kind = KINDS.get('slack.message.send')!;
    expect(kind.missingConfig!({}, { channel: '#sales', text: 'x' })).toBe('SLACK_BOT_TOKEN (the step posts to a channel)');
    expect(kind.missingConfig!({}, { text: 'x' })).toBe(
      'a destination: channel in the step (with SLACK_BOT_TOKEN), or webhook_url in the step, or SLACK_WEBHOOK_URL',
    );
    expect(kind.missingConfig!({}, { text: 'x', webhook_url: '{{ input.hook }}' })).toBeNull();
    expect(kind.missingConfig!({ SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/a' }, { text: 'x' })).toBeNull();
    expect(kind.missingConfig!({ SLACK_BOT_TOKEN: TOKEN }, { channel: '{{ input.channel }}', text: 'x' })).toBeNull();
    expect(kind.missingConfig!({ SLACK_BOT_TOKEN: 'abc' }, { channel: '#sales', text: 'x' })).toBe(
      'SLACK_BOT_TOKEN (must be a bot token (xoxb-…) or a user token (xoxp-…))',
    );
  });
});
