// Bad input fuzzing against the real service in a child process: thousands of generated
// malformed, oversized, deeply nested, wrong-typed, wrong-encoding, prototype-pollution and
// wrong-content-type deliveries (fast-check), sent concurrently. Every answer must be a 4xx of
// the class the input belongs to, with a JSON body carrying an error `code`; the process never
// crashes or hangs (every request answered in time, /healthz after), its memory stays bounded,
// and a valid delivery afterwards is accepted and processed as usual.
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureNames, fixtureText } from '../support/fixtures.js';
import { tempDir } from '../support/temp-dir.js';
import { chaosCall } from './support/calls.js';
import { CHAOS_TOKEN, postJson, ServiceSupervisor } from './support/child-service.js';
import { chaosSeed, pick, pollUntil, printSummary } from './support/scale.js';
import { readStore } from './support/store-probe.js';

const PAYLOADS = pick({ short: 1_000, full: 10_000 });
const BATCH = 10;
const BODY_LIMIT = 128 * 1024;
const RSS_GROWTH_LIMIT_MB = 150;
/** A request unanswered this long hangs (answers take under a second even on two busy cores). */
const REQUEST_TIMEOUT_MS = 60_000;
/** A safety net against a hang only: the scenario is bounded by its number of payloads. */
const TEST_TIMEOUT_MS = pick({ short: 300_000, full: 1_800_000 });

const dir = tempDir('aftercall-chaos-fuzz-');
let supervisor: ServiceSupervisor | undefined;
const agent = new http.Agent({ keepAlive: true, maxSockets: BATCH });
afterAll(async () => {
  agent.destroy();
  await supervisor?.kill9();
  dir.cleanup();
});

// ---------------------------------------------------------------------------------------------
// Probes: one request each, with the statuses its class of bad input may get

interface Probe {
  kind: string;
  headers: Record<string, string>;
  body: Buffer;
  /** No Content-Length: the body is streamed in chunks (Transfer-Encoding: chunked). */
  chunked: boolean;
  badToken: boolean;
  expect: number[];
}

const JSON_TYPE = { 'content-type': 'application/json' };
const probe = (kind: string, body: Buffer | string, expectStatuses: number[], headers: Record<string, string> = JSON_TYPE, chunked = false): Probe => ({
  kind,
  headers,
  body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
  chunked,
  badToken: false,
  expect: expectStatuses,
});

const FIXTURES = fixtureNames().map((name) => fixtureText(name));
const fixtureArb = fc.constantFrom(...FIXTURES);
/** The autocalls fixture as text, with an insertion point inside a string value. */
const SALES = JSON.stringify(chaosCall(123_001, 'SUMMARY_HERE'), null, 2);

const parses = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

const malformedJson = fc.oneof(
  fc
    .tuple(fixtureArb, fc.double({ min: 0, max: 1, noNaN: true }), fc.string({ maxLength: 5 }))
    .map(([text, cut, tail]) => text.trim().slice(0, Math.max(1, Math.floor(text.trim().length * cut) - 1)) + tail)
    .filter((text) => !parses(text)) // the tail may complete the cut text again
    .map((text) => probe('malformed: truncated', text, [400])),
  fc.string({ unit: 'binary', maxLength: 300 }).map((text) => probe('malformed: random text', text, [400, 422])),
  fc.uint8Array({ maxLength: 2_000 }).map((bytes) => probe('malformed: random bytes', Buffer.from(bytes), [400, 422])),
  fc.constantFrom('', ' ', '{', '}', '{"id":}', "{'id': 1}", '{"id": 1,}', 'NaN', '{"id": 01}', '[1,]', '{"a" "b"}', '\u0000').map((text) =>
    probe('malformed: classic', text, [400, 422]),
  ),
  fc.jsonValue().filter((v) => typeof v !== 'object' || v === null || Array.isArray(v)).map((v) => probe('not an object', JSON.stringify(v), [422])),
);

