import type { Command } from 'commander';
import { startService } from '../service.js';
import { configOrExit } from './cli-config.js';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('Start the webhook receiver and the worker (configuration from the environment and .env)')
    .action(async () => {
      const config = configOrExit();
      const service = await startService(config);
      console.log(`\naftercall is listening on ${service.baseUrl} (store: ${service.store.kind}, mappings: ${config.MAPPINGS_DIR})`);
      console.log('Paste this URL into your assistant\'s post-call webhook settings:\n');
      console.log(`  ${service.webhookUrl}\n`);
      if (service.tokenFile) console.log(`(token generated and kept in ${service.tokenFile}; set WEBHOOK_TOKENS to choose your own)\n`);
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
