// `npm run bench`: aftercall's performance figures, each as a ratio against a baseline measured
// in the same run (the machine may be shared and noisy: every round also reports the CPU used
// by everything else), with a pass/fail per target and one markdown summary table:
//   1. durable ingest on SQLite and PostgreSQL vs a bare Express endpoint        (ingest.ts)
//      (with 8 KB and, SQLite only, 100 KB bodies; disk bytes written per delivery)
//   2. mapping evaluation vs zod validation alone, in process                    (mapping-eval.ts)
//   3. end to end on SQLite with the HubSpot + Twilio example and stub vendors   (e2e.ts)
//   4. ack p99 at a fixed 500 req/s, RSS at idle and under load                  (e2e.ts)
//   5. ingest on a file holding 10k vs 100k stored calls (1M with --large)       (volume.ts)
//   6. inbound-call answer p99: cached / uncached CRM lookup, a hanging lookup    (inbound.ts)
// Servers run in child processes on 127.0.0.1 (bench/servers), loaded from this process.
//
//   npm run bench -- [--duration 5] [--rounds 3] [--connections 32] [--warmup 2] [--drain-timeout 120]
//                    [--rate 500] [--large] [--only ingest,mapping,e2e,volume]
//   BENCH_QUICK=1 npm run bench          a smoke run of about a minute (1 round of 2 s, small files)
//   BENCH_LARGE=1                        same as --large: 10k vs 1M stored calls (minutes, ~17 GB)
//   BENCH_DATABASE_URL / TEST_DATABASE_URL   PostgreSQL server (default postgres://postgres@127.0.0.1:5432/test)
//   BENCH_CPU_PROF=<dir> npm run bench   also write V8 CPU profiles of the aftercall processes
//   BENCH_LOG_LEVEL=<level>              LOG_LEVEL of the aftercall processes (default warn)
//   WORKER_CONCURRENCY, WORKER_POLL_INTERVAL_MS, LEASE_MS ... are passed on to the aftercall processes
//
// Exit code: 0 when the run completed (targets missed or not: it is a report); 1 when a server
// failed, a reply was not 202, a request errored, the worker did not drain or a run died;
// 130 on Ctrl-C.
import { mkdirSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ServerProcess } from './child.js';
import { Bench, Failed, Interrupted, SECTIONS, SERVER_SCRIPTS, startNodeFlags, type Section, type Settings } from './context.js';
import { e2eDetail, e2eFigures, runE2e, type E2eOutcome } from './e2e.js';
import { inboundDetail, inboundFigures, runInbound, type InboundOutcome } from './inbound.js';
import { ingestDetail, ingestFigures } from './ingest-report.js';
import { runIngest, type IngestOutcome } from './ingest.js';
import { mappingDetail, mappingFigures, runMappingEval, type MappingOutcome } from './mapping-eval.js';
import { buildPayload, buildRetellPayload } from './payload.js';
import { summaryTable, type Figure } from './report.js';
import { runVolume, volumeDetail, volumeFigures, type VolumeOutcome } from './volume.js';

const USAGE = `usage: npm run bench -- [--duration SEC] [--rounds N] [--connections N] [--warmup SEC] [--drain-timeout SEC]
                        [--rate REQ_PER_SEC] [--large] [--only ${SECTIONS.join(',')}]
  defaults: 3 rounds of 5 s per server, 32 connections, 2 s warm-up, 500 req/s, 10k vs 100k stored calls
  BENCH_QUICK=1: 1 round of 2 s, 1 s warm-up, 2k vs 20k stored calls (about a minute)
  --large or BENCH_LARGE=1: 10k vs 1M stored calls (the fill takes minutes and ~17 GB of disk)`;

const truthy = (value: string | undefined) => /^(1|true|yes)$/i.test(value ?? '');

