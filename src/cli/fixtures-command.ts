// `aftercall fixtures export <call id>`: a stored call's payload, as its revision was delivered,
// written as a fixture file (pretty JSON); `--scrub` replaces the people in it with fakes.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { fixtureFile } from '../payload/fixture-file.js';
import { openStore } from '../store/open-store.js';
import type { CallPayload } from '../store/store.js';
import { configOrExit, positiveInt, type CliContext } from './cli-config.js';

interface ExportOptions {
  revision?: number;
  sender?: string;
  scrub?: boolean;
  out?: string;
}

export function registerFixturesCommands(program: Command, ctx: CliContext): void {
  const fixtures = program.command('fixtures').description('Test fixtures from stored calls');
  fixtures
    .command('export')
    .description("Write a stored call's payload (as delivered) as a fixture file")
    .argument('<call-id>', 'the call id the platform sent')
    .option('--revision <n>', 'which revision of the call (default: the newest)', positiveInt)
    .option('--sender <sender>', 'when several senders delivered a call with this id')
    .option('--scrub', 'replace phones, emails, names and transcript text with consistent fakes')
    .option('--out <file>', 'write to this file instead of standard output')
    .action(async (callId: string, opts: ExportOptions) => {
      const store = await openStore(configOrExit(ctx), { ownsQueue: false });
      let found: CallPayload[];
      try {
        found = await store.getCallPayloads(callId, opts.revision);
      } finally {
        await store.close();
      }
      const chosen = choose(callId, opts, found);
      if (typeof chosen === 'string') {
        ctx.printError(chosen);
        ctx.exitCode = 1;
        return;
      }
      const text = fixtureFile(chosen.body!, { scrub: opts.scrub === true });
      if (!opts.out) return void ctx.stdout.write(text);
      writeFileSync(opts.out, text);
      ctx.printError(`wrote ${opts.out} (call ${callId}, revision ${chosen.revision}${opts.scrub ? ', scrubbed' : ''})`);
    });
}

/** The one payload to export, or what the user has to change. */
function choose(callId: string, opts: ExportOptions, found: CallPayload[]): CallPayload | string {
  const candidates = opts.sender ? found.filter((p) => p.sender === opts.sender) : found;
  const which = opts.revision ? `call ${callId} revision ${opts.revision}` : `call ${callId}`;
  if (candidates.length === 0) return `no ${which}${opts.sender ? ` from ${opts.sender}` : ''} in the store (see aftercall runs list)`;
  if (candidates.length > 1) {
    return `${which} was delivered by several senders (${candidates.map((p) => p.sender).join(', ')}); choose one with --sender`;
  }
  const payload = candidates[0]!;
  if (payload.body === null) {
    return `the payload of call ${callId} revision ${payload.revision} is no longer stored (RETENTION_DAYS removed it)`;
  }
  return payload;
}
