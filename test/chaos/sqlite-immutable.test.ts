// The SQLite files made immutable (chattr +i) while the service runs. SQLite keeps the WAL
// index (the -shm file) mapped into memory; everything else it reads and writes with system
// calls. Two outcomes, both seen here:
//   - a commit's write to the WAL file fails first (EPERM → SQLITE_IOERR_WRITE): 503, the
//     process lives, and accepts again once the files are writable.
//   - a write into the mapped WAL index comes first (reads update it too, and a commit after
//     its WAL frames are written): a write fault on a mapped page of a file that can no longer
//     be written is SIGBUS, and the process dies on the spot (no JavaScript handler can run
//     there). SQLite has no way around the mapping but exclusive locking, which would lock the
//     CLI out of the file while the service runs. There the promise is the supervisor's: no
//     false 202, every acknowledged call in the file, a restart on still-immutable files
//     refused (SQLITE_READONLY), and once writable the restarted service accepts; resends are
//     duplicates (also of a delivery the crash left unanswered after its frames were written).
// Which comes first is not in a test's hands, so with all three files immutable the test
// holds the invariant for either outcome; with the -shm file alone immutable the WAL write
// passes and the WAL index update after it faults, so the SIGBUS path is taken every time.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.js';
import { chaosCall } from './support/calls.js';
import { postJson, ServiceSupervisor } from './support/child-service.js';
import { printSummary, sleep } from './support/scale.js';
import { readStore } from './support/store-probe.js';

const LOG_ONLY = 'name: log-all\nsteps:\n  - id: note\n    use: log\n    with: { message: "call {{ call.id }}", level: debug }\n';

