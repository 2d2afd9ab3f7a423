// `slack.message.send`: one message, to a channel through chat.postMessage (bot token) or to an
// incoming webhook. Not safe to repeat: Slack cannot deduplicate a post, so the worker records the
// step before and after, never re-posts one left "started" by a crash, and a post that got no
// answer is reported instead of retried. Contract: https://docs.slack.dev/reference/methods/chat.postMessage
// (channel, text up to 40,000 characters, blocks, thread_ts, reply_broadcast; answer { ok, channel, ts }),
// https://docs.slack.dev/reference/block-kit/blocks (up to 50 blocks a message),
// https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks (answer "ok", no ts).
import { z } from 'zod';
import type { ChatPostMessageArguments } from '@slack/web-api';
import { PermanentError } from '../../connector.js';
import { optional } from '../../step-input.js';
import { slackStep, webhookUrl } from '../client.js';

/** A Block Kit block: its `type` is required, the rest is Slack's to check (invalid_blocks). */
const block = z.looseObject({ type: z.string().min(1) });

const input = z
  .strictObject({
    channel: optional(z.string().trim().min(1).max(80)).describe(
      'Channel ID (C0123456789) or name (#sales-alerts) to post to with chat.postMessage and SLACK_BOT_TOKEN; the app must be a member. Without channel the message goes to webhook_url or SLACK_WEBHOOK_URL.',
    ),
    webhook_url: optional(webhookUrl).describe(
      "An incoming webhook URL to post to instead of SLACK_WEBHOOK_URL. It is a credential and is stored with the step's input: prefer SLACK_WEBHOOK_URL.",
    ),
    text: z
      .string()
      .min(1)
      .max(40_000)
      .describe('Message text (Slack mrkdwn, up to 40,000 characters). With blocks it is the notification and screen-reader text.'),
    blocks: optional(z.array(block).min(1).max(50)).describe('Block Kit blocks (up to 50), e.g. a section with the summary and a button to the run.'),
    thread_ts: optional(z.string().regex(/^\d+\.\d+$/, 'must be a message ts like 1503435956.000247')).describe(
      'Reply in the thread of this message: an earlier slack.message.send step\'s ts, e.g. "{{ steps.alert.ts }}" (needs channel). Null (that step skipped) posts to the channel.',
    ),
    reply_broadcast: optional(z.boolean()).describe('With thread_ts: also show the reply in the channel.'),
    unfurl_links: optional(z.boolean()).describe('Whether Slack previews the links in the text (default: Slack decides).'),
  })
  .refine((v) => !(v.channel && v.webhook_url), { message: 'give channel (chat.postMessage) or webhook_url, not both', path: ['webhook_url'] })
  .refine((v) => !v.thread_ts || v.channel, { message: 'a thread reply needs channel: incoming webhooks answer no ts to thread on', path: ['thread_ts'] });

export const messageSend = slackStep({
  kind: 'slack.message.send',
  description:
    'Post a message to Slack: to a channel with chat.postMessage (SLACK_BOT_TOKEN), or to an incoming webhook. Output: { ts, channel } (null for a webhook, which answers no ts). ' +
    'Slack cannot deduplicate a post: a re-evaluated call does not post again unless the mapping sets `repeat`, and a post that got no answer is reported, not retried.',
  input,
  defaultRepeat: 'never',
  output: z.object({
    ts: z.string().nullable().describe('The message\'s ts (its id), for thread replies: thread_ts: "{{ steps.<id>.ts }}"; null for a webhook.'),
    channel: z.string().nullable().describe('The channel ID it was posted to; null for a webhook.'),
  }),
  safeToRepeat: false,
  needs: (config, input) => {
    if (input.webhook_url) return null;
    if (input.channel) return config.SLACK_BOT_TOKEN ? null : 'SLACK_BOT_TOKEN (the step posts to a channel)';
    return config.SLACK_WEBHOOK_URL ? null : 'a destination: channel in the step (with SLACK_BOT_TOKEN), or webhook_url in the step, or SLACK_WEBHOOK_URL';
  },
  async execute(req, ctx, slack) {
    const message = {
      text: req.text,
      ...(req.blocks ? { blocks: req.blocks } : {}),
      ...(req.unfurl_links !== null && req.unfurl_links !== undefined ? { unfurl_links: req.unfurl_links } : {}),
    };
    if (req.channel) {
      if (!slack.config.SLACK_BOT_TOKEN) throw new PermanentError('Slack (post message): set SLACK_BOT_TOKEN to post to a channel');
      // Slack checks the blocks themselves (invalid_blocks); the SDK's block types are not restated here.
      const args = {
        channel: req.channel,
        ...message,
        ...(req.thread_ts ? { thread_ts: req.thread_ts, ...(req.reply_broadcast ? { reply_broadcast: true } : {}) } : {}),
      } as ChatPostMessageArguments;
      const posted = await slack.send(ctx, 'Slack (chat.postMessage)', { via: 'api', work: (client) => client.chat.postMessage(args) });
      return { ts: posted.ts ?? null, channel: posted.channel ?? null };
    }
    const url = req.webhook_url ?? slack.config.SLACK_WEBHOOK_URL;
    if (!url) throw new PermanentError('Slack (post message): no destination: set channel or webhook_url in the step, or SLACK_WEBHOOK_URL');
    await slack.send(ctx, 'Slack (incoming webhook)', { via: 'webhook', url, work: (hook) => hook.send(message) });
    return { ts: null, channel: null };
  },
});
