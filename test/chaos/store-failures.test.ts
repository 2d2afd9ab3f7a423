// Disk full / read-only store: while the SQLite store cannot write, deliveries get 503 and never
// a false 202 (every 202 is checked against the file at once), the process stays up, runs that
// were in flight resume once the store is back, and the service accepts again when space returns.
//
// How each failure is produced (what works for a root process on Linux, checked when building this):
//   - disk full: the database lives on a small tmpfs mounted for the test; a filler file takes
//     the free space (ENOSPC → SQLITE_FULL), deleting it gives the space back. Needs mount
//     rights (root / CAP_SYS_ADMIN); skipped loudly without them.
//   - write errors: a file size limit on the running process (prlimit RLIMIT_FSIZE, SIGXFSZ
//     ignored) makes every write past the current end of the files fail with EFBIG
//     (→ SQLITE_IOERR_WRITE); raising the limit again restores. Needs only `prlimit`.
//   - read-only: nothing makes the files of a RUNNING process read-only from outside: `chattr +i`
//     and chmod are checked when a file is opened, not on writes through descriptors already
//     open; `mount -o remount,ro` answers EBUSY while files are open for writing; a moved
//     database file is not noticed in WAL mode; and the connection lives in the store's own
//     thread, out of a test's reach. So the read-only case is a store that is read-only when the
//     service starts (chattr +i for root, chmod a-w otherwise): `serve` must refuse to start
//     (no listener, so no 202) and start and catch up once the store is writable again.
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.js';
import { chaosCall, httpStep, mappingYaml } from './support/calls.js';
import { postJson, ServiceSupervisor } from './support/child-service.js';
import { pick, pollUntil, printSummary, sleep } from './support/scale.js';
import { readStore, unfinishedRuns } from './support/store-probe.js';
import { startVendorStub, type VendorStub } from './support/vendor-stub.js';

const FAILING_DELIVERIES = pick({ short: 12, full: 80 });
const TEST_TIMEOUT_MS = pick({ short: 45_000, full: 150_000 });
/** The part of each delivery sent while the store fails that makes it large (forces the files to grow). */
const PADDING = 'x'.repeat(200_000);

const dirs: Array<{ cleanup(): void }> = [];
const stubs: VendorStub[] = [];
const cleanups: Array<() => Promise<void> | void> = [];
afterAll(async () => {
  for (const fn of cleanups.reverse()) await Promise.resolve(fn()).catch(() => undefined);
  for (const stub of stubs) await stub.close();
  for (const d of dirs) d.cleanup();
});

