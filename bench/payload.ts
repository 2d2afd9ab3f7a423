// The benchmark body: a fixture (by default the autocalls.ai seed, test/fixtures/seed-001-autocalls.json)
// with its transcript padded by more turns until the JSON is about TARGET bytes (0: as it is).
// The call id is cut out of the serialized text, so every request gets a unique id by string
// concatenation alone.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES = join(import.meta.dirname, '..', 'test', 'fixtures');
export const FIXTURE = join(FIXTURES, 'seed-001-autocalls.json');

interface Turn {
  text: string;
  type: string;
  sender: 'bot' | 'human';
  timestamp: number;
}

const LINES: ReadonlyArray<readonly [Turn['sender'], string]> = [
  ['bot', 'We added a shared calendar, call summaries and an export to your CRM.'],
  ['human', 'How long does it take to set up for a team of twelve people?'],
  ['bot', 'Most teams are live within a day; we help you import your contacts.'],
  ['human', 'And what happens to the recordings after the trial ends?'],
  ['bot', 'They stay in your account for ninety days unless you delete them earlier.'],
  ['human', 'Okay. Could you send me the pricing for the Pro Plan by email?'],
];

/** A marker id, replaced per request; it must not occur anywhere else in the body. */
const MARKER_ID = 424_242_424;

export interface BenchPayload {
  /** Body text before the call id. */
  head: string;
  /** Body text after the call id. */
  tail: string;
  /** Size of a body with a 7-digit id. */
  bytes: number;
  turns: number;
  /** The body for one call id. */
  body(id: number): string;
}

export function buildPayload(targetBytes = 8 * 1024, fixture = FIXTURE): BenchPayload {
  const seed = JSON.parse(readFileSync(fixture, 'utf8')) as Record<string, unknown> & {
    transcript: Turn[];
    formatted_transcript: string;
  };
  const transcript = [...seed.transcript];
  let formatted = seed.formatted_transcript;
  let clock = transcript.at(-1)?.timestamp ?? 1_756_812_525;
  const render = () => JSON.stringify({ ...seed, id: MARKER_ID, transcript, formatted_transcript: formatted });
  for (let i = 0; render().length < targetBytes; i++) {
    const [sender, text] = LINES[i % LINES.length]!;
    clock += 3.25;
    transcript.push({ text, type: 'transcript', sender, timestamp: Math.round(clock * 1e6) / 1e6 });
    formatted += `\n${sender === 'bot' ? 'AI' : 'Customer'}: ${text}`;
  }
  const text = render();
  const marker = `"id":${MARKER_ID},`;
  const at = text.indexOf(marker);
  if (at < 0 || text.indexOf(String(MARKER_ID), at + marker.length) >= 0) throw new Error('payload: call id marker is not unique');
  const head = text.slice(0, at + '"id":'.length);
  const tail = text.slice(at + marker.length - 1);
  const body = (id: number) => head + id + tail;
  return { head, tail, bytes: Buffer.byteLength(body(1_000_000)), turns: transcript.length, body };
}

/**
 * Another platform's body beside the classic one: Retell's call_analyzed fixture
 * (test/fixtures/platforms/retell/call-analyzed.json), its call id `call_bench_<id>`.
 */
export function buildRetellPayload(): BenchPayload {
  const seed = JSON.parse(readFileSync(join(FIXTURES, 'platforms', 'retell', 'call-analyzed.json'), 'utf8')) as { call: Record<string, unknown> };
  const marker = `call_bench_${MARKER_ID}`;
  const text = JSON.stringify({ ...seed, call: { ...seed.call, call_id: marker } });
  const at = text.indexOf(marker);
  if (at < 0 || text.indexOf(marker, at + 1) >= 0) throw new Error('payload: Retell call id marker is not unique');
  const head = text.slice(0, at + 'call_bench_'.length);
  const tail = text.slice(at + marker.length);
  const body = (id: number) => head + id + tail;
  return { head, tail, bytes: Buffer.byteLength(body(1_000_000)), turns: (seed.call.transcript_object as unknown[]).length, body };
}
