// Summarises a V8 .cpuprofile (e.g. from BENCH_CPU_PROF=<dir> npm run bench): a per-second
// timeline, then self time by package/file and by function, and inclusive time by function,
// optionally for a window of seconds since the profile started.
//
//   npx tsx bench/profile-summary.ts <file.cpuprofile> [fromSec toSec] [--top N]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const TIMELINE = ['(idle)', 'receive', 'flush', 'executeRun', 'loggingMiddleware', '(garbage collector)'];

function where(url: string): string {
  if (!url) return '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/(src|bench|test)\/(.*)$/.exec(url);
  return own ? `${own[1]}/${own[2]}` : url;
}

function main(): void {
  const { values, positionals } = parseArgs({ options: { top: { type: 'string' } }, allowPositionals: true });
  const [file, from, to] = positionals;
  if (!file) {
    console.error('usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [fromSec toSec] [--top N]');
    process.exit(1);
  }
  const top = Number(values.top ?? 30);
  const fromUs = from === undefined ? -Infinity : Number(from) * 1e6;
  const toUs = to === undefined ? Infinity : Number(to) * 1e6;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n] as const));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const byWhere = new Map<string, number>();
  const timeline: Array<Record<string, number>> = [];
  const add = (map: Map<string, number>, k: string, v: number) => map.set(k, (map.get(k) ?? 0) + v);
  let total = 0;
  let at = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    const weight = profile.timeDeltas[i + 1] ?? 0;
    const node = byId.get(profile.samples[i]!)!;
    const stack = new Set<string>();
    const names = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      stack.add(key(n));
      names.add(n.callFrame.functionName);
    }
    const second = Math.floor(at / 1e6);
    const bucket = (timeline[second] ??= Object.fromEntries(TIMELINE.map((t) => [t, 0])));
    for (const t of TIMELINE) if (names.has(t)) bucket[t]! += weight;
    if (at < fromUs || at > toUs) continue;
    total += weight;
    add(self, key(node), weight);
    const name = node.callFrame.functionName;
    add(byWhere, name === '(idle)' || name === '(garbage collector)' || name === '(program)' ? name : where(node.callFrame.url), weight);
    for (const k of stack) add(inclusive, k, weight);
  }

  console.log(`profile: ${((profile.endTime - profile.startTime) / 1e6).toFixed(2)} s; window: ${(total / 1e6).toFixed(2)} s`);
  console.log('\nms per second of profile (inclusive):');
  console.log(['sec', ...TIMELINE.map((t) => t.slice(0, 12))].map((c) => c.padStart(13)).join(''));
  timeline.forEach((b, s) => console.log([String(s), ...TIMELINE.map((t) => ((b[t] ?? 0) / 1e3).toFixed(0))].map((c) => c.padStart(13)).join('')));
  const show = (title: string, map: Map<string, number>, n: number) => {
    console.log(`\n${title}:`);
    for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) {
      console.log(`${(v / 1e3).toFixed(0).padStart(8)} ms ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
    }
  };
  show('self time by package / file', byWhere, top);
  show('self time by function', self, top);
  show('inclusive time by function', inclusive, top);
}

main();
