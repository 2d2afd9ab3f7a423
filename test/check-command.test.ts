// `aftercall check` in process: what it catches before a call arrives (functions, names,
// variables, step outputs, connector configuration), how it words it, where it points, and its
// exit codes and JSON for CI and editors.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jsonata from 'jsonata';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createConnectors, stepKinds } from '../src/connectors/index.js';
import { runCheck } from '../src/cli/check-command.js';
import { JSONATA_FUNCTIONS } from '../src/mapping/expression-check.js';
import { compileMappingSource, formatProblem } from '../src/mapping/load-mappings.js';
import { tempDir } from './support/temp-dir.js';

const kinds = stepKinds(createConnectors({}));
const dir = tempDir();
afterAll(() => dir.cleanup());

const TWILIO = { TWILIO_ACCOUNT_SID: `AC${'0123456789abcdef'.repeat(2)}`, TWILIO_AUTH_TOKEN: 'token' };

/** Every problem (errors and warnings) of `yaml` loaded as m.yaml, as `check` prints them. */
function problems(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  const r = compileMappingSource(yaml, 'm.yaml', kinds, env);
  const all = [...('problems' in r ? r.problems : []), ...((r as { warnings?: Parameters<typeof formatProblem>[0][] }).warnings ?? [])];
  return all.map(formatProblem);
}

/** A one-step log mapping whose message is `message` (YAML-quoted by the caller). */
const logging = (message: string, extra = '') => `name: m\n${extra}steps:\n  - id: a\n    use: log\n    with:\n      message: ${message}\n`;

