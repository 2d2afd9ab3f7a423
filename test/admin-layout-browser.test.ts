// The Runs page's layout in real headless Chromium: no horizontal overflow at 390 px on the
// list and a run, dark mode from prefers-color-scheme, the favicon, aligned action buttons, a
// failed step's vendor answer, a skipped step without times, the JSON viewer's copy button
// under the CSP. Screenshots go to test-results/screenshots/ (layout-*.png).
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCookies, HAS_CHROMIUM, launchChromium, SCREENSHOTS } from './support/browser.js';
import { fixture } from './support/fixtures.js';
import { startStubServer, type StubServer } from './support/stub-server.js';
import { startTestService, type TestService } from './support/test-service.js';

const ADMIN = 'admin-token-0123456789';
const RUNS = 28;

describe.skipIf(!HAS_CHROMIUM)('Runs page layout in Chromium', () => {
  let browser: Browser;
  let receiver: StubServer;
  let service: TestService;
  let cookies: Awaited<ReturnType<BrowserContext['cookies']>>;
  let deadRunId: number;
  const cspErrors: string[] = [];

  async function open(path: string, options: { width?: number; dark?: boolean } = {}): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: 900 }, colorScheme: options.dark ? 'dark' : 'light' });
    await context.addCookies(cookies);
    const page = await context.newPage();
    page.on('console', (m) => {
      if (/Content.Security.Policy|Trusted Type/i.test(m.text())) cspErrors.push(m.text());
    });
    await page.goto(`${service.baseUrl}${path}`);
    return page;
  }
  const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `layout-${name}.png`), fullPage: true });
  const scrollWidth = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth);

  beforeAll(async () => {
    receiver = await startStubServer([{ status: 422, body: { error: 'missing field "email"', request_id: 'vendor-req-7' } }]);
    const mapping =
      'name: crm-forward\nsteps:\n' +
      '  - id: only_for_call_zero\n    use: log\n    when: "call.id = 0"\n    with: { message: never, level: debug }\n' +
      `  - id: crm\n    use: http.request\n    with: { url: "${receiver.url}/crm/v3/objects/contacts", body: { call: "{{ call.id }}" } }\n`;
    service = await startTestService({ 'crm.yaml': mapping }, { ADMIN_TOKEN: ADMIN });
    for (let i = 0; i < RUNS; i++) {
      const id = 7000 + i;
      expect((await service.post({ ...fixture<Record<string, unknown>>('seed-001-autocalls'), id, customer_phone: `+1415555${id}` })).status).toBe(202);
    }
    const runs = await service.waitFor(() => service.store.listRuns({ limit: 100 }), (list) => list.length === RUNS && list.every((r) => r.status === 'dead'));
    deadRunId = runs[0]!.id;
    browser = await launchChromium();
    cookies = await adminCookies(browser, service.baseUrl, ADMIN);
  });

  afterAll(async () => {
    await browser?.close();
    await service?.cleanup();
    await receiver?.close();
  });

  it('the list fits a 390 px phone, light and dark', async () => {
    for (const dark of [false, true]) {
      const page = await open('/admin', { width: 390, dark });
      expect(await page.locator('table.runs tbody tr').count()).toBe(RUNS);
      expect(await scrollWidth(page)).toBeLessThanOrEqual(390);
      const height = await page.evaluate(() => document.documentElement.scrollHeight);
      console.info(`list of ${RUNS} runs at 390 px: ${height} px tall`);
      await shot(page, `list-390-${dark ? 'dark' : 'light'}`);
      await page.context().close();
    }
  });

  it('a run fits a 390 px phone, and a 768 px tablet where tables stay tables', async () => {
    for (const width of [390, 768]) {
      const page = await open(`/admin/runs/${deadRunId}`, { width });
      expect(await scrollWidth(page)).toBeLessThanOrEqual(width);
      await shot(page, `run-${width}`);
      await page.context().close();
    }
  });

  it('dark mode follows prefers-color-scheme', async () => {
    const background = async (dark: boolean) => {
      const page = await open('/admin', { dark });
      const colours = await page.evaluate(() => ({ body: getComputedStyle(document.body).backgroundColor, table: getComputedStyle(document.querySelector('table')!).backgroundColor }));
      await shot(page, `list-desktop-${dark ? 'dark' : 'light'}`);
      await page.context().close();
      return colours;
    };
    const light = await background(false);
    const dark = await background(true);
    expect(light.body).toBe('rgb(246, 247, 249)');
    expect(dark.body).not.toBe(light.body);
    expect(dark.table).not.toBe(light.table);
    // Dark means dark: every channel of the page background under 64.
    expect(dark.body.match(/\d+/g)!.map(Number).every((c) => c < 64)).toBe(true);
  });

  it('serves a favicon the page links', async () => {
    const page = await open('/admin');
    expect(await page.getAttribute('link[rel=icon]', 'href')).toBe('/admin/favicon.svg');
    const icon = await page.request.get(`${service.baseUrl}/admin/favicon.svg`);
    expect(icon.status()).toBe(200);
    expect(icon.headers()['content-type']).toMatch(/^image\/svg\+xml/);
    expect(await icon.text()).toContain('<svg');
    await page.context().close();
  });

  it("a failed step shows the vendor's status, method, URL and answer; a skipped step no time", async () => {
    const page = await open(`/admin/runs/${deadRunId}`, { width: 1280 });
    const evidence = page.locator('.evidence');
    expect(await evidence.locator('.vendor-status').textContent()).toBe('HTTP 422');
    expect(await evidence.locator('code').first().textContent()).toBe(`POST ${receiver.url}/crm/v3/objects/contacts`);
    expect(await evidence.locator('details.json[open] pre').textContent()).toContain('"request_id": "vendor-req-7"');
    expect(await page.textContent('.grid')).toMatch(/Delivered\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s*request id \S+/);

    const skipped = page.locator('table.steps tbody tr', { hasText: 'only_for_call_zero' });
    expect(await skipped.locator('.badge.skipped').count()).toBe(1);
    expect(await skipped.locator('td[data-label=Started]').textContent()).toBe('');
    expect(await skipped.locator('td[data-label=Took]').textContent()).toBe('');
    expect(await skipped.textContent()).not.toContain('0 ms');
    await shot(page, 'run-desktop');
    await page.context().close();
  });

  it('aligns the action buttons: one height, one line', async () => {
    const page = await open(`/admin/runs/${deadRunId}`);
    const boxes = await page.locator('.actions > *').evaluateAll((els) => els.map((e) => e.getBoundingClientRect()).map((r) => ({ top: r.top, height: r.height })));
    expect(boxes.length).toBeGreaterThanOrEqual(3); // retry (a form), re-run and two downloads (links)
    expect(new Set(boxes.map((b) => Math.round(b.top))).size).toBe(1);
    expect(new Set(boxes.map((b) => Math.round(b.height))).size).toBe(1);
    await page.context().close();
  });

  it('the JSON viewer gets a working copy button from the same-origin script, and no CSP violation', async () => {
    const page = await open(`/admin/runs/${deadRunId}`);
    await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: service.baseUrl });
    const viewer = page.locator('.evidence details.json');
    await viewer.locator('button.copy').click();
    await expect.poll(() => viewer.locator('button.copy').textContent()).toBe('Copied');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toContain('"error": "missing field \\"email\\""');
    expect(cspErrors).toEqual([]);
    await page.context().close();
  });
});
