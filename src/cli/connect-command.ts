// `aftercall connect` / `disconnect`: registers (or removes) this aftercall's post-call, inbound
// and conversation-ended webhook URLs on an assistant through the platform's API, with the key
// from PLATFORM_API_KEY. The current settings are read first: what is set already is left as it
// is, so running it twice changes nothing; `--dry-run` reads and prints, and changes nothing.
import { InvalidArgumentError, type Command } from 'commander';
import type { Config } from '../config.js';
import type { StepContext } from '../connectors/connector.js';
import {
  applyChanges,
  planConnect,
  planDisconnect,
  WEBHOOK_KINDS,
  WEBHOOK_ROUTES,
  type WebhookChange,
  type WebhookKind,
} from '../connectors/platform/assistant-webhooks.js';
import { createPlatformClient } from '../connectors/platform/client.js';
import { PLATFORM_NAMES, platformEnv, type PlatformName } from '../connectors/platform/config.js';
import { resolveWebhookTokens } from '../ingest/webhook-tokens.js';
import { createLogger } from '../logger.js';
import { CliExit, configOrExit, type CliContext } from './cli-config.js';

/** Every request of the command gets this long. */
const REQUEST_TIMEOUT_MS = 15_000;

interface ConnectOptions {
  platform: PlatformName;
  assistant: string;
  dryRun?: boolean;
  only?: WebhookKind[];
  force?: boolean;
}

function platformName(value: string): PlatformName {
  if (!(PLATFORM_NAMES as string[]).includes(value)) throw new InvalidArgumentError(`must be one of ${PLATFORM_NAMES.join(', ')}`);
  return value as PlatformName;
}

function webhookKinds(value: string): WebhookKind[] {
  const kinds = value.split(',').map((k) => k.trim());
  for (const kind of kinds) if (!(WEBHOOK_KINDS as readonly string[]).includes(kind)) throw new InvalidArgumentError(`each must be one of ${WEBHOOK_KINDS.join(', ')}`);
  return kinds as WebhookKind[];
}

export function registerConnectCommands(program: Command, ctx: CliContext): void {
  for (const mode of ['connect', 'disconnect'] as const) {
    const command = program
      .command(mode)
      .description(
        mode === 'connect'
          ? "Register this aftercall's webhook URLs (post-call, inbound, conversation-ended) on an assistant through the platform's API"
          : "Remove this aftercall's webhook URLs from an assistant through the platform's API",
      )
      .requiredOption('--platform <name>', `the platform: ${PLATFORM_NAMES.join(', ')}`, platformName)
      .requiredOption('--assistant <id>', 'the assistant (numeric id on the classic API, a UUID on famulor2)')
      .option('--only <kinds>', `comma-separated: ${WEBHOOK_KINDS.join(', ')} (default: all)`, webhookKinds)
      .option('--dry-run', 'read the current settings and print what would change; change nothing');
    if (mode === 'disconnect') command.option('--force', 'also remove URLs that point elsewhere or cannot be read');
    command.action(async (opts: ConnectOptions) => runConnect(ctx, mode, opts));
  }
}

async function runConnect(ctx: CliContext, mode: 'connect' | 'disconnect', opts: ConnectOptions): Promise<void> {
  const config = configOrExit(ctx);
  const parsed = platformEnv.parse({ ...ctx.env, PLATFORM: opts.platform });
  if (!parsed.ok) {
    ctx.printError(`aftercall ${mode} needs ${parsed.missing}`);
    throw new CliExit(2);
  }
  const urls = webhookUrls(ctx, config, mode);
  const client = createPlatformClient(parsed.config);
  const requestCtx: StepContext = {
    logger: createLogger('silent'),
    signal: new AbortController().signal,
    timeoutMs: REQUEST_TIMEOUT_MS,
    idempotencyKey: `aftercall-${mode}`,
  };
  const kinds = opts.only ?? WEBHOOK_KINDS;
  try {
    const changes =
      mode === 'connect'
        ? await planConnect(client, requestCtx, opts.assistant, urls, kinds)
        : await planDisconnect(client, requestCtx, opts.assistant, urls, kinds, opts.force === true);
    ctx.print(`Assistant ${opts.assistant} on ${client.title} (${client.base}):`);
    for (const change of changes) ctx.print(describe(change, opts.dryRun === true));
    const changing = changes.filter((c) => c.action === 'enable' || c.action === 'disable').length;
    if (opts.dryRun) {
      ctx.print(`Dry run: nothing changed (${changing} to change).`);
      return;
    }
    await applyChanges(client, requestCtx, opts.assistant, changes);
    ctx.print(changing === 0 ? 'Nothing to change.' : `Done: ${changing} changed, ${changes.length - changing} left as they were.`);
  } catch (error) {
    ctx.printError(`aftercall ${mode}: ${(error as Error).message}`);
    ctx.exitCode = 1;
  } finally {
    client.close();
  }
}

/** aftercall's URL for each kind: PUBLIC_URL, the route and the webhook token, as serve prints it. */
function webhookUrls(ctx: CliContext, config: Config, mode: string): Record<WebhookKind, string> {
  if (!config.PUBLIC_URL) {
    ctx.printError(`aftercall ${mode} needs PUBLIC_URL: the address the platform reaches this aftercall at (e.g. https://hooks.example.com)`);
    throw new CliExit(2);
  }
  const first = config.WEBHOOK_TOKENS[0];
  const token = first ? first.slice(first.indexOf('=') + 1).trim() : resolveWebhookTokens([], config.SQLITE_PATH).managedToken!;
  const base = config.PUBLIC_URL.replace(/\/+$/, '');
  return Object.fromEntries(WEBHOOK_KINDS.map((kind) => [kind, `${base}${WEBHOOK_ROUTES[kind]}/${token}`])) as Record<WebhookKind, string>;
}

function describe(change: WebhookChange, dryRun: boolean): string {
  const was = change.current === undefined ? 'not readable' : (change.current ?? 'none');
  const verb = {
    enable: dryRun ? 'would set' : 'set',
    disable: dryRun ? 'would remove' : 'remove',
    unchanged: 'already',
    'left-alone': 'left alone',
    unsupported: 'not set',
  }[change.action];
  const what = change.action === 'disable' ? `(was ${was})` : change.action === 'enable' ? `${change.url} (was ${was})` : (change.url ?? 'none');
  return `  ${change.kind.padEnd(19)} ${verb.padEnd(12)} ${what}${change.note ? `: ${change.note}` : ''}`;
}
