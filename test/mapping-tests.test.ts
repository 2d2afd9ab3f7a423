// `aftercall test` in process: the project's own test files pass, and a failing expectation,
// a broken test file and a broken mapping are reported as a user reads them, with exit codes.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyOverrides, runMappingTests } from '../src/cli/test-command.js';
import { createConnectors, stepKinds } from '../src/connectors/index.js';
import { compileMappingSource, type CompiledMapping } from '../src/mapping/load-mappings.js';
import { decideRepeat, earlierEffectLookup } from '../src/mapping/repeat-policy.js';
import { FIXTURES_DIR } from './support/fixtures.js';
import { tempDir } from './support/temp-dir.js';

const ROOT = join(import.meta.dirname, '..');
const dir = tempDir();
afterAll(() => dir.cleanup());

async function run(paths: string[], mappingsDir = join(ROOT, 'mappings')) {
  const lines: string[] = [];
  const code = await runMappingTests(paths, { mappingsDir, schemaMode: 'strict', print: (line) => lines.push(line) });
  return { code, out: lines.join('\n') };
}

/** A test folder in the temp dir with `files`; test files' `mappings:` default to its parent. */
function folder(name: string, files: Record<string, string>): string {
  const path = join(dir.path, name);
  mkdirSync(join(path, 'tests'), { recursive: true });
  for (const [file, text] of Object.entries(files)) writeFileSync(join(path, file), text);
  return join(path, 'tests');
}

const SALES_FIXTURE = join(FIXTURES_DIR, 'sales-qualification.json');

describe('the project ships with green mapping tests', () => {
  it('mappings/tests (the default: MAPPINGS_DIR/tests) all pass', async () => {
    const r = await run([]);
    expect(r.out).not.toContain('✗');
    expect(r.out).toMatch(/^13 passed, 0 failed \(13 tests in 5 files\)$/m);
    expect(r.code).toBe(0);
  });

  it('every example folder has tests, and they pass without vendor credentials', async () => {
    const examples = readdirSync(join(ROOT, 'examples')).map((e) => join(ROOT, 'examples', e, 'tests'));
    expect(examples).toHaveLength(7);
    for (const name of ['HUBSPOT_ACCESS_TOKEN', 'TWILIO_ACCOUNT_SID', 'PIPEDRIVE_API_TOKEN', 'SALESFORCE_ACCESS_TOKEN', 'SMTP_URL', 'SLACK_BOT_TOKEN', 'GOOGLE_REFRESH_TOKEN', 'GOOGLE_SERVICE_ACCOUNT_JSON']) {
      expect(process.env[name], `${name} must be unset for this test`).toBeUndefined();
    }
    const r = await run(examples);
    expect(r.out).not.toContain('✗');
    expect(r.out).toMatch(/^18 passed, 0 failed \(18 tests in 9 files\)$/m);
    expect(r.code).toBe(0);
  });
});

describe("the README's walkthrough", () => {
  it('its test file passes over the mappings and the sales fixture, and its sample failure is what a changed band prints', async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /```yaml\n( *)# yaml-language-server: \$schema=\.\.\/mapping-test\.schema\.json\n[\s\S]*?\n\1```/.exec(readme);
    expect(block, 'the README has a test file example').not.toBeNull();
    const indent = block![1]!.length;
    const yaml = block![0].split('\n').slice(1, -1).map((line) => line.slice(indent)).join('\n');
    const root = join(dir.path, 'readme');
    mkdirSync(join(root, 'mappings', 'tests', 'fixtures'), { recursive: true });
    for (const f of readdirSync(join(ROOT, 'mappings')).filter((f) => f.endsWith('.yaml'))) copyFileSync(join(ROOT, 'mappings', f), join(root, 'mappings', f));
    copyFileSync(SALES_FIXTURE, join(root, 'mappings', 'tests', 'fixtures', 'hot-lead.json'));
    const file = join(root, 'mappings', 'tests', 'hot-lead.yaml');
    writeFileSync(file, yaml);
    const green = await run([], join(root, 'mappings'));
    expect(green.out).toContain('1 passed, 0 failed (1 test in 1 file)');
    expect(green.code).toBe(0);

    // The README's sample failure: the mapping now makes this lead warm.
    const mapping = join(root, 'mappings', 'sales-qualification.yaml');
    writeFileSync(mapping, readFileSync(mapping, 'utf8').replace('bands: { hot: 60,', 'bands: { hot: 80,'));
    const red = await run([], join(root, 'mappings'));
    expect(red.code).toBe(1);
    const from = readme.indexOf('✗ mappings/tests/hot-lead.yaml');
    expect(from, 'the README shows a failure').toBeGreaterThan(0);
    const sample = readme.slice(from, readme.indexOf('```', from)).split('\n').map((l) => l.trim()).filter(Boolean);
    expect(sample).toHaveLength(8);
    const printed = red.out.replaceAll(join(root, 'mappings'), 'mappings').split('\n').map((l) => l.trim());
    for (const line of sample) expect(printed).toContain(line);
  });
});

