// Day-to-day comfort of the command line and the service, in process: `runs list` and
// `runs show` as people read them, plain sentences for failures, the start banner, readable
// logs at a terminal, probes kept out of the info log, and a build that does nothing twice.
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { plainMessage, UnreachableError } from '../src/cli/plain-error.js';
import { localTime, formatRun, formatRunsTable } from '../src/cli/runs-format.js';
import { startBanner } from '../src/cli/serve-command.js';
import type { Config } from '../src/config.js';
import { createLogger, terminalDestination } from '../src/logger.js';
import { startService } from '../src/service.js';
import { openStore } from '../src/store/open-store.js';
import type { RunDetail, RunSummary } from '../src/store/store.js';
import { fixture } from './support/fixtures.js';
import { tempDir } from './support/temp-dir.js';
import { LOG_ONLY, logCapture, startTestService, type TestService } from './support/test-service.js';

const ROOT = join(import.meta.dirname, '..');

const services: TestService[] = [];
afterEach(async () => {
  for (const s of services.splice(0)) await s.cleanup().catch(() => undefined);
});

/** A port nothing listens on: bound by the system, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs `fn` with the process in another time zone (Node reads TZ again when it changes). */
function inTimeZone<T>(tz: string, fn: () => T): T {
  const before = process.env.TZ;
  process.env.TZ = tz;
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env.TZ;
    else process.env.TZ = before;
  }
}

const AT = Date.UTC(2026, 11, 2, 9, 5, 7); // 2026-12-02 09:05:07 UTC

function summary(over: Partial<RunSummary>): RunSummary {
  return {
    id: 1, sender: 'default', callId: '777', revision: 1, mappingName: 'crm', mappingHash: 'h', status: 'succeeded', isTest: false,
    attempts: 1, nextRunAt: null, lastError: null, score: null, createdAt: AT, updatedAt: AT, ...over,
  };
}

