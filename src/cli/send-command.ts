import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { maskUrl } from '../masking.js';
import type { CliContext } from './cli-config.js';
import { UnreachableError } from './plain-error.js';

export function registerSendCommand(program: Command, ctx: CliContext): void {
  program
    .command('send')
    .description('POST a fixture to a webhook URL, like the platform\'s "Make test request" or "Resend Webhook"')
    .argument('<fixture>', 'JSON payload file')
    .requiredOption('--url <url>', 'the webhook URL, token included')
    .option('--test', 'mark the delivery as a test (X-Aftercall-Test: true)')
    .option('--revision <label>', 'send a new revision: sets extracted_variables.revision_label to this value')
    .action(async (fixture: string, opts: { url: string; test?: boolean; revision?: string }) => {
      const payload = JSON.parse(readFileSync(fixture, 'utf8')) as Record<string, unknown>;
      if (opts.revision !== undefined) {
        const target = (payload.data as Record<string, unknown> | undefined) ?? payload;
        target.extracted_variables = { ...(target.extracted_variables as object | undefined), revision_label: opts.revision };
      }
      const response = await fetch(opts.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(opts.test ? { 'x-aftercall-test': 'true' } : {}) },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(15_000),
      }).catch((error: unknown) => {
        throw new UnreachableError(maskUrl(opts.url), error);
      });
      ctx.print(`${response.status} ${await response.text()}`);
      if (!response.ok) ctx.exitCode = 1;
    });
}