const oversized = fc
  .record({
    size: fc.integer({ min: BODY_LIMIT + 1, max: BODY_LIMIT * 4 }),
    chunked: fc.boolean(),
    shape: fc.constantFrom('long string', 'long array', 'garbage'),
  })
  .map(({ size, chunked, shape }) => {
    const head = shape === 'long string' ? '{"id": 1, "status": "completed", "formatted_transcript": "' : shape === 'long array' ? '{"id": 1, "transcript": [' : '';
    const filler = shape === 'long array' ? '0,' : 'x';
    const body = Buffer.alloc(size, filler);
    body.write(head, 0);
    return probe(`oversized (${chunked ? 'chunked' : 'announced'})`, body, [413], JSON_TYPE, chunked);
  });

const deeplyNested = fc
  .record({
    depth: fc.integer({ min: 33, max: 10_000 }),
    shape: fc.constantFrom('array', 'object', 'mixed'),
    where: fc.constantFrom('top', 'extracted_variables', 'lead.variables', 'unknown key', 'transcript'),
  })
  .map(({ depth, shape, where }) => {
    const open = (i: number) => (shape === 'array' || (shape === 'mixed' && i % 2) ? '[' : '{"k":');
    const close = (i: number) => (shape === 'array' || (shape === 'mixed' && i % 2) ? ']' : '}');
    let nested = '';
    for (let i = 0; i < depth; i++) nested += open(i);
    nested += '1';
    for (let i = depth - 1; i >= 0; i--) nested += close(i);
    let text: string;
    if (where === 'top') text = nested;
    else if (where === 'extracted_variables') text = SALES.replace('"extracted_variables": {', `"extracted_variables": {"deep": ${nested},`);
    else if (where === 'lead.variables') text = SALES.replace('"variables": {', `"variables": {"deep": ${nested},`);
    else if (where === 'transcript') text = SALES.replace('"transcript": [', `"transcript": [${nested},`);
    else text = SALES.replace('{', `{"deep": ${nested},`);
    return probe(`nested ${depth} deep (${where})`, text, [400, 422]);
  });

const wrongStatus = fc.oneof(
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }),
  fc.constantFrom('done', 'COMPLETED', '', 'completed ', 'no_answer', 'Completed', '\u0000completed'),
);
/** Paths of the autocalls fixture whose values get a value of a wrong type too. */
const WRONG_TYPE_PATHS = ['id', 'duration', 'customer_phone', 'extracted_variables', 'transcript', 'lead', 'lead.campaign', 'created_at', 'transfers'];
const wrongTyped = fc
  .record({
    status: wrongStatus,
    path: fc.constantFrom(...WRONG_TYPE_PATHS),
    value: fc.anything({ maxDepth: 3, maxKeys: 4 }),
  })
  .map(({ status, path, value }) => {
    const call = chaosCall(123_002);
    call.status = status;
    const parts = path.split('.');
    let node = call as Record<string, unknown>;
    for (const p of parts.slice(0, -1)) node = node[p] as Record<string, unknown>;
    node[parts.at(-1)!] = value;
    return probe(`wrong type (status + ${path})`, JSON.stringify(call) ?? 'null', [422]);
  });

const INVALID_UTF8 = [[0xff], [0xfe], [0xc0, 0x80], [0x80], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc3]];
const wrongEncoding = fc.oneof(
  fc.constantFrom(...INVALID_UTF8).map((bytes) => {
    const [before, after] = SALES.split('SUMMARY_HERE') as [string, string];
    return probe(`invalid UTF-8 ${Buffer.from(bytes).toString('hex')}`, Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]), [400]);
  }),
  fc.record({ le: fc.boolean(), bom: fc.boolean() }).map(({ le, bom }) => {
    const utf16le = Buffer.from(SALES, 'utf16le');
    const body = le ? utf16le : Buffer.from(utf16le).swap16();
    const mark = Buffer.from(le ? [0xff, 0xfe] : [0xfe, 0xff]);
    return probe(`UTF-16${le ? 'LE' : 'BE'}${bom ? ' with BOM' : ''}`, bom ? Buffer.concat([mark, body]) : body, [400]);
  }),
  fc.constant(probe('latin-1 bytes', Buffer.from(SALES.replace('SUMMARY_HERE', 'Müller, café, ½'), 'latin1'), [400])),
  fc.constantFrom('iso-8859-1', 'utf-16', 'windows-1252', 'ascii', 'utf-7').map((charset) =>
    probe(`declared charset ${charset}`, SALES, [415], { 'content-type': `application/json; charset=${charset}` }),
  ),
  fc.constant(probe('gzip body', gzipSync(Buffer.from(SALES)), [400], { ...JSON_TYPE, 'content-encoding': 'gzip' })),
);

