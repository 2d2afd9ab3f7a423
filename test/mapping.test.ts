// Mapping files: typed vs interpolated templates, conditions, matching, and load-time errors
// that name file, line, column and key.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createConnectors, stepKinds } from '../src/connectors/index.js';
import { compileMappingSource, loadMappingFiles, MappingLoadError, formatProblem } from '../src/mapping/load-mappings.js';
import { matchMappings } from '../src/ingest/match.js';
import { buildStepContext } from '../src/mapping/step-context.js';
import { compileCondition, compileTemplate } from '../src/mapping/template.js';
import { parsePayload } from '../src/payload/parse-payload.js';
import type { Call } from '../src/payload/call.js';
import { fixture } from './support/fixtures.js';
import { tempDir } from './support/temp-dir.js';

const kinds = stepKinds(createConnectors({}));
function callFrom(name: string): Call {
  const parsed = parsePayload(fixture(name), 'strict');
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return parsed.call;
}
const context = () => buildStepContext(callFrom('seed-001-autocalls'), Date.parse('2026-01-01T00:00:00Z'));

describe('templates', () => {
  it('a whole "{{ expr }}" keeps the type; text interpolates', async () => {
    const render = compileTemplate({
      duration: '{{ call.duration }}',
      status: '{{ extracted.status }}',
      vars: '{{ input }}',
      missing: '{{ extracted.nope }}',
      text: 'Thanks {{ input.customer_name }}! {{ extracted.summary }} ({{ call.duration }}s, {{ extracted.nope }})',
      list: ['{{ campaign.name }}', 7, null],
      plain: 'no expressions',
    });
    expect(await render(context())).toEqual({
      duration: 125,
      status: true,
      vars: { customer_name: 'John Doe', product_interest: 'Pro Plan' },
      missing: null,
      text: 'Thanks John Doe! Customer interested in product demo (125s, )',
      list: ['Product Demo Campaign', 7, null],
      plain: 'no expressions',
    });
  });

  it('conditions use JSONata truthiness; a missing value is false', async () => {
    const ctx = context();
    expect(await compileCondition('extracted.status = true and call.duration > 120', [])(ctx)).toBe(true);
    expect(await compileCondition('extracted.lead_quality = "low"', [])(ctx)).toBe(false);
    expect(await compileCondition('extracted.nope', [])(ctx)).toBe(false);
    expect(await compileCondition('call.customer_phone', [])(ctx)).toBe(true);
  });
});

describe('expression helpers', () => {
  it('format phones, dates in a time zone, excerpts and defaults', async () => {
    const render = compileTemplate({
      intl: '{{ $formatPhone(call.customer_phone) }}',
      national: "{{ $formatPhone('+4915123456789', 'national') }}",
      e164: "{{ $formatPhone('+1 (415) 555-0100', 'e164') }}",
      none: '{{ $formatPhone(lead.nope) }}',
      berlin: "{{ $formatDate(call.created_at, 'EEE dd.MM.yyyy HH:mm', 'Europe/Berlin') }}",
      newYork: "{{ $formatDate(call.finished_at, 'MMMM dd, hh:mm a', 'America/New_York') }}",
      excerpt: '{{ $excerpt(call.transcript, 40) }}',
      whole: '{{ $excerpt("short", 40) }}',
      fallback: "Hi {{ $default(input.first_name, 'there') }}",
      kept: "{{ $default(input.customer_name, 'there') }}",
    });
    expect(await render(context())).toEqual({
      intl: '+1 234567890', // the documented sample is no real US number: grouped as far as known
      national: '01512 3456789',
      e164: '+14155550100',
      none: null,
      berlin: 'Wed 15.01.2025 11:30',
      newYork: 'January 15, 05:32 AM',
      excerpt: 'AI: Hello! This is Sarah from…', // cut at a word, within 40 characters
      whole: 'short',
      fallback: 'Hi there',
      kept: 'John Doe',
    });
  });

  it('keeps formats of different zones and locales apart when they repeat', async () => {
    const render = compileTemplate([
      "{{ $formatDate('2025-01-15T10:30:00Z', 'MMMM dd HH:mm', 'Europe/Berlin') }}",
      "{{ $formatDate('2025-01-15T10:30:00Z', 'MMMM dd HH:mm', 'America/New_York') }}",
      "{{ $formatDate('2025-01-15T10:30:00Z', 'MMMM dd HH:mm', 'Europe/Berlin', 'pt-BR') }}",
    ]);
    const expected = ['January 15 11:30', 'January 15 05:30', 'janeiro 15 11:30'];
    expect(await render({})).toEqual(expected);
    expect(await render({})).toEqual(expected);
  });

  it('a bad format or time zone fails the render with a clear message', async () => {
    await expect(compileTemplate("{{ $formatPhone('+14155550100', 'fancy') }}")({})).rejects.toThrow(/format must be international/);
    await expect(compileTemplate("{{ $formatDate('2025-01-01T00:00:00Z', 'yyyy', 'Mars/Olympus') }}")({})).rejects.toThrow(/time zone/i);
    await expect(compileTemplate("{{ $formatDate('yesterday') }}")({})).rejects.toThrow(/is not a date/);
  });
});

