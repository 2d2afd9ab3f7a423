// The CLI in this process: runCli with its output captured, as `aftercall <args>` prints it.
import { runCli } from '../../src/cli/run-cli.js';

export async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, {
    stdout: { write: (text: string) => (out += text) },
    stderr: { write: (text: string) => (err += text) },
    // A copy: the command reads `.env` into it, never into this process's variables.
    env: { ...process.env, LOG_LEVEL: 'silent', ...env },
  });
  return { code, out, err };
}
