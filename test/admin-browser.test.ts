// The Runs page in real headless Chromium: log in, watch a run appear, open it, retry a dead
// run until it succeeds, replay a quarantined payload, filter the list. Screenshots go to
// test-results/screenshots/.
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_CHROMIUM, launchChromium, SCREENSHOTS } from './support/browser.js';
import { fixture } from './support/fixtures.js';
import { startStubServer, type StubServer } from './support/stub-server.js';
import { startTestService, type TestService } from './support/test-service.js';

const ADMIN = 'admin-token-0123456789';

describe.skipIf(!HAS_CHROMIUM)('Runs page in Chromium', () => {
  let browser: Browser;
  let receiver: StubServer;
  let service: TestService;
  let page: Page;

  const mapping = () =>
    `name: crm-forward\nsteps:\n  - id: crm\n    use: http.request\n    with: { url: "${receiver.url}/crm", body: { call: "{{ call.id }}" } }\n`;
  const call = (id: number, extra: Record<string, unknown> = {}) => ({
    ...fixture('seed-001-autocalls'),
    id,
    customer_phone: `+1415555${String(id).slice(-4).padStart(4, '0')}`,
    ...extra,
  });
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    receiver = await startStubServer([{ status: 400, body: { error: 'missing field "email"' } }]);
    // First a strict service quarantines a payload with a field the schema does not know yet.
    const strict = await startTestService({ 'crm.yaml': 'name: placeholder\nsteps:\n  - { id: a, use: log, with: { message: m, level: debug } }\n' });
    expect((await strict.post(call(3001, { sentiment: 'positive' }))).status).toBe(422);
    await strict.stopKeepingFiles();
    // Then the same database under SCHEMA_MODE=warn, where that payload is acceptable.
    service = await startTestService({ 'crm.yaml': mapping() }, { ADMIN_TOKEN: ADMIN, SCHEMA_MODE: 'warn' }, { dir: strict.dir });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    await service?.cleanup();
    await receiver?.close();
  });

  it('logs in with the admin token', async () => {
    await page.goto(`${service.baseUrl}/admin`);
    expect(page.url()).toContain('/admin/login');
    await page.fill('input[name=token]', 'wrong-token-000000');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('[role=alert]')).toContain('That token is not right.');
    await page.fill('input[name=token]', ADMIN);
    await page.click('button[type=submit]');
    await page.waitForURL(`${service.baseUrl}/admin`);
    expect(await page.textContent('h1')).toBe('Runs');
    await shot('01-runs-empty');
  });

  it('shows a run after a webhook is posted, opens it, retries it until it succeeds', async () => {
    expect((await service.post(call(4242))).status).toBe(202);
    await service.waitFor(() => service.store.listRuns(), (runs) => runs[0]?.status === 'dead');
    await page.reload();
    const row = page.locator('table.runs tbody tr', { hasText: '4242' });
    expect(await row.locator('.badge.dead').count()).toBe(1);
    expect(await row.textContent()).toContain('+1••••••••42');
    await shot('02-runs-with-dead-run');

    await row.locator('a', { hasText: '4242' }).click();
    await page.waitForURL(/\/admin\/runs\/\d+$/);
    expect(await page.textContent('.error')).toContain('STEP_PERMANENT: step crm');
    expect(await page.textContent('body')).toContain('missing field');
    await shot('03-dead-run');

    receiver.script([{ status: 200, body: { id: 'lead-1' } }]);
    await page.click('button:has-text("Retry this run")');
    await page.waitForURL(/notice=retry-queued/);
    expect(await page.textContent('p.notice')).toContain('queued again');
    await service.waitFor(() => service.store.listRuns(), (runs) => runs[0]?.status === 'succeeded');
    await page.reload();
    expect(await page.locator('h1 .badge.succeeded').count()).toBe(1);
    expect(await page.textContent('body')).toContain('lead-1');
    await shot('04-retried-run-succeeded');
  });

  it('replays a quarantined payload', async () => {
    await page.click('a:has-text("Quarantine")');
    await page.waitForURL(/\/admin\/quarantine$/);
    expect(await page.textContent('table')).toContain('sentiment');
    await shot('05-quarantine');
    await page.click('td.row-actions button:has-text("Replay")');
    await page.waitForURL(/notice=replayed/);
    expect(await page.textContent('p.notice')).toContain('accepted');
    await service.waitFor(() => service.store.listRuns(), (runs) => runs.some((r) => r.callId === '3001' && r.status === 'succeeded'));
    await page.goto(`${service.baseUrl}/admin`);
    expect(await page.locator('table.runs tbody tr', { hasText: '3001' }).count()).toBe(1);
  });

  it('filters the list by status, mapping and phone or call id', async () => {
    receiver.script([{ status: 400, body: { error: 'nope' } }]);
    expect((await service.post(call(5005))).status).toBe(202);
    await service.waitFor(() => service.store.listRuns(), (runs) => runs.some((r) => r.callId === '5005' && r.status === 'dead'));
    await page.goto(`${service.baseUrl}/admin`);
    expect(await page.locator('table.runs tbody tr').count()).toBe(3);

    await page.selectOption('select[name=status]', 'dead');
    await page.click('button:has-text("Filter")');
    await page.waitForURL(/status=dead/);
    const dead = await page.locator('table.runs tbody tr').allTextContents();
    expect(dead).toHaveLength(1);
    expect(dead[0]).toContain('5005');

    await page.selectOption('select[name=status]', '');
    await page.fill('input[name=q]', '+1 415 555 4242');
    await page.click('button:has-text("Filter")');
    await page.waitForURL(/q=/);
    const byPhone = await page.locator('table.runs tbody tr').allTextContents();
    expect(byPhone).toHaveLength(1);
    expect(byPhone[0]).toContain('4242');

    await page.fill('input[name=q]', '3001');
    await page.selectOption('select[name=mapping]', 'crm-forward');
    await page.click('button:has-text("Filter")');
    await page.waitForURL(/q=3001/);
    expect(await page.locator('table.runs tbody tr').allTextContents()).toEqual([expect.stringContaining('3001')]);
    await shot('06-filtered');
  });

  it('is usable on a phone-sized screen', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const cookies = await page.context().cookies();
    await phone.context().addCookies(cookies);
    await phone.goto(`${service.baseUrl}/admin`);
    // Rows become cards: each cell labelled, nothing wider than the screen.
    const width = await phone.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);
    await phone.screenshot({ path: join(SCREENSHOTS, '07-phone.png'), fullPage: true });
    await phone.close();
  });
});
