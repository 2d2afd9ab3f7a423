// The team-notification examples end to end: fixture → HTTP endpoint → store → worker → the real
// Slack SDK (examples/slack-hot-lead) or http.request (examples/teams-notification) → local stubs
// answering as Slack and a Teams workflow do (sources: each example's README.md). Asserts the
// messages, the link to the run, the thread reply built from the first post's ts, that neither is
// posted twice, and that a rate-limited post waits for Retry-After.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { z } from 'zod';
import { createConnectors, stepKinds } from '../src/connectors/index.js';
import { listMappingFiles, loadMappingFiles, MappingLoadError } from '../src/mapping/load-mappings.js';
import type { RunDetail } from '../src/store/store.js';
import './connectors/support/step-harness.js'; // clears proxy variables before any SDK loads
import type { Route, VendorRequest } from './connectors/support/vendor-stub.js';
import { fixture } from './support/fixtures.js';
import { deliver, EXAMPLES, exampleMappings as example, startService as start, vendor } from './support/example-harness.js';

const TOKEN = 'xoxb-1111-2222-e2e';
const PUBLIC = { PUBLIC_URL: 'https://aftercall.example.com', ADMIN_TOKEN: 'admin-token-0123456789abcdef' };
const KINDS = stepKinds(createConnectors({}));

/** Each succeeded step's output, held to the output its kind declares (what `steps.<id>` may read). */
function outputs(run: RunDetail, kinds: Record<string, string>): Record<string, unknown> {
  for (const step of run.steps.filter((st) => st.status === 'succeeded')) {
    const declared = KINDS.get(kinds[step.stepId]!)!.output as z.ZodObject;
    expect(declared.strict().safeParse(step.output).error, `${step.stepId} output`).toBeUndefined();
  }
  return Object.fromEntries(run.steps.map((step) => [step.stepId, step.status === 'succeeded' ? step.output : step.status]));
}

const hotLead = () => JSON.parse(readFileSync(join(EXAMPLES, 'slack-hot-lead', 'fixtures', 'hot-lead.json'), 'utf8')) as Record<string, unknown>;

/** chat.postMessage as Slack answers it: { ok, channel, ts } (channel names resolve to their id). */
function fakeSlack(): Route {
  let seq = 0;
  return (req: VendorRequest) => {
    if (req.path !== '/api/chat.postMessage') return { status: 404, body: 'not found' };
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return { body: { ok: false, error: 'invalid_auth' } };
    const ts = `1764700000.${String(++seq).padStart(6, '0')}`;
    return { body: { ok: true, channel: 'C0123456789', ts, message: { type: 'message', text: req.form?.text, ts } } };
  };
}

async function slackService(env: Record<string, string> = PUBLIC) {
  const slack = await vendor(fakeSlack());
  vi.stubEnv('SLACK_BOT_TOKEN', TOKEN);
  vi.stubEnv('SLACK_BASE_URL', `${slack.url}/api`);
  return { slack, s: await start(example('slack-hot-lead'), env) };
}

const SLACK_KINDS = { alert: 'slack.message.send', details: 'slack.message.send' };

describe('examples/slack-hot-lead', () => {
  it('a hot lead: one alert with number, score, summary and the link to its run; the transcript replied in its thread', async () => {
    const { slack, s } = await slackService();
    const [run] = await deliver(s, hotLead());
    expect(run!.status).toBe('succeeded');
    expect(run!.score).toMatchObject({ value: 82, band: 'hot' });
    const link = `https://aftercall.example.com/admin/runs/${run!.id}`;
    expect(slack.calls()).toEqual(['POST /api/chat.postMessage', 'POST /api/chat.postMessage']);
    const [alert, details] = slack.requests.map((r) => r.form!);
    expect(alert).toEqual({
      channel: '#sales-hot-leads',
      text: `Hot lead +49 1512 3456789 — score 82 — Will 40 Lizenzen, Entscheidung diese Woche — <${link}|open the run>`,
      blocks: expect.any(String),
    });
    expect(JSON.parse(alert!.blocks!)).toEqual([
      { type: 'section', text: { type: 'mrkdwn', text: '*Hot lead* +49 1512 3456789 — score *82*\nWill 40 Lizenzen, Entscheidung diese Woche' } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `Jonas Wagner · Wagner Solar GmbH · budget 22000 · <${link}|Open the run in aftercall>` }] },
    ]);
    // The reply goes to the channel id and ts the alert's answer gave.
    expect(details).toEqual({ channel: 'C0123456789', thread_ts: '1764700000.000001', text: expect.stringMatching(/^Transcript \(4 min\):\nAI: Guten Tag Herr Wagner/) });
    expect(details!.text).toContain('\nRecording: https://app.autocalls.ai/storage/recordings/call-940117.mp4');
    expect(outputs(run!, SLACK_KINDS)).toEqual({
      alert: { ts: '1764700000.000001', channel: 'C0123456789' },
      details: { ts: '1764700000.000002', channel: 'C0123456789' },
    });
  });

  it('without PUBLIC_URL the alert has no link; a re-evaluated call posts nothing again', async () => {
    const { slack, s } = await slackService({});
    const call = hotLead();
    await deliver(s, call);
    expect(slack.requests[0]!.form!.text).toBe('Hot lead +49 1512 3456789 — score 82 — Will 40 Lizenzen, Entscheidung diese Woche');
    (call.extracted_variables as Record<string, unknown>).summary = 'Will 45 Lizenzen, Entscheidung diese Woche';
    const runs = await deliver(s, call, 2);
    const second = runs.find((r) => r.revision === 2)!;
    expect(second.status).toBe('succeeded');
    expect(second.steps.map((step) => `${step.stepId}:${step.status}`)).toEqual(['alert:skipped', 'details:skipped']);
    expect(slack.requests).toHaveLength(2);
  });

  it('Slack failing for a while (503, then 429 with Retry-After: 1): the run retries, waits that long, then posts the alert once and replies in its thread', async () => {
    const { slack, s } = await slackService();
    slack.failNext(
      { status: 503, headers: { 'content-type': 'text/html' }, body: 'Service Unavailable' },
      { status: 429, headers: { 'retry-after': '1' }, body: { ok: false, error: 'ratelimited' } },
    );
    const [run] = await deliver(s, hotLead());
    expect(run!.status).toBe('succeeded');
    expect(run!.attempts).toBe(2);
    expect(slack.requests).toHaveLength(4); // two refused alerts, the alert, the reply
    expect(slack.requests[2]!.at - slack.requests[1]!.at).toBeGreaterThanOrEqual(950);
    expect(slack.requests[3]!.form!.thread_ts).toBe('1764700000.000001');
    expect(run!.steps.find((step) => step.stepId === 'alert')).toMatchObject({ status: 'succeeded', attempts: 3 });
  });

  it('the app not in the channel: the run is dead with what to do, the alert not retried', async () => {
    const { slack, s } = await slackService();
    slack.failNext({ body: { ok: false, error: 'not_in_channel' } });
    const [run] = await deliver(s, hotLead());
    expect(run!.status).toBe('dead');
    expect(run!.lastError).toContain('not_in_channel (invite the app to the channel');
    expect(slack.requests).toHaveLength(1);
  });
});