const RESERVED = ['__proto__', 'constructor', 'prototype'];
const CONTAINERS = ['', 'extracted_variables', 'input_variables', 'lead', 'lead.campaign', 'lead.variables', 'transcript.0', 'transfers.0'];
const PLACEHOLDER = '__chaos_reserved_key__';
const protoPollution = fc
  .record({
    key: fc.constantFrom(...RESERVED),
    where: fc.constantFrom(...CONTAINERS),
    value: fc.constantFrom<unknown>({ polluted: true }, { prototype: { polluted: true } }, { toString: 'x' }, 'x', 1, null, []),
    envelope: fc.boolean(),
  })
  .map(({ key, where, value, envelope }) => {
    const call = chaosCall(123_003);
    let node = call as Record<string, unknown>;
    for (const p of where.split('.').filter(Boolean)) node = node[p] as Record<string, unknown>;
    node[PLACEHOLDER] = value;
    const body = envelope ? { event: 'call.completed', data: call } : call;
    // JSON.parse keeps "__proto__" as an own key; a JS object literal would not, hence the swap.
    const text = JSON.stringify(body).replace(`"${PLACEHOLDER}"`, JSON.stringify(key));
    return probe(`reserved key ${key} at ${envelope ? 'data.' : ''}${where || '(top)'}`, text, [422]);
  });

const wrongContentType = fc
  .record({
    type: fc.constantFrom<string | null>(
      null,
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=xyz',
      'application/xml',
      'text/json',
      'application/jsonp',
      'json',
      '*/*',
      'application/json, text/plain',
      'application/octet-stream',
    ),
    body: fixtureArb,
  })
  .map(({ type, body }) => probe(`content type ${type ?? '(none)'}`, body, [415], type === null ? {} : { 'content-type': type }));

const anyProbe = fc
  .tuple(
    fc.oneof(malformedJson, oversized, deeplyNested, wrongTyped, wrongEncoding, protoPollution, wrongContentType),
    fc.integer({ min: 0, max: 19 }),
  )
  .map(([p, dice]) => (dice === 0 ? { ...p, kind: `${p.kind}, bad token`, badToken: true, expect: [401] } : p));

// ---------------------------------------------------------------------------------------------
// A raw HTTP client: exact headers and bytes, streaming with backpressure, and it stops writing
// as soon as the answer arrives (a 413 comes before the body is read).

interface Answer {
  status: number;
  contentType: string;
  body: string;
  error?: string;
  ms: number;
}

/** Resolves on the first of `events` (or after `ms`), removing its listeners either way. */
function firstOf(emitter: http.ClientRequest, events: string[], ms: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const e of events) emitter.off(e, done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const e of events) emitter.once(e, done);
  });
}

/**
 * Sends one probe. An announced body over the limit is sent like a client that waits briefly
 * for an early answer after the headers (the 413 comes before any body byte is read); a
 * streamed one is written eagerly, in chunks, until the answer arrives.
 */
