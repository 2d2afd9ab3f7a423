import type { Command } from 'commander';
import { maskValue } from '../masking.js';
import { openStore } from '../store/open-store.js';
import { isRunStatus, RUN_STATUSES as STATUSES } from '../store/run-status.js';
import type { Store } from '../store/store.js';
import { configOrExit, positiveInt, type CliContext } from './cli-config.js';
import { formatRun, formatRunsTable } from './runs-format.js';

async function withStore<T>(ctx: CliContext, fn: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(configOrExit(ctx), { ownsQueue: false });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export function registerRunsCommands(program: Command, ctx: CliContext): void {
  const runs = program.command('runs').description('The run history in the store');

  runs
    .command('list')
    .description('List runs, newest first')
    .option('--status <status>', `only runs with this status (${STATUSES.join(', ')})`)
    .option('--limit <n>', 'how many', positiveInt, 50)
    .option('--json', 'machine-readable output')
    .action(async (opts: { status?: string; limit: number; json?: boolean }) => {
      const status = opts.status;
      if (status !== undefined && !isRunStatus(status)) {
        ctx.printError(`--status must be one of ${STATUSES.join(', ')}`);
        ctx.exitCode = 2;
        return;
      }
      const list = await withStore(ctx, (store) => store.listRuns({ status, limit: opts.limit }));
      if (opts.json) return ctx.print(JSON.stringify(maskValue(list, { content: 'mask' }), null, 2));
      ctx.print(formatRunsTable(list));
    });

  runs
    .command('show')
    .description('Show one run with its steps')
    .argument('<id>', 'run id', positiveInt)
    .option('--json', 'machine-readable output')
    .action(async (id: number, opts: { json?: boolean }) => {
      const run = await withStore(ctx, (store) => store.getRun(id));
      if (!run) {
        ctx.printError(`no run #${id}`);
        ctx.exitCode = 1;
        return;
      }
      const { call: _call, ...summary } = run;
      // Masked like the Runs page: step inputs carry the call's phones, emails and texts.
      ctx.print(opts.json ? JSON.stringify(maskValue(summary, { content: 'mask' }), null, 2) : formatRun(run));
    });

  runs
    .command('retry')
    .description('Put a dead run back in the queue (completed steps are not repeated)')
    .argument('<id>', 'run id', positiveInt)
    .action(async (id: number) => {
      const result = await withStore(ctx, (store) => store.requeueDeadRun(id, Date.now()));
      if (result === 'requeued') return ctx.print(`run #${id} requeued; a running service picks it up within WORKER_POLL_INTERVAL_MS`);
      ctx.printError(result === 'not-found' ? `no run #${id}` : `run #${id} is not dead; only dead runs can be retried`);
      ctx.exitCode = 1;
    });
}
