// Slowloris: strangers open connections and send their requests a byte at a time, headers from
// one address and bodies (refused: no valid token) from another, reconnecting whenever the
// service closes one, while the real sender delivers from a third address. The service runs
// under a file descriptor limit below the attackers' connections (prlimit --nofile), as a
// service would with 1,024 descriptors and 1,100 slow clients: without connection caps and
// short header and request deadlines every descriptor is taken and every delivery fails.
// Bound by counts: the attack lasts as long as the deliveries take, each slot reconnects a
// bounded number of times, and every slow connection must end (the service closes it).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.js';
import { chaosCall } from './support/calls.js';
import { CHAOS_TOKEN, postJson, ServiceSupervisor } from './support/child-service.js';
import { pick, printSummary, sleep } from './support/scale.js';

const HEADER_DRIPPERS = pick({ short: 300, full: 600 });
const BODY_DRIPPERS = pick({ short: 100, full: 300 });
const DELIVERIES = pick({ short: 30, full: 200 });
/** Times each attacking slot opens a connection again after the service closed it. */
const RECONNECTS = pick({ short: 4, full: 10 });
const PER_CLIENT = 40;
/** The service's descriptor limit: less than the attackers' connections. */
const FD_LIMIT = 320;
const DRIP_EVERY_MS = 300;
const LOG_ONLY = 'name: log-all\nsteps:\n  - id: note\n    use: log\n    with: { message: "call {{ call.id }}", level: debug }\n';

const dir = tempDir('aftercall-chaos-slowloris-');
let supervisor: ServiceSupervisor | undefined;
afterAll(async () => {
  await supervisor?.kill9();
  dir.cleanup();
});

const openFds = (pid: number) => {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
};

interface Attack {
  opened: number;
  /** Connections the service closed (a cap at once, or a deadline), by what it answered. */
  closed: { answered408: number; unanswered: number };
  open(): number;
  /** Stops reconnecting and dripping; resolves once every connection has ended. */
  stop(): Promise<void>;
}

/**
 * `slots` connections from `localAddress`, each writing `head` then one byte of `drip` every
 * DRIP_EVERY_MS, and opening a new one when the service closes it (up to RECONNECTS times).
 */
function attack(port: number, localAddress: string, slots: number, head: string, drip: string): Attack {
  let stopped = false;
  const sockets = new Set<net.Socket>();
  const state: Attack = {
    opened: 0,
    closed: { answered408: 0, unanswered: 0 },
    open: () => sockets.size,
    async stop() {
      stopped = true;
      // The service must end what is left by itself (its header and request deadlines).
      while (sockets.size > 0) await sleep(100);
    },
  };
  const connect = (left: number) => {
    state.opened++;
    const socket = net.connect({ port, host: '127.0.0.1', localAddress });
    sockets.add(socket);
    let answer = '';
    const timer = setInterval(() => {
      if (!stopped && socket.writable) socket.write(drip);
    }, DRIP_EVERY_MS);
    socket.on('connect', () => socket.write(head));
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearInterval(timer);
      sockets.delete(socket);
      if (answer.startsWith('HTTP/1.1 408')) state.closed.answered408++;
      else state.closed.unanswered++;
      if (!stopped && left > 0) setTimeout(() => connect(left - 1), 50);
    });
  };
  for (let i = 0; i < slots; i++) connect(RECONNECTS);
  return state;
}

describe('slow clients (slowloris)', () => {
  it('cannot lock the sender out: caps per client and in all, header and request deadlines', async () => {
    const mappings = join(dir.path, 'mappings');
    mkdirSync(mappings, { recursive: true });
    writeFileSync(join(mappings, 'log.yaml'), LOG_ONLY);
    supervisor = await ServiceSupervisor.create({
      env: {
        SQLITE_PATH: join(dir.path, 'aftercall.db'),
        MAPPINGS_DIR: mappings,
        MAX_CONNECTIONS_PER_CLIENT: String(PER_CLIENT),
        MAX_CONNECTIONS: String(FD_LIMIT - 100),
        HEADERS_TIMEOUT_MS: '2000',
        REQUEST_TIMEOUT_MS: '4000',
      },
    });
    const proc = await supervisor.start();
    execFileSync('prlimit', ['--pid', String(proc.pid), `--nofile=${FD_LIMIT}:${FD_LIMIT}`]);
    const port = supervisor.port;

    const headers = attack(port, '127.0.0.2', HEADER_DRIPPERS, `POST /webhooks/post-call/${CHAOS_TOKEN} HTTP/1.1\r\nHost: x\r\n`, 'x');
    const bodies = attack(
      port,
      '127.0.0.3',
      BODY_DRIPPERS,
      'POST /webhooks/post-call/not-the-token-0123456789 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n',
      ' ',
    );
    // Let the first wave in (each slot has connected once) before the sender starts.
    while (headers.opened < HEADER_DRIPPERS || bodies.opened < BODY_DRIPPERS) await sleep(50);
    await sleep(500);

    const statuses: number[] = [];
    const openDuring: number[] = [];
    let maxFds = openFds(proc.pid);
    for (let i = 0; i < DELIVERIES; i++) {
      openDuring.push(headers.open() + bodies.open());
      const reply = await postJson(supervisor.hookUrl, chaosCall(700_000 + i), 10_000);
      statuses.push(reply.status);
      maxFds = Math.max(maxFds, openFds(proc.pid));
    }
    await Promise.all([headers.stop(), bodies.stop()]);
    const fdsAfter = openFds(proc.pid);

    const succeeded = statuses.filter((s) => s === 202).length;
    printSummary('slowloris', {
      sent: DELIVERIES,
      acked: succeeded,
      processed: succeeded,
      duplicates: 0,
      lost: 0,
      crashes: supervisor.crashes,
      extra: {
        'slow connections opened': headers.opened + bodies.opened,
        'open at each delivery (min-max)': `${Math.min(...openDuring)}-${Math.max(...openDuring)}`,
        'closed with 408': headers.closed.answered408 + bodies.closed.answered408,
        'closed unanswered (caps)': headers.closed.unanswered + bodies.closed.unanswered,
        '5xx': statuses.filter((s) => s >= 500).length,
        'no answer': statuses.filter((s) => s === 0).length,
        'service fds max': maxFds,
        'service fds after': fdsAfter,
        'fd limit': FD_LIMIT,
      },
    });
    expect(statuses).toEqual(statuses.map(() => 202));
    expect(supervisor.crashes).toBe(0);
    // While the attack was on, it held connections (beyond the caps, the rest were closed).
    expect(Math.max(...openDuring)).toBeGreaterThan(0);
    expect(maxFds).toBeLessThan(FD_LIMIT);
    // The header drippers the caps let in end at the header deadline with a JSON 408 (the
    // refused bodies end at the request deadline: stop() above returned only once the service
    // had closed every connection).
    expect(headers.closed.answered408).toBeGreaterThanOrEqual(PER_CLIENT);
    // Nothing of the attack is left open in the service.
    expect(fdsAfter).toBeLessThan(60);
  }, 180_000);
});
