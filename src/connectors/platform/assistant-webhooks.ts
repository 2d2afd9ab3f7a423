// The webhook URLs an assistant sends to, read and changed through the platform's API for
// `aftercall connect` / `disconnect`. Classic API: the assistants listing shows the current URLs
// (`is_webhook_active`, `webhook_url`, `inbound_webhook_url`; `conversation_ended_webhook_url`
// where the listing has it) and `enable-…`/`disable-…` endpoints set them. Famulor 2.0:
// `GET /assistants/{id}` and `PATCH /assistants/{id}` (`webhook_url` with
// `webhook_delivery_mode: custom`, `variable_webhook_url`); its chat webhooks belong to the
// messaging connectors, not the assistant, so they are not set here. Sources: README.md.
import { PermanentError, type StepContext } from '../connector.js';
import type { PlatformClient } from './client.js';

export const WEBHOOK_KINDS = ['post-call', 'inbound', 'conversation-ended'] as const;
export type WebhookKind = (typeof WEBHOOK_KINDS)[number];

/** aftercall's route for each kind; the token follows. */
export const WEBHOOK_ROUTES: Record<WebhookKind, string> = {
  'post-call': '/webhooks/post-call',
  inbound: '/webhooks/inbound-call',
  'conversation-ended': '/webhooks/conversation-ended',
};

/** A URL that is set, none (null), or a setting the API does not show (undefined). */
type Current = string | null | undefined;

export interface WebhookChange {
  kind: WebhookKind;
  action: 'enable' | 'disable' | 'unchanged' | 'left-alone' | 'unsupported';
  /** The URL the assistant will send to after the change (null: none). */
  url: string | null;
  current: Current;
  note?: string;
}

/** Pages of the classic assistants listing read at most (100 a page). */
const MAX_PAGES = 50;

/** What `connect` would change so the assistant sends each kind to `urls`. */
export async function planConnect(client: PlatformClient, ctx: StepContext, assistant: string, urls: Record<WebhookKind, string>, kinds: readonly WebhookKind[]): Promise<WebhookChange[]> {
  const current = await readWebhooks(client, ctx, assistant);
  return kinds.map((kind): WebhookChange => {
    if (client.api === 'v1' && kind === 'conversation-ended') return unsupportedOnV1(kind);
    const now = current[kind];
    if (now === urls[kind]) return { kind, action: 'unchanged', url: now, current: now };
    return { kind, action: 'enable', url: urls[kind], current: now, ...(now === undefined ? { note: 'the current setting is not readable through the API' } : {}) };
  });
}

/**
 * What `disconnect` would change: a URL of aftercall's is removed; one pointing elsewhere is
 * left alone (it is someone else's), and so is one the API does not show, unless `force`.
 */
export async function planDisconnect(client: PlatformClient, ctx: StepContext, assistant: string, urls: Record<WebhookKind, string>, kinds: readonly WebhookKind[], force = false): Promise<WebhookChange[]> {
  const current = await readWebhooks(client, ctx, assistant);
  return kinds.map((kind): WebhookChange => {
    if (client.api === 'v1' && kind === 'conversation-ended') return unsupportedOnV1(kind);
    const now = current[kind];
    if (now === null) return { kind, action: 'unchanged', url: null, current: null };
    if (now === urls[kind] || force) return { kind, action: 'disable', url: null, current: now };
    return {
      kind,
      action: 'left-alone',
      url: now ?? null,
      current: now,
      note: now === undefined ? 'the current setting is not readable through the API; --force disables it anyway' : 'it points elsewhere, not to this aftercall; --force disables it anyway',
    };
  });
}

/** Sends the changes of a plan, one request each. */
export async function applyChanges(client: PlatformClient, ctx: StepContext, assistant: string, changes: readonly WebhookChange[]): Promise<void> {
  for (const change of changes) {
    if (change.action !== 'enable' && change.action !== 'disable') continue;
    const action = `${change.action} ${change.kind} webhook`;
    if (client.api === 'classic') {
      const id = classicId(assistant);
      const endpoint = { 'post-call': 'webhook', inbound: 'inbound-webhook', 'conversation-ended': 'conversation-ended-webhook' }[change.kind];
      await client.request(ctx, action, {
        method: 'POST',
        path: `/user/assistants/${change.action}-${endpoint}`,
        body: change.action === 'enable' ? { assistant_id: id, webhook_url: change.url } : { assistant_id: id },
      });
    } else {
      const body =
        change.kind === 'post-call'
          ? { webhook_url: change.url, webhook_delivery_mode: change.url ? 'custom' : 'none' }
          : { variable_webhook_url: change.url };
      await client.request(ctx, action, { method: 'PATCH', path: `/assistants/${encodeURIComponent(assistant)}`, body });
    }
  }
}

function unsupportedOnV1(kind: WebhookKind): WebhookChange {
  return { kind, action: 'unsupported', url: null, current: undefined, note: "on Famulor 2.0 chat webhooks are set per messaging connector (its conversation_ended_webhook_url), not per assistant" };
}

function classicId(assistant: string): number {
  if (!/^\d+$/.test(assistant)) throw new PermanentError(`--assistant must be the numeric assistant id on the classic API (got "${assistant}")`);
  return Number(assistant);
}

async function readWebhooks(client: PlatformClient, ctx: StepContext, assistant: string): Promise<Record<WebhookKind, Current>> {
  if (client.api === 'v1') {
    const answer = (await client.request<unknown>(ctx, 'read assistant', { method: 'GET', path: `/assistants/${encodeURIComponent(assistant)}` })) as { data?: unknown } | null;
    const a = ((answer?.data ?? answer) ?? {}) as Record<string, unknown>;
    const mode = a.webhook_delivery_mode;
    return {
      'post-call': mode === 'none' || mode === 'automation' ? null : urlField(a, 'webhook_url'),
      inbound: urlField(a, 'variable_webhook_url'),
      'conversation-ended': undefined,
    };
  }
  const a = await findClassicAssistant(client, ctx, classicId(assistant));
  const active = a.is_webhook_active;
  return {
    'post-call': active === false ? null : urlField(a, 'webhook_url'),
    inbound: urlField(a, 'inbound_webhook_url'),
    'conversation-ended': urlField(a, 'conversation_ended_webhook_url'),
  };
}

/** A URL field: its value, null when empty, undefined when the answer lacks it. */
function urlField(record: Record<string, unknown>, name: string): Current {
  if (!(name in record)) return undefined;
  const value = record[name];
  return typeof value === 'string' && value !== '' ? value : null;
}

/** `GET /api/user/assistants/get?per_page=100&page=N` until the assistant is found or the pages end. */
async function findClassicAssistant(client: PlatformClient, ctx: StepContext, id: number): Promise<Record<string, unknown>> {
  let seen = 0;
  for (let page = 1; page <= MAX_PAGES; page++) {
    const answer = (await client.request<unknown>(ctx, 'list assistants', { method: 'GET', path: `/user/assistants/get?per_page=100&page=${page}` })) as {
      data?: unknown;
      last_page?: unknown;
    } | null;
    const rows = Array.isArray(answer?.data) ? (answer.data as Array<Record<string, unknown>>) : [];
    seen += rows.length;
    const found = rows.find((row) => row.id === id || row.id === String(id));
    if (found) return found;
    const last = typeof answer?.last_page === 'number' ? answer.last_page : page;
    if (page >= last || rows.length === 0) break;
  }
  throw new PermanentError(`${client.title}: assistant ${id} not found in the account (${seen} assistants listed)`);
}