/** chattr +i needs root and a file system with the flag (ext4, xfs, btrfs; not tmpfs). */
const CAN_CHATTR = (() => {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const probe = tempDir('aftercall-chaos-chattr-probe-');
  const file = join(probe.path, 'probe');
  writeFileSync(file, 'x');
  try {
    execFileSync('chattr', ['+i', file], { stdio: 'ignore' });
    execFileSync('chattr', ['-i', file], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    probe.cleanup();
  }
})();
if (!CAN_CHATTR) console.warn('\n!!! chattr +i is not available here (needs root on ext4/xfs/btrfs): the immutable-files scenario is SKIPPED\n');

const dir = tempDir('aftercall-chaos-immutable-');
const immutable: string[] = [];
let supervisor: ServiceSupervisor | undefined;
const setImmutable = (files: string[], on: boolean) => execFileSync('chattr', [on ? '+i' : '-i', ...files]);
afterAll(async () => {
  if (immutable.length) setImmutable(immutable, false);
  await supervisor?.kill9();
  dir.cleanup();
});

/** Starts the service on a fresh file and acknowledges `n` calls; returns what it needs. */
async function startWithCalls(name: string, firstId: number, n: number) {
  const root = join(dir.path, name);
  const mappings = join(root, 'mappings');
  mkdirSync(mappings, { recursive: true });
  writeFileSync(join(mappings, 'log.yaml'), LOG_ONLY);
  const sqlitePath = join(root, 'aftercall.db');
  supervisor = await ServiceSupervisor.create({ env: { SQLITE_PATH: sqlitePath, MAPPINGS_DIR: mappings } });
  const proc = await supervisor.start();
  const acked = new Set<number>();
  for (let id = firstId; id < firstId + n; id++) {
    const reply = await postJson(supervisor.hookUrl, chaosCall(id));
    expect(reply.status).toBe(202);
    acked.add(id);
  }
  const files = [sqlitePath, `${sqlitePath}-wal`, `${sqlitePath}-shm`];
  expect(files.filter((f) => existsSync(f))).toHaveLength(3);
  return { supervisor, proc, acked, sqlitePath, files };
}

const makeImmutable = (files: string[]) => {
  setImmutable(files, true);
  immutable.push(...files);
  // Write the mapped WAL index back, as the kernel does by itself within seconds: a later
  // write into its pages faults, and it is the fault on an immutable file that is SIGBUS.
  execFileSync('sync', [files.find((f) => f.endsWith('-shm'))!]);
};
const makeWritable = (files: string[]) => {
  setImmutable(files, false);
  immutable.length = 0;
};

/**
 * The files made immutable under a running service (after a full checkpoint or not), ten
 * deliveries tried, the files made writable again, and the service (restarted when it died)
 * must have everything: the invariant holds either way, the outcome is returned.
 */
async function immutableMidRun(name: string, firstId: number, which: 'all' | 'shm') {
  const { supervisor: service, proc, acked, sqlitePath, files } = await startWithCalls(name, firstId, 5);
  const made = which === 'all' ? files : [files[2]!];
  makeImmutable(made);
  const during: number[] = [];
  for (let id = firstId + 5; id < firstId + 15 && proc.alive(); id++) during.push((await postJson(service.hookUrl, chaosCall(id), 10_000)).status);
  // Died, or still answering 503 once the worker has touched the store too (it polls every second).
  const exit = await Promise.race([proc.exit, sleep(3_000).then(() => null)]);

  let restart = 'not needed';
  if (exit) {
    try {
      await service.start(30_000, true);
      restart = 'started';
    } catch (error) {
      restart = /readonly/i.test((error as Error).message) ? 'refused (SQLITE_READONLY)' : `refused: ${(error as Error).message.slice(0, 200)}`;
    }
  }
  makeWritable(made);
  if (exit) await service.start();
  const resent = await postJson(service.hookUrl, chaosCall(firstId));
  const after = await postJson(service.hookUrl, chaosCall(firstId + 5));
  await service.stop();
  const stored = readStore(sqlitePath).calls;
  const lost = [...acked].filter((id) => !stored.has(String(id)));
  printSummary(`SQLite files immutable mid-run (${name})`, {
    sent: acked.size + during.length + 2,
    acked: acked.size + during.filter((st) => st === 202).length + (after.status === 202 ? 1 : 0),
    processed: stored.size,
    duplicates: 0,
    lost: lost.length,
    crashes: service.crashes,
    extra: {
      'answers while immutable': during.join('/') || 'none',
      exit: exit ? String(exit.signal ?? exit.code) : 'alive',
      'restart while immutable': restart,
      'resend after chattr -i': resent.status,
      'new call after chattr -i': after.status,
    },
  });
  // Never a false 202; only 503 or no answer (the process died).
  expect(during.filter((st) => st !== 503 && st !== 0)).toEqual([]);
  // Alive and answering 503, or dead of SIGBUS: nothing else.
  if (exit) {
    expect(exit.signal).toBe('SIGBUS');
    expect(restart).toBe('refused (SQLITE_READONLY)');
  } else {
    expect(during).toEqual(during.map(() => 503));
  }
  expect(service.crashes).toBe(exit ? 1 : 0);
  expect(lost).toEqual([]);
  expect(resent.status).toBe(200);
  // A delivery left unanswered by the crash may still have committed (its WAL frames were
  // written, the WAL index update died): the resend is then a duplicate.
  expect(exit ? [200, 202] : [202]).toContain(after.status);
  return { exit };
}

describe('SQLite files made immutable mid-run', () => {
  it.runIf(CAN_CHATTR)('all three files: 503 or SIGBUS, never a false 202; writable again (restarted if it died), everything is there', async () => {
    await immutableMidRun('database, WAL and WAL index', 720_000, 'all');
  }, 90_000);

  it.runIf(CAN_CHATTR)('the WAL index (-shm) alone: SIGBUS at the next commit, no false 202; restarted once writable, everything is there', async () => {
    const { exit } = await immutableMidRun('WAL index only', 721_000, 'shm');
    expect(exit?.signal).toBe('SIGBUS');
  }, 90_000);
});