describe('matching', () => {
  const mapping = (match: string) => {
    const r = compileMappingSource(`name: m\nmatch: ${match}\nsteps:\n  - { id: a, use: log, with: { message: x } }\n`, 'm.yaml', kinds);
    if ('problems' in r) throw new Error(r.problems.map(formatProblem).join('\n'));
    return r.mapping;
  };
  it('all given keys must match, and says why not', () => {
    const call = callFrom('seed-001-autocalls');
    const outcome = matchMappings(call, [
      mapping('{ status: completed, campaign: "Product Demo Campaign" }'),
      mapping('{ campaign: 456, assistant_phone: "+1987654321", variant: autocalls }'),
      mapping('{ status: [failed, no-answer] }'),
      mapping('{ campaign: "Other" }'),
      mapping('{ assistant_phone: ["+1000000000"] }'),
    ]);
    expect(outcome.matched).toHaveLength(2);
    expect(outcome.notMatched.map((n) => n.reason)).toEqual([
      'status completed is not one of failed, unanswered',
      'campaign "Product Demo Campaign" is not listed',
      'assistant_phone is not one of the listed numbers',
    ]);
    expect(matchMappings(callFrom('seed-003-famulor'), [mapping('{ campaign: 2324 }')]).matched).toHaveLength(1);
  });
});