function readSettings(): Settings {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string' },
      warmup: { type: 'string' },
      'drain-timeout': { type: 'string' },
      rate: { type: 'string' },
      large: { type: 'boolean' },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = truthy(process.env.BENCH_QUICK);
  const large = values.large === true || truthy(process.env.BENCH_LARGE);
  const num = (name: string, given: string | undefined, fallback: number, min: number, max: number, integer = false) => {
    if (given === undefined) return fallback;
    const value = Number(given);
    if (!Number.isFinite(value) || value < min || value > max || (integer && !Number.isInteger(value))) {
      throw new Error(`--${name} must be ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}\n${USAGE}`);
    }
    return value;
  };
  const sections = (values.only ?? SECTIONS.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = sections.filter((s) => !SECTIONS.includes(s as Section));
  if (unknown.length > 0 || sections.length === 0) throw new Error(`--only takes ${SECTIONS.join(', ')}; got ${values.only}\n${USAGE}`);
  return {
    durationSec: num('duration', values.duration, quick ? 2 : 5, 0.5, 600),
    rounds: num('rounds', values.rounds, quick ? 1 : 3, 1, 50, true),
    connections: num('connections', values.connections, 32, 1, 1024, true),
    warmupSec: num('warmup', values.warmup, quick ? 1 : 2, 0, 60),
    drainTimeoutSec: num('drain-timeout', values['drain-timeout'], 120, 1, 3600),
    rate: num('rate', values.rate, 500, 1, 100_000, true),
    volume: large ? [10_000, 1_000_000] : quick ? [2_000, 20_000] : [10_000, 100_000],
    large,
    microRoundMs: quick ? 300 : 1_000,
    microRounds: quick ? 3 : 5,
    sections: SECTIONS.filter((s) => sections.includes(s)),
    quick,
  };
}

interface Outcomes {
  ingest?: IngestOutcome;
  mapping?: MappingOutcome;
  e2e?: E2eOutcome;
  volume?: VolumeOutcome;
  inbound?: InboundOutcome;
}

async function main(): Promise<number> {
  let settings: Settings;
  try {
    settings = readSettings();
  } catch (error) {
    console.error(`bench: ${(error as Error).message}`);
    if (!(error as Error).message.includes('usage:')) console.error(USAGE);
    return 1;
  }
  const loadBefore = loadavg();
  const startedAt = Date.now();
  const bench = new Bench(settings);
  process.on('SIGINT', (s) => bench.onSignal(s));
  process.on('SIGTERM', (s) => bench.onSignal(s));
  const outcomes: Outcomes = {};
  const profileDir = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : null;
  if (profileDir) mkdirSync(profileDir, { recursive: true });

  try {
    const payload = buildPayload(8 * 1024);
    // A long call: its transcript makes most of the ~100 KB.
    const large = buildPayload(100 * 1000);
    let nextBareId = 1_000_000;
    const wants = (s: Section) => settings.sections.includes(s);

    // In process first, while nothing else of the bench runs.
    if (wants('mapping')) outcomes.mapping = await runMappingEval(bench);

    let bare: ServerProcess | undefined;
    if (wants('ingest') || wants('e2e')) {
      console.error('bench: starting the bare endpoint');
      bare = await bench.start({ name: 'bare', script: SERVER_SCRIPTS.bare, env: bench.baseEnv });
      bench.checkpoint();
    }
    if (wants('ingest')) outcomes.ingest = await runIngest(bench, bare!, payload, large, buildRetellPayload(), () => nextBareId++);
    if (wants('e2e')) outcomes.e2e = await runE2e(bench, bare!);
    if (bare) await bench.stop(bare);
    if (wants('volume')) outcomes.volume = await runVolume(bench, payload);
    if (wants('inbound')) outcomes.inbound = await runInbound(bench);

    console.log(report(settings, payload.bytes, payload.turns, outcomes, bench, loadBefore, (Date.now() - startedAt) / 1000));
    if (bench.failures.length > 0) {
      console.log(`\n**Bench FAILED:** ${bench.failures.join('; ')}`);
      return 1;
    }
    return 0;
  } catch (error) {
    if (bench.interrupted || error instanceof Interrupted) return 130;
    if (!(error instanceof Failed) || bench.failures.length === 0) console.error(`bench: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    return 1;
  } finally {
    await bench.close();
    if (profileDir) console.error(`bench: CPU profiles of the aftercall processes in ${profileDir}`);
  }
}

function report(
  settings: Settings,
  bodyBytes: number,
  turns: number,
  outcomes: Outcomes,
  bench: Bench,
  loadBefore: number[],
  seconds: number,
): string {
  const cpu = cpus()[0]?.model?.trim() ?? 'unknown';
  const figures: Figure[] = [
    ...(outcomes.ingest ? ingestFigures(outcomes.ingest, settings.connections) : []),
    ...(outcomes.mapping ? mappingFigures(outcomes.mapping) : []),
    ...(outcomes.e2e ? e2eFigures(outcomes.e2e) : []),
    ...(outcomes.volume ? volumeFigures(outcomes.volume, settings.connections) : []),
    ...(outcomes.inbound ? inboundFigures(outcomes.inbound) : []),
  ];
  const out: string[] = [];
  out.push('## aftercall benchmark', '');
  out.push(
    `- machine: nproc ${availableParallelism()} (${cpu}), node ${process.version}, ${process.platform}/${process.arch}, ` +
      `load average before the run ${loadBefore.map((l) => l.toFixed(2)).join(' / ')}, after ${loadavg().map((l) => l.toFixed(2)).join(' / ')}; ` +
      `the run took ${Math.round(seconds)} s`,
  );
  out.push(
    `- load: ${settings.rounds} round${settings.rounds === 1 ? '' : 's'} × ${settings.durationSec} s per server and load, alternating with the baseline, ` +
      `${settings.connections} connections, warm-up ${settings.warmupSec} s${settings.quick ? ' (BENCH_QUICK)' : ''}; ` +
      `aftercall LOG_LEVEL=${bench.logLevel}, rate limit off; all traffic on 127.0.0.1`,
  );
  out.push(
    bench.underTsx
      ? '- servers: aftercall and bare under tsx (BENCH_TSX=1)'
      : `- servers: aftercall and bare transpiled to JavaScript in the temp dir and run by plain node, as \`npm start\` runs dist/ (aftercall with its flags: ${startNodeFlags().join(' ') || 'none'}; the stub vendors run under tsx)`,
  );
  out.push(`- ingest body: ${bodyBytes} bytes (seed-001-autocalls, ${turns} transcript turns), unique call id per request`);
  out.push('- ratio: aftercall / baseline, both measured in this run; figures per round, with the CPU used by everything else ("other CPU"), below', '');
  out.push(summaryTable(figures));
  for (const note of bench.notes) out.push('', `- ${note}`);
  if (outcomes.ingest) out.push('', ingestDetail(outcomes.ingest));
  if (outcomes.mapping) out.push('', mappingDetail(outcomes.mapping));
  if (outcomes.e2e) out.push('', e2eDetail(outcomes.e2e));
  if (outcomes.volume) out.push('', volumeDetail(outcomes.volume));
  if (outcomes.inbound) out.push('', inboundDetail(outcomes.inbound));
  return out.join('\n');
}

process.exitCode = await main();
// Nothing else should keep the process alive; make sure a stray handle cannot.
setTimeout(() => process.exit(), 1_000).unref();