describe('runs list and runs show', () => {
  it('list: an aligned table with headers, local times, a test column and masked errors', () => {
    const table = inTimeZone('Asia/Kolkata', () =>
      formatRunsTable([
        summary({ id: 12, status: 'dead', isTest: true, lastError: 'STEP_PERMANENT: step sms: +1 415 555 0142 is not a mobile number', mappingName: 'sms-and-crm' }),
        summary({ id: 9, callId: '480336', revision: 2, score: { value: 72.5, band: 'hot', fired: [] } }),
      ]),
    );
    const lines = table.split('\n');
    expect(lines[0]).toMatch(/^ID {2,}UPDATED {2,}CALL {2,}REV {2,}MAPPING {2,}STATUS {2,}TEST {2,}SCORE {2,}LAST ERROR$/);
    // 09:05:07 UTC is 14:35:07 in India (UTC+5:30).
    expect(lines[1]).toMatch(/^#12 +2026-12-02 14:35:07 {2}777 +1 +sms-and-crm {2}dead +test +STEP_PERMANENT: step sms: \+1 ••• ••• ••42 is not a mobile number$/);
    expect(lines[2]).toMatch(/^#9 +2026-12-02 14:35:07 {2}480336 {2}2 +crm +succeeded +72\.5 hot$/);
    // Aligned: every column starts where its header does.
    for (const header of ['UPDATED', 'CALL', 'MAPPING', 'STATUS']) {
      const col = lines[0]!.indexOf(header);
      expect(lines[1]!.slice(col - 2, col)).toBe('  ');
      expect(lines[1]![col]).not.toBe(' ');
      expect(lines[2]![col]).not.toBe(' ');
    }
    expect(formatRunsTable([])).toBe('no runs');
    expect(inTimeZone('UTC', () => localTime(AT))).toBe('2026-12-02 09:05:07');
  });

  it('show: the run, its score and each step with reason, input, output and answer, masked', () => {
    const run: RunDetail = {
      ...summary({ id: 4, isTest: true, status: 'dead', lastError: 'STEP_PERMANENT: step crm: HubSpot answered 400', score: { value: 40, band: 'warm', fired: [{ source: 'budget', add: 40 }] } }),
      callRowId: 1,
      call: fixture('seed-001-autocalls') as never,
      steps: [
        { stepId: 'sms', status: 'skipped', input: { to: '+14155550142', body: 'Hi Jane' }, inputHash: null, output: null, error: 'test delivery (dry-run)', attempts: 0, startedAt: null, finishedAt: AT, evidence: null },
        {
          stepId: 'crm', status: 'failed', input: { email: 'jane.doe@example.com' }, inputHash: 'x', output: null, error: 'HubSpot answered 400', attempts: 1, startedAt: AT, finishedAt: AT,
          evidence: { method: 'POST', url: 'http://127.0.0.1:1/crm/v3/objects/contacts', status: 400, body: '{"message":"bad"}', truncated: false },
        },
      ],
    };
    const text = inTimeZone('UTC', () => formatRun(run));
    expect(text).toContain('Run #4 · crm · dead · test delivery');
    expect(text).toMatch(/^ {2}call +777 revision 1 from default$/m);
    expect(text).toMatch(/^ {2}created +2026-12-02 09:05:07$/m);
    expect(text).toMatch(/^ {2}score +40 warm \(budget\)$/m);
    expect(text).toMatch(/^ {2}sms {2}skipped {2}2026-12-02 09:05:07\n {6}reason: test delivery \(dry-run\)\n {6}input: {2}\{"to":"\+1••••••••42","body":"Hi Jane"\}$/m);
    expect(text).toMatch(/^ {2}crm {2}failed \(1 attempt\)/m);
    expect(text).toContain('      error: HubSpot answered 400');
    expect(text).toContain('      input:  {"email":"[email]"}');
    expect(text).toContain('      answer: POST http://127.0.0.1:1/crm/v3/objects/contacts → 400 "{\\"message\\":\\"bad\\"}"');
    expect(text).not.toContain('jane.doe@example.com');
    expect(text).not.toContain('4155550142');
  });
});

describe('plain messages instead of stack traces', () => {
  it('a port in use: "port N is in use — set PORT", and the files opened are closed again', async () => {
    const first = await startTestService(LOG_ONLY);
    services.push(first);
    const port = Number(new URL(first.baseUrl).port);
    const dir = tempDir();
    try {
      const config: Config = { ...first.config, PORT: port, SQLITE_PATH: join(dir.path, 'a.db') };
      const failure = await startService(config, createLogger('silent')).then(
        () => null,
        (error: unknown) => error,
      );
      expect(plainMessage(failure)).toBe(`port ${port} is in use — set PORT to a free port (or stop what is using it)`);
      // The store it opened was closed again: no file of this process points at the database.
      const held = readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).startsWith(config.SQLITE_PATH);
        } catch {
          return false; // closed while listing
        }
      });
      expect(held).toEqual([]);
    } finally {
      dir.cleanup();
    }
  });

  it('a receiver that is down: "could not reach <url>: connection refused", the token masked', async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/webhooks/post-call/secret-token-0123456789`;
    const error = await fetch(url, { method: 'POST' }).then(
      () => null,
      (e: unknown) => new UnreachableError(`http://127.0.0.1:${port}/webhooks/post-call/[token]`, e),
    );
    expect(plainMessage(error)).toBe(`could not reach http://127.0.0.1:${port}/webhooks/post-call/[token]: connection refused (is it running?)`);
  });

  it('a PostgreSQL that is down: "could not reach host:port: connection refused"', async () => {
    const port = await closedPort();
    const error = await openStore(
      { SQLITE_PATH: './unused.db', SQLITE_BUSY_TIMEOUT_MS: 5_000, SQLITE_THREAD_HEAP_MB: 0, DATABASE_URL: `postgres://u:pw@127.0.0.1:${port}/db`, DATABASE_POOL_SIZE: 1 },
      { ownsQueue: false },
    ).then(
      async (store) => {
        await store.close();
        return null;
      },
      (e: unknown) => e,
    );
    expect(plainMessage(error)).toBe(`could not reach 127.0.0.1:${port}: connection refused (is it running?)`);
  });
});