function send(port: number, p: Probe): Promise<Answer> {
  const started = Date.now();
  const path = `/webhooks/post-call/${p.badToken ? 'not-the-token-0123456789' : CHAOS_TOKEN}`;
  return new Promise<Answer>((resolve) => {
    let settled = false;
    const finish = (answer: Omit<Answer, 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...answer, ms: Date.now() - started });
    };
    const headers: Record<string, string | number> = { ...p.headers };
    if (!p.chunked) headers['content-length'] = p.body.length;
    // A body over the limit is abandoned once answered: its connection is never reused. Any other
    // body is sent whole even when the answer comes first, so the kept-alive connection stays in step.
    const oversized = p.body.length > BODY_LIMIT;
    if (oversized) headers.connection = 'close';
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path, headers, agent: oversized ? false : agent });
    const timer = setTimeout(() => {
      req.destroy();
      finish({ status: 0, contentType: '', body: '', error: 'no answer (hang)' });
    }, REQUEST_TIMEOUT_MS);
    let answered = false;
    req.on('response', (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        finish({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString('utf8') }),
      );
      res.on('error', (error) => finish({ status: res.statusCode ?? 0, contentType: '', body: '', error: error.message }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => {
      if (!answered) finish({ status: 0, contentType: '', body: '', error: error.code ?? error.message });
    });
    void (async () => {
      if (oversized && !p.chunked) {
        req.flushHeaders();
        await firstOf(req, ['response', 'close'], 500);
      }
      const step = 16 * 1024;
      for (let offset = 0; offset < p.body.length && !(oversized && answered) && !req.destroyed; offset += step) {
        if (!req.write(p.body.subarray(offset, offset + step))) await firstOf(req, ['drain', 'response', 'close'], REQUEST_TIMEOUT_MS);
      }
      if (!req.destroyed) req.end();
    })();
  });
}

const CLASSES: Array<[string, RegExp]> = [
  ['malformed', /^(malformed|not an object)/],
  ['oversized', /^(oversized|8 MB|100k deep)/],
  ['nested', /^(nested|deep just under)/],
  ['wrong-typed', /^wrong type/],
  ['wrong-encoding', /^(invalid UTF-8|UTF-16|latin-1|declared charset|gzip)/],
  ['prototype-keys', /^reserved key/],
  ['content-type', /^content type/],
];
const classOf = (p: Probe) => (p.badToken ? 'bad-token' : (CLASSES.find(([, re]) => re.test(p.kind))?.[0] ?? 'other'));

function verdict(p: Probe, a: Answer): string | null {
  if (a.error) return `no answer: ${a.error}`;
  if (!p.expect.includes(a.status)) return `status ${a.status}, expected ${p.expect.join('/')}: ${a.body.slice(0, 200)}`;
  if (!/^application\/json\b/.test(a.contentType)) return `content-type "${a.contentType}"`;
  let body: unknown;
  try {
    body = JSON.parse(a.body);
  } catch {
    return `body is not JSON: ${a.body.slice(0, 200)}`;
  }
  if (typeof (body as { code?: unknown }).code !== 'string') return `JSON body without a code: ${a.body.slice(0, 200)}`;
  return null;
}

