import { createServer } from 'node:http';
import type { Command } from 'commander';
import { positiveInt, type CliContext } from './cli-config.js';

export function registerReceiverCommand(program: Command, ctx: CliContext): void {
  program
    .command('receiver')
    .description('A local HTTP receiver that prints what it gets (target for the example mapping)')
    .option('--port <port>', 'port on 127.0.0.1', positiveInt, 4000)
    .action((opts: { port: number }) => {
      const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          ctx.print(`${new Date().toISOString()} ${req.method} ${req.url} idempotency-key=${req.headers['idempotency-key'] ?? '-'}`);
          ctx.print(body.length > 2000 ? `${body.slice(0, 2000)}…` : body);
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
        });
      });
      server.listen(opts.port, '127.0.0.1', () => ctx.print(`receiver listening on http://127.0.0.1:${opts.port}`));
    });
}