describe('aftercall serve', () => {
  it('the banner prints the address as bound, the webhook URL and the Runs page', async () => {
    const s = await startTestService(LOG_ONLY, { ADMIN_TOKEN: 'admin-token-0123456789' });
    services.push(s);
    const port = new URL(s.baseUrl).port;
    expect(s.bindAddress).toBe(`127.0.0.1:${port}`);
    const banner = startBanner(s, s.config);
    expect(banner).toContain(`aftercall is listening on http://127.0.0.1:${port}\n`);
    expect(banner).toContain(`  Runs page: http://localhost:${port}/admin`);
    expect(banner).toContain(`  http://localhost:${port}/webhooks/post-call/<one of WEBHOOK_TOKENS>`);
    expect(banner).toContain(`  http://localhost:${port}/webhooks/conversation-ended/<one of WEBHOOK_TOKENS>`);
    expect(banner).toContain('test deliveries: run');
    const page = await request(s.server).get('/admin/login');
    expect(page.status).toBe(200);

    const everywhere = startBanner({ ...s, bindAddress: '0.0.0.0:3000', baseUrl: 'http://127.0.0.1:3000', runsPageUrl: null }, s.config);
    expect(everywhere).toContain('listening on http://0.0.0.0:3000 (every interface; from this machine http://127.0.0.1:3000)');
    expect(everywhere).toContain('Runs page: off (set ADMIN_TOKEN to turn it on)');
  });

  it('/healthz and /readyz are logged at debug, other requests at info', async () => {
    const run = async (level: string) => {
      const { sink, lines } = logCapture();
      const s = await startTestService(LOG_ONLY, { LOG_LEVEL: level }, undefined, { logTo: sink });
      services.push(s);
      expect((await request(s.server).get('/healthz')).status).toBe(200);
      expect((await request(s.server).get('/readyz?x=1')).status).toBe(200);
      expect((await request(s.server).get('/nowhere')).status).toBe(404);
      return lines.filter((l) => l.msg === 'request completed').map((l) => [(l.req as { url: string }).url, l.level]);
    };
    expect(await run('info')).toEqual([['/nowhere', 'warn']]);
    expect(await run('debug')).toEqual([
      ['/healthz', 'debug'],
      ['/readyz?x=1', 'debug'],
      ['/nowhere', 'warn'],
    ]);
  });
});

describe('logs at a terminal', () => {
  it('are pino-pretty lines, masked; anything else gets JSON', () => {
    let out = '';
    const terminal = Object.assign(
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          out += chunk.toString();
          done();
        },
      }),
      { isTTY: true, hasColors: () => false },
    ) as unknown as NodeJS.WriteStream;
    const logger = createLogger('info', terminalDestination(terminal));
    logger.info({ run_id: 3, to: '+14155550142' }, 'sms to %s sent', 'jane.doe@example.com');
    expect(out).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: sms to \[email\] sent\n {4}run_id: 3\n {4}to: "\+1••••••••42"\n$/);
    expect(terminalDestination(Object.assign(new Writable(), { isTTY: false }) as unknown as NodeJS.WriteStream)).toBeUndefined();
  });
});

describe('npm start', () => {
  it('builds incrementally: a second build with nothing changed emits nothing', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.prestart).toBe('npm run build');
    expect(pkg.scripts.build).toBe('tsc -b tsconfig.build.json');
    // The real build configuration, into a folder of its own (so it races no other build).
    const out = tempDir();
    const config = join(ROOT, `tsconfig.build-check-${process.pid}.json`);
    writeFileSync(config, JSON.stringify({ extends: './tsconfig.build.json', compilerOptions: { outDir: out.path, tsBuildInfoFile: join(out.path, '.tsbuildinfo') } }));
    try {
      const build = () => spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-b', config, '--verbose'], { cwd: ROOT, encoding: 'utf8', timeout: 170_000 });
      const first = build();
      expect(first.status, first.stdout + first.stderr).toBe(0);
      const main = join(out.path, 'cli', 'main.js');
      const builtAt = statSync(main).mtimeMs;
      const second = build();
      expect(second.status, second.stdout + second.stderr).toBe(0);
      expect(second.stdout).toMatch(/is up to date/);
      expect(statSync(main).mtimeMs).toBe(builtAt);
    } finally {
      rmSync(config, { force: true });
      out.cleanup();
    }
  }, 180_000);
});