describe('examples/teams-notification', () => {
  it('posts the Adaptive Card message to the workflow URL (answered 202), with a button to the run; once per call', async () => {
    const teams = await vendor(() => ({ status: 202, body: '' }));
    const workflow = `${teams.url}/workflows/0123456789abcdef0123456789abcdef/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=test-signature`;
    const s = await start(example('teams-notification', (text) => text.replace(/https:\/\/prod-00\.westeurope\.logic\.azure\.com:443\/[^"]+/, workflow)), PUBLIC);
    const call = fixture('sales-qualification');
    const [run] = await deliver(s, call);
    expect(run!.status).toBe('succeeded');
    expect(teams.calls()).toEqual(['POST /workflows/0123456789abcdef0123456789abcdef/triggers/manual/paths/invoke']);
    expect(teams.requests[0]!.query.get('sig')).toBe('test-signature');
    expect(teams.requests[0]!.headers['content-type']).toBe('application/json');
    expect(teams.requests[0]!.json).toEqual({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          contentUrl: null,
          content: {
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
            type: 'AdaptiveCard',
            version: '1.2',
            body: [
              { type: 'TextBlock', size: 'Large', weight: 'Bolder', wrap: true, text: 'Hot lead +1 415 555 0142 — score 78' },
              { type: 'TextBlock', wrap: true, text: 'Qualified: wants a demo for 25 seats' },
              {
                type: 'FactSet',
                facts: [
                  { title: 'Caller', value: 'Dana Whitfield' },
                  { title: 'Company', value: 'Whitfield Roofing' },
                  { title: 'Budget', value: '18000' },
                  { title: 'Timeline', value: 'within 6 weeks' },
                ],
              },
            ],
            actions: [{ type: 'Action.OpenUrl', title: 'Open the run in aftercall', url: `https://aftercall.example.com/admin/runs/${run!.id}` }],
          },
        },
      ],
    });
    expect(outputs(run!, { teams: 'http.request' })).toEqual({ teams: { status: 202, body: null } });

    (call.extracted_variables as Record<string, unknown>).summary = 'Qualified: wants a demo for 40 seats';
    const runs = await deliver(s, call, 2);
    expect(runs.find((r) => r.revision === 2)!.steps.map((step) => step.status)).toEqual(['skipped']);
    expect(teams.requests).toHaveLength(1);
  });
});

describe('examples/slack-hot-lead without credentials', () => {
  it('refuses to load, naming each step and SLACK_BOT_TOKEN', () => {
    for (const name of Object.keys(process.env)) if (name.startsWith('SLACK_')) vi.stubEnv(name, '');
    let problems: string[] = [];
    try {
      loadMappingFiles(listMappingFiles(join(EXAMPLES, 'slack-hot-lead')), KINDS);
    } catch (error) {
      if (!(error instanceof MappingLoadError)) throw error;
      problems = error.problems.map((p) => `${p.key}: ${p.message}`);
    }
    expect(problems).toEqual([
      'steps.0.use: step "alert" (slack.message.send) needs SLACK_BOT_TOKEN (the step posts to a channel)',
      'steps.1.use: step "details" (slack.message.send) needs SLACK_BOT_TOKEN (the step posts to a channel)',
    ]);
  });
});
