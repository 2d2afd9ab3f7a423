import type { Command } from 'commander';
import type { Config } from '../config.js';
import { startService, type RunningService } from '../service.js';
import { configOrExit, type CliContext } from './cli-config.js';

/** What `serve` prints once it listens: where, the webhook URL to paste, the Runs page. */
export function startBanner(
  service: Pick<RunningService, 'bindAddress' | 'baseUrl' | 'webhookUrl' | 'runsPageUrl' | 'tokenFile'> & { store: { kind: string } },
  config: Pick<Config, 'MAPPINGS_DIR' | 'TEST_DELIVERIES'>,
): string {
  const bound = `http://${service.bindAddress}`;
  const everywhere = /^(0\.0\.0\.0|\[::\]):/.test(service.bindAddress) ? ` (every interface; from this machine ${service.baseUrl})` : '';
  return [
    '',
    `aftercall is listening on ${bound}${everywhere}`,
    `  store: ${service.store.kind}, mappings: ${config.MAPPINGS_DIR}, test deliveries: ${config.TEST_DELIVERIES}`,
    `  Runs page: ${service.runsPageUrl ?? 'off (set ADMIN_TOKEN to turn it on)'}`,
    '',
    "Paste this URL into your assistant's post-call webhook settings:",
    '',
    `  ${service.webhookUrl}`,
    '',
    'and, for web-widget and WhatsApp chats, into its conversation-ended webhook:',
    '',
    `  ${service.webhookUrl.replace('/webhooks/post-call/', '/webhooks/conversation-ended/')}`,
    '',
    ...(service.tokenFile ? [`(token generated and kept in ${service.tokenFile}; set WEBHOOK_TOKENS to choose your own)`, ''] : []),
  ].join('\n');
}

export function registerServeCommand(program: Command, ctx: CliContext): void {
  program
    .command('serve')
    .description('Start the webhook receiver and the worker (configuration from the environment and .env)')
    .action(async () => {
      const config = configOrExit(ctx);
      const service = await startService(config);
      ctx.print(startBanner(service, config));
      const shutdown = (reason: string, code: 0 | 1) => {
        service.logger.info({ reason }, 'shutting down');
        service.stop().then(
          () => process.exit(code),
          (error: unknown) => {
            service.logger.error({ err: error }, 'unclean shutdown');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => shutdown('SIGTERM', 0));
      process.once('SIGINT', () => shutdown('SIGINT', 0));
      // A store that cannot recover by itself: stop with a failure code, so the supervisor
      // (systemd, Docker, Kubernetes) restarts aftercall instead of it answering 503 forever.
      void service.fatal.then(() => shutdown('store failed', 1));
    });
}
