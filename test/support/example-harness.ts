// The examples' end-to-end tests: an example folder's mappings in the real service, vendor
// stubs beside it, everything started here closed (and stubbed variables restored) after
// each test.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, vi } from 'vitest';
import type { RunDetail } from '../../src/store/store.js';
import { startVendorStub, type Route, type VendorStub } from '../connectors/support/vendor-stub.js';
import { startTestService, type TestService } from './test-service.js';

export const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');

let closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  closers = [];
  vi.unstubAllEnvs();
});

/** Closes `close` after the current test, newest first. */
export function closeAfterTest(close: () => Promise<void>): void {
  closers.push(close);
}

export async function vendor(route: Route): Promise<VendorStub> {
  const stub = await startVendorStub(route);
  closeAfterTest(() => stub.close());
  return stub;
}

/** The example folder's mapping files; `edit` rewrites their text (a stub's URL). */
export function exampleMappings(folder: string, edit: (text: string) => string = (t) => t): Record<string, string> {
  const dir = join(EXAMPLES, folder);
  return Object.fromEntries(readdirSync(dir).filter((f) => f.endsWith('.yaml')).map((f) => [f, edit(readFileSync(join(dir, f), 'utf8'))]));
}

export async function startService(mappings: Record<string, string>, env: Record<string, string> = {}): Promise<TestService> {
  const service = await startTestService(mappings, env);
  closeAfterTest(() => service.cleanup());
  return service;
}

/** Posts a payload and waits until its runs have finished. */
export async function deliver(s: TestService, payload: unknown, settled = 1): Promise<RunDetail[]> {
  const reply = await s.post(payload);
  expect(reply.status).toBe(202);
  const runs = await s.waitFor(
    () => s.store.listRuns(),
    (list) => list.length >= settled && list.every((r) => ['succeeded', 'dead', 'invalid-variables'].includes(r.status)),
    20_000,
  );
  return Promise.all(runs.map(async (r) => (await s.store.getRun(r.id))!));
}