describe('a failing expectation', () => {
  it('prints expected and actual per assertion at its line, and exits 1', async () => {
    const tests = folder('failing', {
      'tests/sales.yaml': [
        `mappings: ${join(ROOT, 'mappings')}`,
        `fixture: ${SALES_FIXTURE}`,
        'tests:',
        '  - name: passes',
        '    expect: { matched: [sales-qualification] }',
        '  - name: pins the wrong things',
        '    expect:',
        '      matched: [support-triage]',
        '      mappings:',
        '        sales-qualification:',
        '          score:',
        '            band: warm',
        '          steps:',
        '            crm:',
        '              input:',
        '                body:',
        '                  score: 70',
        '                  fax: "+1"',
        '            alert_sales: skipped',
        '    revision2:',
        '      expect:',
        '        mappings:',
        '          sales-qualification:',
        '            steps:',
        '              crm: run',
        '',
      ].join('\n'),
    });
    const file = join(tests, 'sales.yaml');
    const r = await run([tests]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`✓ ${file} › passes`);
    expect(r.out).toContain(
      [
        `✗ ${file} › pins the wrong things`,
        `    ${file}:8 support-triage: matches`,
        '      expected: matched',
        '      actual:   not matched: assistant_phone is not one of the listed numbers',
        `    ${file}:12 sales-qualification: score.band`,
        '      expected: "warm"',
        '      actual:   "hot"',
        `    ${file}:17 sales-qualification: step crm input.body.score`,
        '      expected: 70',
        '      actual:   78',
        `    ${file}:18 sales-qualification: step crm input.body.fax`,
        '      expected: "+1"',
        '      actual:   (missing)',
        `    ${file}:19 sales-qualification: step alert_sales`,
        '      expected: skipped',
        '      actual:   run',
        `    ${file}:25 sales-qualification: step crm`,
        '      expected: run',
        '      actual:   skipped — repeat: on-change (input unchanged since revision 1)',
      ].join('\n'),
    );
    expect(r.out).toMatch(/^1 passed, 1 failed \(2 tests in 1 file\)$/m);
  });

  it('a mapping that does not load fails its tests with the problems (exit 1)', async () => {
    const tests = folder('broken-mapping', {
      'broken.yaml': 'name: broken\nsteps:\n  - id: a\n    use: sms.send\n    with: {}\n',
      'tests/broken.yaml': `fixture: ${SALES_FIXTURE}\ntests:\n  - name: t\n    expect: {}\n`,
    });
    const r = await run([tests]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`✗ ${join(tests, 'broken.yaml')}: the mappings under test do not load`);
    expect(r.out).toContain('broken.yaml:4:10 steps.0.use: unknown step kind "sms.send"');
  });
});

describe('test files that cannot run exit 2, naming key and line', () => {
  it('unknown keys, wrong types and a missing expect', async () => {
    const tests = folder('invalid', {
      'tests/bad.yaml': [
        'tests:',
        '  - name: x',
        `    fixture: ${SALES_FIXTURE}`,
        '    expect:',
        '      mappings:',
        '        sales-qualification:',
        '          score: { value: high }',
        '          steps: { crm: runs }',
        '      matchd: []',
        '  - name: y',
        '',
      ].join('\n'),
    });
    const file = join(tests, 'bad.yaml');
    const r = await run([tests]);
    expect(r.code).toBe(2);
    expect(r.out).toContain(`✗ ${file}:7 tests.0.expect.mappings.sales-qualification.score.value: expected number, received string`);
    expect(r.out).toContain(`  ${file}:8 tests.0.expect.mappings.sales-qualification.steps.crm: Invalid option: expected one of "run"|"skipped"|"invalid", or expected object, received string`);
    expect(r.out).toContain(`  ${file}:9 tests.0.expect: unknown key "matchd"`);
    expect(r.out).toContain(`  ${file}:10 tests.1.expect: missing (expected object)`);
  });

  it('a missing fixture, an invalid payload, YAML syntax, no test files, a path that does not exist', async () => {
    const tests = folder('unrunnable', {
      'tests/a-missing.yaml': 'tests:\n  - name: x\n    fixture: nowhere.json\n    expect: {}\n',
      'tests/b-invalid.yaml': `tests:\n  - name: x\n    fixture: ${SALES_FIXTURE}\n    overrides: { customer_phone: "555-0142" }\n    expect: {}\n`,
      'tests/c-syntax.yaml': 'tests:\n  - name: x\n   expect: {}\n',
    });
    const r = await run([tests], join(ROOT, 'mappings'));
    expect(r.code).toBe(2);
    expect(r.out).toMatch(new RegExp(`^✗ ${join(tests, 'a-missing.yaml')}:3 fixture nowhere.json: ENOENT`, 'm'));
    expect(r.out).toContain(
      `✗ ${join(tests, 'b-invalid.yaml')}:4 the test's payload (revision 1) is invalid: customer_phone: must be an E.164 phone number`,
    );
    expect(r.out).toMatch(new RegExp(`^✗ ${join(tests, 'c-syntax.yaml')}:3 `, 'm'));
    expect(r.out).toMatch(/0 passed, 0 failed, 3 test files with errors \(0 tests in 3 files\)$/);

    const empty = join(dir.path, 'empty');
    mkdirSync(empty);
    expect(await run([empty])).toEqual({ code: 2, out: `aftercall test: no test files (*.yaml) in ${empty}` });
    expect(await run([join(dir.path, 'nope')])).toEqual({ code: 2, out: `aftercall test: ${join(dir.path, 'nope')} does not exist` });
  });
});

