// The real service as a child process (`node --import tsx src/cli/main.ts serve`), like
// test/crash-recovery.test.ts, with what the chaos scenarios need on top: a fixed port across
// restarts, SIGKILL and SIGTERM on demand, crash detection (any exit the test did not cause),
// the resident memory of the process, and bounded log capture (the pipes are always drained).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..', '..');
export const CHAOS_TOKEN = 'chaos-token-0123456789abcdef';
const MAIN = join(ROOT, 'src/cli/main.ts');
const LOG_TAIL_CHARS = 20_000;

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface ServiceProcess {
  pid: number;
  url: string;
  hookUrl: string;
  /** Exit code and signal once the process is gone. */
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  alive(): boolean;
  /** Resident set size in MB, from /proc/<pid>/status (0 when gone). */
  rssMb(): number;
}

export interface SupervisorOptions {
  env: Record<string, string>;
  /**
   * Start the process through `sh` with SIGXFSZ ignored, so a file size limit (RLIMIT_FSIZE,
   * set with prlimit) makes writes fail with EFBIG instead of killing the process.
   */
  ignoreSigxfsz?: boolean;
}

/**
 * Starts, kills and restarts the service on one port and one database. Counts crashes: exits
 * the test did not ask for.
 */
export class ServiceSupervisor {
  current: ServiceProcess | undefined;
  crashes = 0;
  starts = 0;
  kills = 0;
  readonly crashLogs: string[] = [];
  private proc: ChildProcess | undefined;
  private expectingExit = false;
  private log = '';

  private constructor(
    readonly port: number,
    private readonly options: SupervisorOptions,
  ) {}

  static async create(options: SupervisorOptions): Promise<ServiceSupervisor> {
    return new ServiceSupervisor(await freePort(), options);
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get hookUrl(): string {
    return `${this.url}/webhooks/post-call/${CHAOS_TOKEN}`;
  }

  output(): string {
    return this.log;
  }

  /**
   * Starts the service and resolves once it listens (the timeout only catches a hang: a start
   * takes seconds on two busy cores). With `mayFail`, an exit during start is not counted as a
   * crash (the test expects the start to be refused).
   */
  async start(timeoutMs = 120_000, mayFail = false): Promise<ServiceProcess> {
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) throw new Error('service already running');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: String(this.port),
      WEBHOOK_TOKENS: CHAOS_TOKEN,
      DATABASE_URL: '', // always the SQLite file under test, whatever the environment says
      LOG_LEVEL: 'error',
      // The scenarios' load all comes from one address, and is no attack: no per-address limits.
      RATE_LIMIT_PER_MINUTE: '0',
      MAX_CONNECTIONS_PER_CLIENT: '0',
      MAX_CONNECTIONS: '0',
      ...this.options.env,
    };
    const args = ['--import', 'tsx', MAIN, 'serve'];
    const proc = this.options.ignoreSigxfsz
      ? spawn('/bin/sh', ['-c', 'trap "" XFSZ; exec "$0" "$@"', process.execPath, ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    this.expectingExit = mayFail;
    this.starts++;
    const append = (chunk: Buffer) => {
      this.log = (this.log + chunk.toString()).slice(-LOG_TAIL_CHARS);
    };
    proc.stdout!.on('data', append);
    proc.stderr!.on('data', append);
    // 'close', not 'exit': it comes once the output is read too, so a start that fails has its reason in the log.
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      proc.once('close', (code, signal) => {
        if (!this.expectingExit) {
          this.crashes++;
          this.crashLogs.push(`exit code=${code} signal=${signal}\n${this.log.slice(-4_000)}`);
        }
        resolve({ code, signal });
      });
    });
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`service did not start in ${timeoutMs} ms:\n${this.log}`)), timeoutMs);
      const check = (chunk: Buffer) => {
        out += chunk.toString();
        if (/listening on http:\/\//.test(out)) {
          clearTimeout(timer);
          proc.stdout!.off('data', check);
          resolve();
        }
      };
      proc.stdout!.on('data', check);
      void exit.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`service exited during start (code ${code}, signal ${signal}):\n${this.log}`));
      });
    });
    this.expectingExit = false;
    const pid = proc.pid!;
    this.current = {
      pid,
      url: this.url,
      hookUrl: this.hookUrl,
      exit,
      alive: () => proc.exitCode === null && proc.signalCode === null,
      rssMb: () => rssMb(pid),
    };
    return this.current;
  }

  /** SIGKILL; resolves once the process is gone. */
  async kill9(): Promise<void> {
    const current = this.current;
    if (!current || !current.alive()) return;
    this.expectingExit = true;
    this.kills++;
    process.kill(current.pid, 'SIGKILL');
    await current.exit;
  }

  /** SIGTERM (graceful stop), SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<void> {
    const current = this.current;
    if (!current || !current.alive()) return;
    this.expectingExit = true;
    process.kill(current.pid, 'SIGTERM');
    const timer = setTimeout(() => {
      if (current.alive()) process.kill(current.pid, 'SIGKILL');
    }, timeoutMs);
    await current.exit;
    clearTimeout(timer);
  }
}

export function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

export interface PostResult {
  /** HTTP status, or 0 when no answer came (refused, reset, timed out). */
  status: number;
  body: Record<string, unknown> | null;
  error?: string;
}

/** POSTs a JSON body; never throws. */
export async function postJson(url: string, body: unknown, timeoutMs = 15_000, headers: Record<string, string> = {}): Promise<PostResult> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let parsed: Record<string, unknown> | null = null;
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = null;
    }
    return { status: response.status, body: parsed };
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return { status: 0, body: null, error: cause?.code ?? (error as Error).name };
  }
}
