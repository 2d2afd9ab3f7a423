// Server child processes for the benchmark: `node [flags] [--import tsx] <script>`, each in its
// own process group (a terminal Ctrl-C reaches only the parent, which stops them in order).
// The child prints {"port":N} on its first stdout line. Every child started here is killed on
// stop(), and, as a last resort, synchronously when the parent exits.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { procCpuSeconds, rssMb, writtenBytes } from './proc.js';

export const ROOT = join(import.meta.dirname, '..');

export interface ServerProcess {
  name: string;
  pid: number;
  port: number;
  /** Set once the process has exited, for whatever reason. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  /** User+system CPU seconds the process has used so far (Linux /proc), or null. */
  cpuSeconds(): number | null;
  /** Resident set size now (VmRSS), in MB, or null. */
  rssMb(): number | null;
  /** Bytes written to storage so far (Linux /proc), or null. */
  writtenBytes(): number | null;
  /** SIGTERM, then SIGKILL after `graceMs`. Resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

export interface SpawnOptions {
  name: string;
  script: string;
  env: NodeJS.ProcessEnv;
  nodeArgs?: string[];
  /** 'tsx' (default): a TypeScript script through tsx; 'none': plain JavaScript. */
  loader?: 'tsx' | 'none';
  startTimeoutMs?: number;
  /** Called when the process exits before stop() was asked for. */
  onUnexpectedExit?: (name: string, code: number | null, signal: NodeJS.Signals | null) => void;
}

export async function spawnServer(options: SpawnOptions): Promise<ServerProcess> {
  const loader = options.loader === 'none' ? [] : ['--import', 'tsx'];
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), ...loader, options.script], {
    cwd: ROOT,
    env: options.env,
    stdio: ['pipe', 'pipe', 'inherit'],
    detached: true,
  });
  live.add(child);
  let stopping = false;
  let exit: ServerProcess['exit'] = null;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      live.delete(child);
      if (!stopping) options.onUnexpectedExit?.(options.name, code, signal);
      resolve();
    });
  });
  child.stdin?.on('error', () => undefined); // EPIPE once the child is gone

  const lines = createInterface({ input: child.stdout! });
  let timer: NodeJS.Timeout | undefined;
  try {
    const port = await new Promise<number>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${options.name}: no port within ${options.startTimeoutMs ?? 30_000} ms`)), options.startTimeoutMs ?? 30_000);
      child.once('error', reject);
      child.once('exit', (code, signal) => reject(new Error(`${options.name}: exited during start (code ${code}, signal ${signal})`)));
      lines.once('line', (line) => {
        const port = (JSON.parse(line) as { port?: unknown }).port;
        if (typeof port === 'number' && port > 0) resolve(port);
        else reject(new Error(`${options.name}: unexpected first line ${JSON.stringify(line)}`));
      });
    });
    // Anything printed later is passed on, marked with the server's name.
    lines.on('line', (line) => console.error(`[${options.name}] ${line}`));
    const pid = child.pid!;
    return {
      name: options.name,
      pid,
      port,
      get exit() {
        return exit;
      },
      cpuSeconds: () => procCpuSeconds(pid),
      rssMb: () => rssMb(pid),
      writtenBytes: () => writtenBytes(pid),
      async stop(graceMs = 20_000) {
        stopping = true;
        if (exit) return;
        child.kill('SIGTERM');
        const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(kill);
      },
    };
  } catch (error) {
    stopping = true;
    child.kill('SIGKILL');
    await exited;
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