describe('chaos: bad input fuzzing', () => {
  it(
    `${PAYLOADS} generated bad deliveries: each gets its 4xx with a JSON body, no crash, no hang, bounded memory`,
    async () => {
      const seed = chaosSeed();
      const mappings = join(dir.path, 'mappings');
      mkdirSync(mappings);
      writeFileSync(join(mappings, 'log.yaml'), 'name: log-all\nsteps:\n  - id: note\n    use: log\n    with: { message: "call {{ call.id }}", level: debug }\n');
      const sqlitePath = join(dir.path, 'aftercall.db');
      supervisor = await ServiceSupervisor.create({
        env: { SQLITE_PATH: sqlitePath, MAPPINGS_DIR: mappings, BODY_LIMIT_BYTES: String(BODY_LIMIT), WORKER_POLL_INTERVAL_MS: '50' },
      });
      const service = supervisor;
      const proc = await service.start();
      const port = service.port;

      const statuses: Record<string, number> = {};
      const classes: Record<string, number> = {};
      const failures: string[] = [];
      let sent = 0;
      let slowest = 0;
      const run = async (batch: Probe[]) => {
        const answers = await Promise.all(batch.map((p) => send(port, p)));
        batch.forEach((p, i) => {
          const a = answers[i]!;
          sent++;
          classes[classOf(p)] = (classes[classOf(p)] ?? 0) + 1;
          statuses[a.status] = (statuses[a.status] ?? 0) + 1;
          slowest = Math.max(slowest, a.ms);
          const problem = verdict(p, a);
          if (problem) failures.push(`${p.kind}: ${problem} (body starts ${JSON.stringify(p.body.subarray(0, 80).toString('latin1'))})`);
        });
      };

      // Warm up (JIT, SQLite pages, connection pool), then take the memory baseline.
      await run(fc.sample(anyProbe, { numRuns: 50, seed: seed + 1 }));
      const baselineMb = proc.rssMb();
      let peakMb = baselineMb;

      // A few deterministic extremes first: multi-megabyte bodies, announced and streamed.
      const huge = Buffer.alloc(8 * 1024 * 1024, 'x');
      huge.write('{"id": 1, "status": "completed", "formatted_transcript": "', 0);
      await run([
        probe('8 MB announced', huge, [413]),
        probe('8 MB chunked', huge, [413], JSON_TYPE, true),
        probe('100k deep over the limit', '['.repeat(100_000) + ']'.repeat(100_000), [413]),
        probe('deep just under the limit', '['.repeat(BODY_LIMIT / 2 - 1) + ']'.repeat(BODY_LIMIT / 2 - 1), [400, 422]),
      ]);

      const failuresBefore = () => failures.length;
      await fc.assert(
        fc.asyncProperty(fc.array(anyProbe, { minLength: BATCH, maxLength: BATCH }), async (batch) => {
          const before = failuresBefore();
          await run(batch);
          peakMb = Math.max(peakMb, proc.rssMb());
          if (!proc.alive()) throw new Error('the service process died');
          if (failures.length > before) throw new Error(failures.slice(before).join('\n'));
        }),
        { numRuns: Math.ceil(PAYLOADS / BATCH), seed, endOnFailure: true, verbose: 0 },
      ).catch((error: unknown) => {
        // fast-check's report holds the whole (possibly megabyte) counterexample; keep the gist.
        throw new Error(`fuzzing found a bad answer (CHAOS_SEED=${seed}):\n${failures.slice(0, 10).join('\n') || String(error).slice(0, 2_000)}`);
      });

      // Still alive, still healthy, still doing its job.
      const health = await fetch(`${service.url}/healthz`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      expect(health.status).toBe(200);
      const valid = await postJson(service.hookUrl, chaosCall(123_999, 'after the fuzzing'));
      expect(valid.status).toBe(202);
      const processed = await pollUntil(
        () => readStore(sqlitePath).runs.filter((r) => r.callKey === '123999'),
        (runs) => runs[0]?.status === 'succeeded',
        60_000,
      );
      const finalMb = proc.rssMb();
      const store = readStore(sqlitePath);
      await service.stop();

      printSummary('bad input fuzzing', {
        sent,
        acked: 0,
        processed: processed.filter((r) => r.status === 'succeeded').length,
        duplicates: 0,
        lost: failures.length,
        crashes: service.crashes,
        extra: {
          seed,
          classes: Object.entries(classes)
            .map(([c, n]) => `${c}:${n}`)
            .join(','),
          statuses: Object.entries(statuses)
            .map(([s, n]) => `${s}:${n}`)
            .join(','),
          'bad answers': failures.length,
          quarantined: store.receipts.quarantined ?? 0,
          'slowest ms': slowest,
          'rss baseline MB': baselineMb.toFixed(0),
          'rss peak MB': peakMb.toFixed(0),
          'rss final MB': finalMb.toFixed(0),
        },
      });
      expect(failures).toEqual([]);
      expect(processed.map((r) => r.status), 'the valid delivery afterwards was processed').toEqual(['succeeded']);
      expect(sent).toBeGreaterThanOrEqual(PAYLOADS);
      expect(statuses['202'] ?? 0, 'no bad input was accepted').toBe(0);
      expect(peakMb - baselineMb, 'memory stays bounded').toBeLessThan(RSS_GROWTH_LIMIT_MB);
      expect(service.crashes).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});