function canRun(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Whether this process may mount a tmpfs (tried once on a scratch directory). */
const CAN_MOUNT = (() => {
  if (process.platform !== 'linux') return false;
  const probe = tempDir('aftercall-chaos-mount-probe-');
  try {
    if (!canRun('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe.path])) return false;
    return canRun('umount', [probe.path]);
  } finally {
    probe.cleanup();
  }
})();
/** Root ignores file modes, so it needs the immutable flag; everyone else a read-only mode. */
function setReadOnly(files: string[], readOnly: boolean): void {
  for (const file of files) {
    if (process.getuid?.() === 0) execFileSync('chattr', [readOnly ? '+i' : '-i', file]);
    else chmodSync(file, readOnly ? 0o444 : 0o644);
  }
}
/** Whether setReadOnly works here (chattr needs a file system that supports the flag). */
const CAN_MAKE_READ_ONLY = (() => {
  if (process.platform !== 'linux') return false;
  const probe = tempDir('aftercall-chaos-ro-probe-');
  const file = join(probe.path, 'probe');
  writeFileSync(file, 'x');
  try {
    setReadOnly([file], true);
    setReadOnly([file], false);
    return true;
  } catch {
    return false;
  } finally {
    probe.cleanup();
  }
})();
const HAS_PRLIMIT = process.platform === 'linux' && canRun('prlimit', ['--version']);
if (!CAN_MOUNT) console.warn('\n!!! cannot mount a tmpfs here (needs root or CAP_SYS_ADMIN): the disk-full chaos scenario is SKIPPED\n');
if (!CAN_MAKE_READ_ONLY) console.warn('\n!!! cannot make a file read-only here (chattr +i): the read-only store chaos scenario is SKIPPED\n');
if (!HAS_PRLIMIT) console.warn('\n!!! prlimit (util-linux) not found: the RLIMIT_FSIZE chaos scenario is SKIPPED\n');

interface Target {
  hookUrl: string;
  baseUrl: string;
  sqlitePath: string;
  crashes(): number;
  stop(): Promise<void>;
}

interface Fault {
  /** What the store answers with while failing, for the summary. */
  sqliteError: string;
  fail(): Promise<void> | void;
  restore(): Promise<void> | void;
}

const crmMapping = (crm: VendorStub) =>
  mappingYaml('crm-sync', [httpStep('crm', `${crm.url}/contacts`, '{ call: "{{ call.id }}", summary: "{{ extracted.summary }}" }')]);

function mappingsFor(root: string, crm: VendorStub): string {
  const mappings = join(root, 'mappings');
  mkdirSync(mappings, { recursive: true });
  writeFileSync(join(mappings, 'crm-sync.yaml'), crmMapping(crm));
  return mappings;
}

const SERVICE_ENV = { WORKER_CONCURRENCY: '4', WORKER_POLL_INTERVAL_MS: '50', LEASE_MS: '1000', RETRY_BASE_DELAY_MS: '50', RETRY_MAX_DELAY_MS: '300' };

/**
 * The scenario, the same for every way of failing: healthy deliveries (their runs still in
 * flight), then the store fails, deliveries keep coming, the store comes back, the platform
 * re-sends what got no 2xx, and everything committed must end processed exactly once.
 */
async function storeOutage(label: string, target: Target, fault: Fault, crm: VendorStub, firstId: number) {
  const accepted = new Set<number>();
  const falseAcks: number[] = [];
  const refused: number[] = [];
  const unexpected: string[] = [];
  let sent = 0;

  for (let i = 0; i < 5; i++) {
    const id = firstId + i;
    sent++;
    const reply = await postJson(target.hookUrl, chaosCall(id));
    if (reply.status !== 202) unexpected.push(`healthy ${id}: ${reply.status}`);
    else accepted.add(id);
  }

  await fault.fail();
  let i = 5;
  for (; i < 5 + FAILING_DELIVERIES; i++) {
    const id = firstId + i;
    const call = chaosCall(id);
    call.formatted_transcript = PADDING;
    sent++;
    const reply = await postJson(target.hookUrl, call);
    if (reply.status === 202) {
      // A 202 while the store fails must be on disk already: check at once.
      if (!readStore(target.sqlitePath).calls.has(String(id))) falseAcks.push(id);
      accepted.add(id);
    } else if (reply.status === 503 && reply.body?.code === 'STORE_UNAVAILABLE') refused.push(id);
    else unexpected.push(`while failing ${id}: ${reply.status} ${JSON.stringify(reply.body)?.slice(0, 200)}`);
  }
  // A resend of a call acknowledged before the failure: a duplicate, or 503 if even the receipt cannot be written.
  const resend = await postJson(target.hookUrl, chaosCall(firstId));
  if (resend.status !== 200 && resend.status !== 503) unexpected.push(`duplicate while failing: ${resend.status}`);
  const health = await fetch(`${target.baseUrl}/healthz`).then((r) => r.status, () => 0);
  await sleep(1_000); // the worker meets the failing store too (claims, step results, leases)

  await fault.restore();
  let duplicatesAfter503 = 0;
  for (const id of refused) {
    const call = chaosCall(id);
    call.formatted_transcript = PADDING;
    const reply = await postJson(target.hookUrl, call);
    if (reply.status === 202) accepted.add(id);
    else if (reply.status === 200) {
      duplicatesAfter503++; // committed although answered 503: safe, the sender's retry is a duplicate
      accepted.add(id);
    } else unexpected.push(`re-sent after recovery ${id}: ${reply.status}`);
  }
  for (const end = i + 5; i < end; i++) {
    const id = firstId + i;
    sent++;
    const reply = await postJson(target.hookUrl, chaosCall(id));
    if (reply.status === 202) accepted.add(id);
    else unexpected.push(`after recovery ${id}: ${reply.status}`);
  }

  const final = await pollUntil(
    () => readStore(target.sqlitePath),
    (s) => s.runs.length === s.calls.size && unfinishedRuns(s).length === 0,
    20_000,
    100,
  );
  await target.stop();
  const effects = crm.effectsByUnit();
  const processed = [...final.calls].filter(
    (id) => final.runs.some((r) => r.callKey === id && r.status === 'succeeded') && effects.has(`crm/contacts:${id}`),
  );
  const lost = [...accepted].filter((id) => !processed.includes(String(id)));
  const halfDone = [...final.calls].filter((id) => !processed.includes(id));

  printSummary(label, {
    sent,
    acked: accepted.size,
    processed: processed.length,
    duplicates: crm.duplicateEffects(),
    lost: lost.length,
    crashes: target.crashes(),
    extra: {
      'store error': fault.sqliteError,
      '503 while failing': refused.length,
      '202 while failing': FAILING_DELIVERIES - refused.length,
      'false 202': falseAcks.length,
      '503 yet committed': duplicatesAfter503,
      'half-done': halfDone.length,
      'steps re-sent (same key)': crm.resentSameKey(),
      'healthz while failing': health,
      'stuck runs': unfinishedRuns(final).length,
    },
  });
  expect(unexpected).toEqual([]);
  expect(falseAcks, 'a 202 for a call that is not on disk').toEqual([]);
  expect(refused.length, 'the failure was met: deliveries got 503').toBeGreaterThan(0);
  expect(health).toBe(200);
  expect(lost, 'acknowledged calls not processed').toEqual([]);
  expect(halfDone, 'committed calls left half-done').toEqual([]);
  expect(crm.duplicateEffects()).toBe(0);
  expect(unfinishedRuns(final)).toEqual([]);
  expect(target.crashes()).toBe(0);
}

function childTarget(supervisor: ServiceSupervisor, sqlitePath: string): Target {
  return {
    hookUrl: supervisor.hookUrl,
    baseUrl: supervisor.url,
    sqlitePath,
    crashes: () => supervisor.crashes,
    stop: () => supervisor.stop(),
  };
}

describe('chaos: store failures', () => {
  it.runIf(CAN_MOUNT)(
    'disk full (tmpfs, ENOSPC): 503 and never a false 202; accepts again when space returns',
    async () => {
      const dir = tempDir('aftercall-chaos-diskfull-');
      dirs.push(dir);
      const mount = join(dir.path, 'store');
      mkdirSync(mount);
      // Room for everything the scenario commits once space returns (each padded call ~0.5 MB).
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${16 + FAILING_DELIVERIES}m`, 'tmpfs', mount]);
      cleanups.push(() => {
        if (canRun('umount', [mount])) return;
        canRun('umount', ['-l', mount]);
      });
      const crm = await startVendorStub({ name: 'crm', latencyMs: () => 150 });
      stubs.push(crm);
      const sqlitePath = join(mount, 'aftercall.db');
      const supervisor = await ServiceSupervisor.create({ env: { SQLITE_PATH: sqlitePath, MAPPINGS_DIR: mappingsFor(dir.path, crm), ...SERVICE_ENV } });
      cleanups.push(() => supervisor.kill9());
      await supervisor.start();

      const filler = join(mount, 'filler');
      const fault: Fault = {
        sqliteError: 'SQLITE_FULL',
        fail() {
          const fd = openSync(filler, 'w');
          try {
            for (const size of [1 << 20, 64 << 10, 4 << 10, 512, 1]) {
              const chunk = Buffer.alloc(size, 1);
              for (;;) {
                try {
                  writeSync(fd, chunk);
                } catch {
                  break;
                }
              }
            }
          } finally {
            closeSync(fd);
          }
        },
        restore() {
          unlinkSync(filler);
        },
      };
      await storeOutage('disk full (tmpfs)', childTarget(supervisor, sqlitePath), fault, crm, 600_000);
    },
    TEST_TIMEOUT_MS,
  );

  it.runIf(HAS_PRLIMIT)(
    'write errors (file size limit, EFBIG): 503 and never a false 202; accepts again when lifted',
    async () => {
      const dir = tempDir('aftercall-chaos-fsize-');
      dirs.push(dir);
      const crm = await startVendorStub({ name: 'crm', latencyMs: () => 150 });
      stubs.push(crm);
      const sqlitePath = join(dir.path, 'aftercall.db');
      const supervisor = await ServiceSupervisor.create({
        env: { SQLITE_PATH: sqlitePath, MAPPINGS_DIR: mappingsFor(dir.path, crm), ...SERVICE_ENV },
        ignoreSigxfsz: true,
      });
      cleanups.push(() => supervisor.kill9());
      const proc = await supervisor.start();
      const size = (path: string) => (existsSync(path) ? statSync(path).size : 0);
      const fault: Fault = {
        sqliteError: 'SQLITE_IOERR_WRITE',
        fail() {
          // No file of the store may grow past what it is now.
          const limit = Math.max(size(sqlitePath), size(`${sqlitePath}-wal`), size(`${sqlitePath}-shm`), 4096);
          execFileSync('prlimit', ['--pid', String(proc.pid), `--fsize=${limit}:unlimited`]);
        },
        restore() {
          execFileSync('prlimit', ['--pid', String(proc.pid), '--fsize=unlimited:unlimited']);
        },
      };
      await storeOutage('write errors (RLIMIT_FSIZE)', childTarget(supervisor, sqlitePath), fault, crm, 610_000);
    },
    TEST_TIMEOUT_MS,
  );

  it.runIf(CAN_MAKE_READ_ONLY)(
    'read-only store: the service refuses to start (never a 202), and starts and catches up once writable',
    async () => {
      const dir = tempDir('aftercall-chaos-readonly-');
      dirs.push(dir);
      const crm = await startVendorStub({ name: 'crm' });
      stubs.push(crm);
      const sqlitePath = join(dir.path, 'data', 'aftercall.db');
      const supervisor = await ServiceSupervisor.create({ env: { SQLITE_PATH: sqlitePath, MAPPINGS_DIR: mappingsFor(dir.path, crm), ...SERVICE_ENV } });
      cleanups.push(() => supervisor.kill9());
      const accepted = new Set<number>();
      const unexpected: string[] = [];
      let sent = 0;
      const deliver = async (id: number, expected: number[]) => {
        sent++;
        const reply = await postJson(supervisor.hookUrl, chaosCall(id), 5_000);
        if (reply.status === 202 || reply.status === 200) accepted.add(id);
        if (!expected.includes(reply.status)) unexpected.push(`${id}: ${reply.status} ${reply.error ?? ''}`);
        return reply.status;
      };

      await supervisor.start();
      for (let id = 630_000; id < 630_003; id++) await deliver(id, [202]);
      await pollUntil(() => readStore(sqlitePath), (s) => s.runs.length === 3 && unfinishedRuns(s).length === 0, 10_000);
      await supervisor.stop();

      const files = [sqlitePath, `${sqlitePath}-wal`, `${sqlitePath}-shm`].filter((f) => existsSync(f));
      setReadOnly(files, true);
      cleanups.push(() => setReadOnly(files, false));
      let refusal = '';
      try {
        await supervisor.start(30_000, true);
        refusal = 'started';
      } catch (error) {
        refusal = (error as Error).message;
      }
      // Nobody listens: a delivery cannot get a 202.
      const whileReadOnly = await deliver(630_010, [0, 503]);
      setReadOnly(files, false);

      await supervisor.start();
      await deliver(630_010, [202]);
      for (let id = 630_000; id < 630_003; id++) await deliver(id, [200]); // the platform's resends
      for (let id = 630_011; id < 630_014; id++) await deliver(id, [202]);
      const final = await pollUntil(() => readStore(sqlitePath), (s) => s.runs.length === 7 && unfinishedRuns(s).length === 0, 20_000);
      await supervisor.stop();
      const effects = crm.effectsByUnit();
      const processed = [...final.calls].filter((id) => final.runs.some((r) => r.callKey === id && r.status === 'succeeded') && effects.has(`crm/contacts:${id}`));
      const lost = [...accepted].filter((id) => !processed.includes(String(id)));

      printSummary('read-only store (at start)', {
        sent,
        acked: accepted.size,
        processed: processed.length,
        duplicates: crm.duplicateEffects(),
        lost: lost.length,
        crashes: supervisor.crashes,
        extra: {
          'made read-only with': process.getuid?.() === 0 ? 'chattr +i' : 'chmod a-w',
          'start on read-only store': refusal === 'started' ? 'started' : `refused (${/readonly/i.test(refusal) ? 'SQLITE_READONLY' : 'other'})`,
          'delivery while read-only': whileReadOnly,
        },
      });
      expect(refusal).not.toBe('started');
      expect(refusal).toMatch(/readonly/i);
      expect(unexpected).toEqual([]);
      expect(lost).toEqual([]);
      expect(crm.duplicateEffects()).toBe(0);
      expect(unfinishedRuns(final)).toEqual([]);
      expect(supervisor.crashes).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});