describe('static checks of expressions', () => {
  it('an unknown function is an error, with the likely one', () => {
    expect(problems(logging(`"{{ $formatPhon(call.customer_phone) }}"`))).toEqual([
      'm.yaml:6:16 steps.0.with.message: unknown function $formatPhon (did you mean $formatPhone?); aftercall adds $formatPhone, $formatDate, $excerpt, $default, $secret to JSONata\'s built-ins',
    ]);
  });

  it("aftercall's functions, JSONata's, and the expression's own variables and lambdas pass", () => {
    const message = `"{{ $formatPhone(call.customer_phone) }} {{ $uppercase($default(input.customer_name, 'x')) }} {{ ($n := call.duration; $n * 2) }} {{ $join($map(transfers, function($t) { $t.to }), ', ') }} {{ call.customer_phone ~> $trim }} {{ $now() }}"`;
    expect(problems(logging(message))).toEqual([]);
  });

  it('score rules are checked the same way', () => {
    const yaml = logging('x', 'variables:\n  budget: number\nscore:\n  rules:\n    - { when: "$numbr(extracted.budget) > 10 and extracted.budgt > 1", add: 5 }\n');
    expect(problems(yaml)).toEqual([
      'm.yaml:6:15 score.rules.0.when: unknown function $numbr (did you mean $number?); aftercall adds $formatPhone, $formatDate, $excerpt, $default, $secret to JSONata\'s built-ins',
      'm.yaml:6:15 score.rules.0.when: warning: extracted.budgt is not declared under variables (declared: budget)',
    ]);
  });

  it('every name JSONATA_FUNCTIONS lists is a function of the installed JSONata', async () => {
    for (const name of JSONATA_FUNCTIONS) expect(await jsonata(`$type($${name})`).evaluate({})).toBe('function');
  });

  it('an unknown top-level name is an error; names inside a filter are relative and pass', () => {
    expect(problems(logging(`"{{ cal.id }}"`))).toEqual([
      'm.yaml:6:16 steps.0.with.message: unknown name "cal" (did you mean call?); expressions read call, extracted, input, lead, campaign, transfers, score, steps, run, now',
    ]);
    expect(problems(logging(`"{{ transfers[status = 'completed'].to }} {{ lead.campaign.name }} {{ score.band }} {{ now }}"`))).toEqual([]);
  });

  it('extracted.<name> not declared under variables is a warning; the mapping still loads', () => {
    const yaml = logging(`"{{ extracted.summery }} {{ extracted.summary }}"`, 'variables:\n  summary: string\n');
    expect(problems(yaml)).toEqual(['m.yaml:8:16 steps.0.with.message: warning: extracted.summery is not declared under variables (declared: summary)']);
    expect('mapping' in compileMappingSource(yaml, 'm.yaml', kinds, {})).toBe(true);
  });

  it("steps.<id>.<field>: a field the earlier step's kind does not give, a later step and a missing step are errors", () => {
    const yaml =
      'name: m\nsteps:\n' +
      '  - id: sms\n    use: twilio.sms.send\n    with: { to: "+14155550100", body: hi, from: "+14155550199" }\n' +
      '  - id: note\n    use: log\n    when: "steps.sms.sid != null"\n' +
      '    with: { message: "{{ steps.sms.sidd }} {{ steps.later.id }} {{ steps.nowhere }}" }\n' +
      '  - id: later\n    use: http.request\n    with: { url: "http://127.0.0.1:4000/x", body: "{{ steps.note.logged }} {{ steps.note.status }}" }\n';
    expect(problems(yaml, TWILIO)).toEqual([
      'm.yaml:9:22 steps.1.with.message: steps.sms has no field "sidd" (twilio.sms.send gives sid, status, segments, to)',
      'm.yaml:9:22 steps.1.with.message: steps.later refers to a later step; a step can only read earlier steps',
      'm.yaml:9:22 steps.1.with.message: steps.nowhere refers to no step',
      'm.yaml:12:51 steps.2.with.body: steps.note has no field "status" (log gives logged)',
    ]);
  });

  it('every step kind declares its output, with the fields its description names', () => {
    for (const kind of kinds.values()) {
      expect(kind.output, kind.kind).toBeInstanceOf(z.ZodObject);
      const named = /Output: `?\{ ([^}]*) \}/.exec(kind.description)?.[1]?.split(', ') ?? [];
      expect(Object.keys((kind.output as z.ZodObject).shape), kind.kind).toEqual(expect.arrayContaining(named));
    }
  });
});

describe('connector configuration that cannot work', () => {
  const sms = (withFrom = '') =>
    `name: m\nsteps:\n  - id: sms\n    use: twilio.sms.send\n    with: { to: "{{ call.customer_phone }}", body: hi${withFrom} }\n`;

  it('a Twilio step with no sender in the step or the environment is an error', () => {
    expect(problems(sms(), TWILIO)).toEqual([
      'm.yaml:4:10 steps.0.use: step "sms" (twilio.sms.send) needs a sender: from or messaging_service_sid in the step, or TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID',
    ]);
    expect(problems(sms(', from: "+14155550199"'), TWILIO)).toEqual([]);
    expect(problems(sms(), { ...TWILIO, TWILIO_FROM: '+14155550199' })).toEqual([]);
    expect(problems(sms(), { ...TWILIO, TWILIO_MESSAGING_SERVICE_SID: `MG${'0'.repeat(32)}` })).toEqual([]);
  });

  it('an email step with no sender in the step or EMAIL_FROM is an error', () => {
    const yaml = 'name: m\nsteps:\n  - id: mail\n    use: email.send\n    with: { to: a@example.com, subject: s, text: t }\n';
    expect(problems(yaml, { SMTP_URL: 'smtp://127.0.0.1:2525' })).toEqual(['m.yaml:4:10 steps.0.use: step "mail" (email.send) needs a sender: from in the step, or EMAIL_FROM']);
    expect(problems(yaml, { SMTP_URL: 'smtp://127.0.0.1:2525', EMAIL_FROM: 'a@example.com' })).toEqual([]);
  });
});

describe('messages', () => {
  it('list the allowed values', () => {
    expect(problems('name: m\nmatch:\n  status: complete\nsteps:\n  - { id: a, use: log, with: { message: x } }\n')).toEqual([
      'm.yaml:3:11 match.status: "complete" is not one of initiated, ringing, busy, in-progress, ended, completed, ended_by_customer, ended_by_assistant, unanswered, failed, no-answer (did you mean completed?)',
    ]);
    expect(problems(logging('x', 'variables:\n  budget: bool\n  timeline: { type: text }\n'))).toEqual([
      'm.yaml:3:11 variables.budget: "bool" is not one of string, number, boolean (did you mean boolean?)',
      'm.yaml:4:21 variables.timeline.type: "text" is not one of string, number, boolean',
    ]);
    expect(problems(logging('x\n      level: loud'))).toEqual(['m.yaml:7:14 steps.0.with.level: log: "loud" is not one of debug, info, warn, error']);
  });

  it('report every problem of a step, and the steps of a file whose other parts are wrong', () => {
    const yaml =
      'name: m\nstepz: 1\nsteps:\n  - id: a\n    use: log\n    colour: red\n    when: "$exist(call.id)"\n' +
      '    with: { message: "{{ $formatPhon(call.customer_phone) }} {{ cal.id }}", levl: info }\n';
    expect(problems(yaml)).toEqual([
      'm.yaml:2:1 stepz: unknown key "stepz"',
      'm.yaml:6:5 steps.0.colour: unknown key "colour"',
      'm.yaml:7:11 steps.0.when: unknown function $exist (did you mean $exists?); aftercall adds $formatPhone, $formatDate, $excerpt, $default, $secret to JSONata\'s built-ins',
      'm.yaml:8:22 steps.0.with.message: unknown function $formatPhon (did you mean $formatPhone?); aftercall adds $formatPhone, $formatDate, $excerpt, $default, $secret to JSONata\'s built-ins',
      'm.yaml:8:22 steps.0.with.message: unknown name "cal" (did you mean call?); expressions read call, extracted, input, lead, campaign, transfers, score, steps, run, now',
      'm.yaml:8:77 steps.0.with.levl: log: unknown key "levl" (known: message, level, fields)',
    ]);
  });

  it('a key indented deeper than the one above it is reported at its own line', () => {
    expect(problems('name: m\nmatch:\n  status: completed\n   variant: famulor\nsteps:\n  - { id: a, use: log, with: { message: x } }\n')).toEqual([
      'm.yaml:4:4 this line is indented deeper than the key above it: keys of one mapping start in the same column, and a nested key needs its parent to end in ":"',
    ]);
    expect(problems('name: m\nsteps:\n  - id: a\n    use: log\n    with:\n      message: hi\n     level: info\n')).toEqual([
      'm.yaml:7:6 All mapping items must start at the same column (this line is indented differently from the key above it)',
    ]);
  });
});

describe('aftercall check (the command, in process)', () => {
  const folder = join(dir.path, 'mappings');
  mkdirSync(folder);
  writeFileSync(join(folder, 'good.yaml'), logging('"{{ call.id }}"'));
  writeFileSync(join(folder, 'warned.yaml'), logging('"{{ extracted.budget }}"').replace('name: m', 'name: warned'));
  const bad = join(dir.path, 'bad.yaml');
  writeFileSync(bad, logging('"{{ $formatPhon(call.id) }}"'));

  it('takes a folder, and no argument means MAPPINGS_DIR; warnings pass unless --strict', () => {
    const byFolder = runCheck([folder], { env: {} });
    expect(byFolder).toEqual({
      exitCode: 0,
      stdout: 'ok  good.yaml  m  (1 steps)\nok  warned.yaml  warned  (1 steps, 1 warning)\n',
      stderr: `${join(folder, 'warned.yaml')}:6:16 steps.0.with.message: warning: extracted.budget is not declared under variables\n`,
    });
    expect(runCheck([], { env: { MAPPINGS_DIR: folder } })).toEqual(byFolder);
    expect(runCheck([folder], { env: {}, strict: true }).exitCode).toBe(1);
  });

  it('a missing path is a usage error (exit 2) in plain words', () => {
    const missing = join(dir.path, 'nope.yaml');
    expect(runCheck([missing], { env: {} })).toEqual({ exitCode: 2, stdout: '', stderr: `aftercall check: ${missing}: no such file or folder\n` });
  });

  it('errors exit 1; --json gives every problem as {file, line, column, severity, message, key, code}', () => {
    const result = runCheck([bad, folder], { env: {}, json: true });
    expect(result.exitCode).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual([
      {
        file: bad,
        line: 6,
        column: 16,
        severity: 'error',
        message: expect.stringMatching(/^unknown function \$formatPhon \(did you mean \$formatPhone\?\)/),
        key: 'steps.0.with.message',
        code: 'unknown-function',
      },
      {
        file: join(folder, 'warned.yaml'),
        line: 6,
        column: 16,
        severity: 'warning',
        message: 'extracted.budget is not declared under variables',
        key: 'steps.0.with.message',
        code: 'undeclared-variable',
      },
    ]);
  });

  it("passes the repository's mappings/ and examples/ (with their connectors configured) without errors or warnings", () => {
    const root = join(import.meta.dirname, '..');
    const env = {
      ...TWILIO,
      TWILIO_FROM: '+16505550100',
      HUBSPOT_ACCESS_TOKEN: 'pat',
      PIPEDRIVE_API_TOKEN: 'token',
      SALESFORCE_INSTANCE_URL: 'https://example.my.salesforce.com',
      SALESFORCE_ACCESS_TOKEN: 'token',
      SMTP_URL: 'smtp://127.0.0.1:2525',
      EMAIL_FROM: 'a@example.com',
      SLACK_BOT_TOKEN: 'xoxb-check',
      GOOGLE_CLIENT_ID: 'id',
      GOOGLE_CLIENT_SECRET: 'secret',
      GOOGLE_REFRESH_TOKEN: 'token',
      PLATFORM: 'autocalls',
      PLATFORM_API_KEY: 'key',
      PLATFORM_SMS_FROM: '+4915550100',
    };
    for (const folder of ['mappings', 'examples/hubspot-twilio', 'examples/pipedrive', 'examples/salesforce-email', 'examples/slack-hot-lead', 'examples/teams-notification', 'examples/google-calendar']) {
      const result = runCheck([join(root, folder)], { env, strict: true });
      expect(result.stderr, folder).toBe('');
      expect(result.exitCode, folder).toBe(0);
    }
  });
});
