// Steps that must not repeat (SMS, email) are recorded before and after the side effect; a
// step found `started` after a crash is never re-sent blindly: the run shows it and waits for
// an operator. Connectors whose configuration is missing fail at load, naming the step.
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineStep, type Connector } from '../src/connectors/connector.js';
import { createConnectors } from '../src/connectors/index.js';
import { MappingLoadError } from '../src/mapping/load-mappings.js';
import { parsePayload } from '../src/payload/parse-payload.js';
import { contentHash } from '../src/payload/content-hash.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { fixture } from './support/fixtures.js';
import { tempDir } from './support/temp-dir.js';
import { startTestService, type TestService } from './support/test-service.js';

/** A stand-in for an SMS connector: counts sends, cannot be deduplicated by the vendor. */
function smsLike(configured = true) {
  const sent: string[] = [];
  const connector: Connector = {
    name: 'fake-sms',
    steps: [
      defineStep({
        kind: 'fake.sms',
        description: 'records a message',
        input: z.strictObject({ to: z.string() }),
        defaultRepeat: 'never',
        safeToRepeat: false,
        missingConfig: () => (configured ? null : 'FAKE_SMS_TOKEN'),
        async execute(input) {
          sent.push(input.to);
          return { sid: `SM${sent.length}` };
        },
      }),
    ],
  };
  return { connector, sent };
}

const MAPPING = 'name: sms\nsteps:\n  - id: sms\n    use: fake.sms\n    with: { to: "{{ call.customer_phone }}" }\n';
const ADMIN = 'admin-token-0123456789';
let service: TestService | undefined;
const dirs: Array<{ cleanup(): void }> = [];
afterEach(async () => {
  await service?.cleanup();
  service = undefined;
  for (const d of dirs.splice(0)) d.cleanup();
});

describe('interrupted steps that must not repeat', () => {
  it('a step left started by a crash sends the run to the dead letter; an operator retry sends once', async () => {
    const dir = tempDir();
    dirs.push(dir);
    mkdirSync(join(dir.path, 'mappings'));
    writeFileSync(join(dir.path, 'mappings', 'sms.yaml'), MAPPING);
    // The state a crash leaves: run claimed by a process that died right after "started".
    const store = openSqliteStore({ path: join(dir.path, 'aftercall.db') });
    const payload = fixture('seed-001-autocalls');
    const parsed = parsePayload({ ...payload, id: 4040, customer_phone: '+14155550100' }, 'strict');
    if (!parsed.ok) throw new Error('fixture invalid');
    await store.acceptDelivery({
      requestId: 'r1', sender: 'default', receivedAt: 1, rawBody: Buffer.from('{}'), call: parsed.call,
      contentHash: contentHash(parsed.call), isTest: false, // A hash this process never loaded: the run executes the current version of `sms`.
      runs: [{ mappingName: 'sms', mappingHash: 'from-a-previous-process' }],
    });
    const [run] = await store.claimRuns('crashed-process', 1, Date.now(), 60_000);
    expect(await store.startStep(run!.id, 'crashed-process', 'sms', { to: '+14155550100' }, 'h', Date.now())).toBe(true);
    await store.close();

    const { connector, sent } = smsLike();
    service = await startTestService({}, { ADMIN_TOKEN: ADMIN }, { dir: dir.path }, { connectors: [...createConnectors(), connector] });
    const s = service;
    const [dead] = await s.waitFor(() => s.store.listRuns(), (runs) => runs[0]?.status === 'dead');
    expect(dead!.lastError).toMatch(/^STEP_OUTCOME_UNKNOWN: step sms \(fake\.sms\) was started before an interruption/);
    expect(sent).toEqual([]); // not re-sent blindly

    const retry = await request(s.server).post(`/api/runs/${dead!.id}/retry`).set('authorization', `Bearer ${ADMIN}`);
    expect(retry.status).toBe(202);
    await s.waitFor(() => s.store.listRuns(), (runs) => runs[0]?.status === 'succeeded');
    expect(sent).toEqual(['+14155550100']);
    const detail = await s.store.getRun(dead!.id);
    expect(detail!.steps[0]).toMatchObject({ status: 'succeeded', output: { sid: 'SM1' }, attempts: 2 });
  });
});

describe('a shutdown that cuts a send short', () => {
  it('leaves the step started, so the resumed run asks an operator instead of sending again', async () => {
    let aborted = 0;
    const hanging: Connector = {
      name: 'fake-sms',
      steps: [
        defineStep({
          kind: 'fake.sms',
          description: 'never answers until aborted',
          input: z.strictObject({ to: z.string() }),
          defaultRepeat: 'never',
          safeToRepeat: false,
          execute: (_input, ctx) =>
            new Promise((_resolve, reject) => {
              ctx.signal.addEventListener('abort', () => {
                aborted += 1;
                reject(new Error('aborted mid-send'));
              });
            }),
        }),
      ],
    };
    const first = await startTestService({ 'sms.yaml': MAPPING }, { SHUTDOWN_TIMEOUT_MS: '100' }, undefined, { connectors: [...createConnectors(), hanging] });
    await first.post({ ...fixture<Record<string, unknown>>('seed-001-autocalls'), id: 5050, customer_phone: '+14155550100' });
    await first.waitFor(async () => (await first.store.listRuns())[0]?.status, (status) => status === 'running');
    await new Promise((r) => setTimeout(r, 50)); // the send is in flight
    await first.stopKeepingFiles();
    expect(aborted).toBe(1);

    const { connector, sent } = smsLike();
    service = await startTestService({ 'sms.yaml': MAPPING }, {}, { dir: first.dir }, { connectors: [...createConnectors(), connector] });
    const s = service;
    const [dead] = await s.waitFor(() => s.store.listRuns(), (runs) => runs[0]?.status === 'dead');
    expect(dead!.lastError).toMatch(/^STEP_OUTCOME_UNKNOWN/);
    expect(sent).toEqual([]);
  });
});

describe('connector configuration is checked at load', () => {
  it('a mapping using a connector without credentials stops the start, naming file, step and variable', async () => {
    const { connector } = smsLike(false);
    await expect(startTestService({ 'sms.yaml': MAPPING }, {}, undefined, { connectors: [...createConnectors(), connector] })).rejects.toThrow(
      MappingLoadError,
    );
    await expect(startTestService({ 'sms.yaml': MAPPING }, {}, undefined, { connectors: [...createConnectors(), connector] })).rejects.toThrow(
      /sms\.yaml:4:10 steps\.0\.use: step "sms" \(fake\.sms\) needs FAKE_SMS_TOKEN/,
    );
  });
});