describe('load-time errors name file, line, column and key', () => {
  const dir = tempDir();
  afterAll(() => dir.cleanup());

  const cases: Array<{ name: string; yaml: string; want: string }> = [
    { name: 'yaml syntax', yaml: 'name: x\nsteps: [\n', want: 'bad.yaml:3:1' },
    {
      name: 'unknown top-level key',
      yaml: 'name: x\nstepz: []\nsteps:\n  - { id: a, use: log, with: { message: m } }\n',
      want: 'bad.yaml:2:1 stepz: unknown key "stepz"',
    },
    {
      name: 'unknown step kind',
      yaml: 'name: x\nsteps:\n  - id: a\n    use: fax.send\n    with: {}\n',
      want: 'bad.yaml:4:10 steps.0.use: unknown step kind "fax.send"',
    },
    {
      name: 'expression that does not compile',
      yaml: 'name: x\nsteps:\n  - id: a\n    use: log\n    with:\n      message: "{{ call.( }}"\n',
      want: 'bad.yaml:6:16 steps.0.with.message: invalid expression "call.("',
    },
    {
      name: 'bad when',
      yaml: 'name: x\nsteps:\n  - id: a\n    use: log\n    when: "call.status = "\n    with: { message: m }\n',
      want: 'bad.yaml:5:11 steps.0.when: invalid expression',
    },
    {
      name: 'duplicate step ids',
      yaml: 'name: x\nsteps:\n  - { id: a, use: log, with: { message: m } }\n  - { id: a, use: log, with: { message: m } }\n',
      want: 'bad.yaml:4:11 steps.1.id: duplicate step id "a"',
    },
    { name: 'no steps', yaml: 'name: x\nsteps: []\n', want: 'bad.yaml:2:8 steps: needs at least one step' },
    {
      name: 'bad status in match',
      yaml: 'name: x\nmatch:\n  status: [done]\nsteps:\n  - { id: a, use: log, with: { message: m } }\n',
      want: 'bad.yaml:3:12 match.status.0: "done" is not one of initiated, ringing, busy, in-progress, ended, completed,',
    },
  ];
  /** Loads `yaml` as bad.yaml and expects a problem line containing `want`. */
  function expectProblem(yaml: string, want: string): void {
    const file = join(dir.path, 'bad.yaml');
    writeFileSync(file, yaml);
    let error: unknown;
    try {
      loadMappingFiles([file], kinds);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MappingLoadError);
    const lines = (error as MappingLoadError).problems.map((p) => formatProblem(p).replace(`${dir.path}/`, ''));
    expect(lines.join('\n')).toContain(want);
  }
  it.each(cases)('$name', ({ yaml, want }) => expectProblem(yaml, want));

  const more: Array<{ name: string; yaml: string; want: string }> = [
    {
      name: 'reference to a later step',
      yaml: 'name: x\nsteps:\n  - id: a\n    use: log\n    with: { message: "{{ steps.b.ok }}" }\n  - { id: b, use: log, with: { message: m } }\n',
      want: 'bad.yaml:5:22 steps.0.with.message: steps.b refers to a later step',
    },
    {
      name: 'reference to a missing step',
      yaml: 'name: x\nsteps:\n  - id: a\n    use: log\n    when: steps.ghost.ok\n    with: { message: m }\n',
      want: 'bad.yaml:5:11 steps.0.when: steps.ghost refers to no step',
    },
    {
      name: 'unknown key in with',
      yaml: 'name: x\nsteps:\n  - id: a\n    use: http.request\n    with:\n      urll: http://x.test\n',
      want: 'bad.yaml:6:7 steps.0.with.urll: http.request: unknown key "urll"',
    },
    {
      name: 'missing required input',
      yaml: 'name: x\nsteps:\n  - id: a\n    use: http.request\n    with: { body: "{{ call }}" }\n',
      want: 'bad.yaml:5:11 steps.0.with.url: http.request: "url" is required',
    },
    {
      name: 'literal of the wrong type',
      yaml: 'name: x\nsteps:\n  - id: a\n    use: http.request\n    with: { url: "http://x.test", timeout_ms: "5s" }\n',
      want: 'bad.yaml:5:47 steps.0.with.timeout_ms: http.request: Invalid input: expected number, received string',
    },
    {
      name: 'variable default of the wrong type',
      yaml: 'name: x\nvariables:\n  budget: { type: number, default: lots }\nsteps:\n  - { id: a, use: log, with: { message: m } }\n',
      want: 'bad.yaml:3:36 variables.budget.default: default must be a number',
    },
    {
      name: 'variable name the platform would not allow',
      yaml: 'name: x\nvariables:\n  ok: string\nsteps:\n  - { id: a, use: log, with: { message: m } }\n',
      want: 'bad.yaml:3:3 variables.ok: variable names are 3–16 characters',
    },
    {
      name: 'score rule that does not compile',
      yaml: 'name: x\nscore:\n  rules:\n    - { when: "extracted.budget >", add: 5 }\nsteps:\n  - { id: a, use: log, with: { message: m } }\n',
      want: 'bad.yaml:4:15 score.rules.0.when: invalid expression',
    },
    {
      name: 'retry override out of range',
      yaml: 'name: x\nsteps:\n  - id: a\n    use: log\n    retry: { max_attempts: 0 }\n    with: { message: m }\n',
      want: 'bad.yaml:5:28 steps.0.retry.max_attempts: Too small',
    },
  ];
  it.each(more)('$name', ({ yaml, want }) => expectProblem(yaml, want));

  it('two files with one name', () => {
    const a = join(dir.path, 'a.yaml');
    const b = join(dir.path, 'b.yaml');
    const yaml = 'name: same\nsteps:\n  - { id: a, use: log, with: { message: m } }\n';
    writeFileSync(a, yaml);
    writeFileSync(b, yaml);
    expect(() => loadMappingFiles([a, b], kinds)).toThrow(/b\.yaml:1:1 name: "same" is also the name in a\.yaml/);
  });

  it('the example mappings in mappings/ load', () => {
    const mappings = loadMappingFiles([join(import.meta.dirname, '..', 'mappings', 'forward-completed-calls.yaml')], kinds);
    expect(mappings.map((m) => m.name)).toEqual(['forward-completed-calls']);
  });
});