describe('revision 2 pins the repeat policies', () => {
  const MAPPING = [
    'name: repeats',
    'steps:',
    '  - { id: once, use: http.request, repeat: never, with: { url: "http://127.0.0.1:9/once", body: { s: "{{ extracted.summary }}" } } }',
    '  - { id: changed, use: http.request, with: { url: "http://127.0.0.1:9/changed", body: { s: "{{ extracted.summary }}" } } }',
    '  - { id: fixed, use: http.request, with: { url: "http://127.0.0.1:9/fixed", body: { id: "{{ call.id }}" } } }',
    '  - { id: every, use: log, with: { message: "call {{ call.id }}" } }',
    '  - { id: later, use: http.request, when: "extracted.summary = \'changed\'", with: { url: "http://127.0.0.1:9/later" } }',
    '',
  ].join('\n');

  it('never: skipped; on-change: runs when its input changed, skipped when not; always: runs; a step first run now: runs', async () => {
    const tests = folder('repeats', {
      'repeats.yaml': MAPPING,
      'tests/repeats.yaml': [
        `fixture: ${SALES_FIXTURE}`,
        'tests:',
        '  - name: second revision',
        '    expect:',
        '      mappings:',
        '        repeats: { steps: { once: run, changed: run, fixed: run, every: run, later: skipped } }',
        '    revision2:',
        '      overrides: { extracted_variables.summary: changed }',
        '      expect:',
        '        mappings:',
        '          repeats:',
        '            steps:',
        '              once: { status: skipped, reason: "repeat: never (done for revision 1)" }',
        '              changed: { status: run, input: { body: { s: changed } } }',
        '              fixed: { status: skipped, reason: "repeat: on-change (input unchanged since revision 1)" }',
        '              every: run',
        '              later: run',
        '',
      ].join('\n'),
    });
    const r = await run([tests]);
    expect(r.out).toContain('1 passed, 0 failed');
    expect(r.code).toBe(0);
  });

  it('decideRepeat: the table the worker and aftercall test share', () => {
    const compiled = compileMappingSource(MAPPING, 'repeats.yaml', stepKinds(createConnectors({})));
    const mapping = (compiled as { mapping: CompiledMapping }).mapping;
    const step = (id: string) => mapping.steps.find((s) => s.id === id)!;
    const done = { revision: 1, outcome: 'succeeded' as const, inputHash: 'h1', output: { status: 200 } };
    expect(earlierEffectLookup(step('once'), 1)).toBeNull();
    expect(earlierEffectLookup(step('every'), 2)).toBeNull();
    expect(earlierEffectLookup(step('once'), 2)).toEqual({ atMostOnce: true });
    expect(earlierEffectLookup(step('changed'), 2)).toEqual({ atMostOnce: false });
    expect(decideRepeat(step('once'), null, 'h2')).toEqual({ action: 'run' });
    expect(decideRepeat(step('once'), done, 'h2')).toEqual({ action: 'skip', reason: 'repeat: never (done for revision 1)', output: { status: 200 } });
    expect(decideRepeat(step('once'), { ...done, outcome: 'unknown' }, 'h1')).toMatchObject({
      reason: 'repeat: never (revision 1, which may have done it: outcome unknown)',
    });
    expect(decideRepeat(step('changed'), done, 'h2')).toEqual({ action: 'run' });
    expect(decideRepeat(step('changed'), done, 'h1')).toMatchObject({ action: 'skip', reason: 'repeat: on-change (input unchanged since revision 1)' });
    expect(decideRepeat(step('every'), done, 'h1')).toEqual({ action: 'run' });
  });
});

describe('overrides', () => {
  it('merge objects key by key, dotted keys are paths, anything else replaces; the fixture is not changed', () => {
    const base = { id: 1, extracted_variables: { status: true, summary: 's', budget: 5 }, transcript: [{ text: 'a' }] };
    const merged = applyOverrides(base, {
      'extracted_variables.summary': 'new',
      extracted_variables: { budget: null },
      'input_variables.customer_name': 'Ada',
      transcript: [],
    });
    expect(merged).toEqual({
      id: 1,
      extracted_variables: { status: true, summary: 'new', budget: null },
      input_variables: { customer_name: 'Ada' },
      transcript: [],
    });
    expect(base.extracted_variables.summary).toBe('s');
  });
});
