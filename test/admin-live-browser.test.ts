// The admin pages' live poll (ADMIN_JS + liveControl) in real headless Chromium, under the admin
// CSP from ADMIN_CSP_DIRECTIVES (trusted types, one policy): a tiny local server renders a page
// whose regions change on every request (a counter), per named client, in a mode the test sets
// (ok, redirect to login, 500, dropped connection, final). "A few intervals" is measured by
// counts, never by the clock: a second page ("clock") polls the same server with the same
// interval, and the test waits for its request count to grow. Screenshot: live-control.png.
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { join } from 'node:path';
import express from 'express';
import helmet from 'helmet';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_JS, FAVICON_SVG, LIVE_PAUSED_KEY } from '../src/http/admin/assets.js';
import { ADMIN_CSP_DIRECTIVES } from '../src/http/admin/content-security-policy.js';
import { html } from '../src/http/admin/html.js';
import { ADMIN_CSS } from '../src/http/admin/stylesheet.js';
import { jsonViewer, layout } from '../src/http/admin/views/layout.js';
import { LIVE_CSS, liveControl } from '../src/http/admin/views/live-control.js';
import { HAS_CHROMIUM, launchChromium, SCREENSHOTS } from './support/browser.js';

const INTERVAL = 200;
type Mode = 'ok' | 'login' | 'error' | 'drop' | 'final';
interface Client {
  requests: number;
  /** Requests that carried x-aftercall-live: 1 (the poll's, not a navigation). */
  liveRequests: number;
  mode: Mode;
}

// The light palette of stylesheet.ts: --ok, --muted, --bad.
const GREEN = 'rgb(19, 115, 51)';
const GREY = 'rgb(95, 107, 122)';
const RED = 'rgb(179, 38, 30)';

/** The page of request `n`: two regions, details in an order that changes with n, a JSON viewer. */
function livePage(n: number, options: { final?: boolean; control?: 'live' | 'final' | 'none' } = {}): string {
  const final = options.final ? html` data-live-final` : '';
  const more = html`<details class="more"><summary>More</summary><p>Request ${n}</p></details>`;
  const keyed = html`<details class="keyed" data-key="run-7"><summary>Run 7</summary><p>Run 7 at request ${n}</p></details>`;
  const control = options.control ?? 'live';
  return layout(
    `Runs ${n}`,
    html`<h1>Live test</h1>
${control === 'none' ? '' : liveControl({ intervalMs: INTERVAL, final: control === 'final' })}
<div data-live-region="runs"${final}>
  <p class="counter">${n}</p>
  ${n % 2 ? [more, keyed] : [keyed, more]}
  ${jsonViewer('Payload', { request: n, lines: ['a', 'b'] })}
  <details class="evidence" open><summary>Evidence</summary><p>open by default</p></details>
</div>
<div data-live-region="selection"${final}>
  <p class="selection-counter">${n}</p>
  <label><input type="checkbox" name="run" value="7"> Run 7</label>
  <label>Note <input type="text" name="note"></label>
</div>`,
  );
}

describe.skipIf(!HAS_CHROMIUM)('live updates of the admin pages in Chromium', () => {
  let browser: Browser;
  let server: Server;
  let baseUrl: string;
  const clients = new Map<string, Client>();
  /** CSP / Trusted Types console messages and page errors of every page (but the deliberate violation's). */
  const problems: string[] = [];
  let clock: Page;

  const client = (name: string): Client => {
    let c = clients.get(name);
    if (!c) clients.set(name, (c = { requests: 0, liveRequests: 0, mode: 'ok' }));
    return c;
  };
  const requests = (name: string) => client(name).requests;

  /** Waits until the clock page has polled `k` more times: k intervals have passed in the browser. */
  async function intervals(k: number): Promise<void> {
    const start = requests('clock');
    await expect.poll(() => requests('clock'), { timeout: 20_000, interval: 20 }).toBeGreaterThanOrEqual(start + k);
  }

  async function open(
    path: string,
    options: { javaScript?: boolean; init?: () => void; record?: boolean } = {},
  ): Promise<{ page: Page; context: BrowserContext; messages: string[] }> {
    const context = await browser.newContext({ viewport: { width: 1000, height: 700 }, colorScheme: 'light', javaScriptEnabled: options.javaScript ?? true });
    if (options.init) await context.addInitScript(options.init);
    const page = await context.newPage();
    const messages: string[] = [];
    const record = options.record ?? true;
    page.on('console', (m) => {
      const text = m.text();
      messages.push(`${m.type()}: ${text}`);
      // The browser's own network notes (a 500, a dropped connection) are expected where a test provokes them.
      if (record && (/Content.Security.Policy|Trusted.?Type/i.test(text) || (m.type() === 'error' && !/^Failed to load resource/.test(text)))) {
        problems.push(`${path}: ${text}`);
      }
    });
    page.on('pageerror', (error) => {
      messages.push(`pageerror: ${error.message}`);
      if (record) problems.push(`${path}: ${error.message}`);
    });
    await page.goto(`${baseUrl}${path}`);
    return { page, context, messages };
  }
  const text = (page: Page, selector: string) => page.locator(selector).first().textContent();
  const status = (page: Page) => text(page, '.live-status');
  const dotColour = (page: Page) => page.locator('.live-dot').evaluate((e) => getComputedStyle(e).backgroundColor);
  const counter = async (page: Page, selector = '.counter') => Number(await text(page, selector));
  /** Waits until the page's counter has moved past `than` (the page swapped in a newer region). */
  const counterPast = (page: Page, than: number, selector = '.counter') =>
    expect.poll(() => counter(page, selector), { timeout: 10_000, interval: 20 }).toBeGreaterThan(than);

  beforeAll(async () => {
    const app = express();
    app.use(helmet({ contentSecurityPolicy: { directives: ADMIN_CSP_DIRECTIVES }, referrerPolicy: { policy: 'same-origin' } }));
    app.use((_req, res, next) => {
      res.setHeader('cache-control', 'no-store');
      next();
    });
    app.get('/admin/assets/admin.js', (_req, res) => void res.type('text/javascript').send(ADMIN_JS));
    app.get('/admin/assets/admin.css', (_req, res) => void res.type('text/css').send(ADMIN_CSS + LIVE_CSS));
    app.get('/admin/favicon.svg', (_req, res) => void res.type('image/svg+xml').send(FAVICON_SVG));
    // A second script that tries what only admin.js may do: proves the CSP's trusted-types list is in force.
    app.get('/admin/assets/violate.js', (_req, res) =>
      void res.type('text/javascript').send(`'use strict';
['other', 'aftercall-live'].forEach(function (name) {
  try { window.trustedTypes.createPolicy(name, { createHTML: function (s) { return s; } }); document.body.setAttribute('data-created-' + name, ''); }
  catch (error) { document.body.setAttribute('data-refused-' + name, ''); }
});`),
    );
    app.get('/admin/login', (_req, res) => void res.type('html').send(layout('Log in', html`<h1>Log in</h1><p class="login">Log in again</p>`)));
    app.get('/admin/violate', (_req, res) =>
      void res.type('html').send(livePage(1).replace('</head>', '<script src="/admin/assets/violate.js" defer></script>\n</head>')),
    );
    app.get('/admin/:kind/:name', (req, res) => {
      const c = client(req.params.name);
      c.requests++;
      if (req.get('x-aftercall-live') === '1') c.liveRequests++;
      if (c.mode === 'login') return res.redirect(302, '/admin/login');
      if (c.mode === 'error') return void res.status(500).type('html').send('<h1>Internal error</h1>');
      if (c.mode === 'drop') return void req.socket.destroy();
      const control = req.params.kind === 'static' ? 'none' : req.params.kind === 'finished' ? 'final' : 'live';
      res.type('html').send(livePage(c.requests, { final: c.mode === 'final', control }));
    });
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
    clock = (await open('/admin/live/clock')).page;
    for (const deadline = Date.now() + 15_000; requests('clock') < 3; ) {
      if (Date.now() > deadline) throw new Error('the clock page does not poll');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

  });

  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });

  it('swaps the regions in on every interval and says Live; the title and the details are kept, the JSON viewer gets its Copy button', async () => {
    const { page, context } = await open('/admin/live/updates');
    await counterPast(page, 3);
    expect(await counter(page, '.selection-counter')).toBeGreaterThan(3);
    expect(await status(page)).toMatch(/^Live · updated \d\d:\d\d:\d\d$/);
    expect(await page.getAttribute('.live-control', 'data-live-state')).toBe('live');
    expect(await dotColour(page)).toBe(GREEN);
    expect(await page.isVisible('.live-toggle')).toBe(true);
    expect(await text(page, '.live-toggle')).toBe('Pause');
    // The poll's requests are marked; the document's title stays the one it loaded with.
    expect(client('updates').liveRequests).toBeGreaterThanOrEqual(3);
    expect(await page.title()).toBe('Runs 1 · aftercall');
    // The swapped-in region was enhanced once: one Copy button on its viewer, none doubled.
    expect(await page.locator('[data-live-region=runs] details.json button.copy').count()).toBe(1);
    expect(await page.locator('button.copy').count()).toBe(1);
    await page.locator('.live-control').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SCREENSHOTS, 'live-control.png'), fullPage: true });
    await context.close();
  });

  it('without scripts the control says "Reload for updates", hides its button and nothing polls', async () => {
    const { page, context } = await open('/admin/live/noscript', { javaScript: false });
    expect(await status(page)).toBe('Reload for updates');
    expect(await page.isVisible('.live-toggle')).toBe(false);
    await intervals(5);
    expect(requests('noscript')).toBe(1);
    await context.close();
  });

  it('Pause stops the poll, survives a reload, and Resume starts it again', async () => {
    const name = 'pause';
    const { page, context } = await open(`/admin/live/${name}`);
    await counterPast(page, 2);
    await page.click('.live-toggle');
    expect(await status(page)).toBe('Paused');
    expect(await text(page, '.live-toggle')).toBe('Resume');
    expect(await page.getAttribute('.live-control', 'data-live-state')).toBe('paused');
    expect(await dotColour(page)).toBe(GREY);
    await intervals(2); // an answer already on its way when Pause was clicked has arrived (and was dropped)
    const paused = requests(name);
    const shown = await counter(page);
    await intervals(6);
    expect(requests(name)).toBe(paused);
    expect(await counter(page)).toBe(shown);

    await page.reload();
    expect(requests(name)).toBe(paused + 1); // the reload itself
    expect(await status(page)).toBe('Paused');
    expect(await text(page, '.live-toggle')).toBe('Resume');
    expect(await page.evaluate((key) => sessionStorage.getItem(key), LIVE_PAUSED_KEY)).toBe('1');
    await intervals(6);
    expect(requests(name)).toBe(paused + 1);

    await page.click('.live-toggle');
    expect(await text(page, '.live-toggle')).toBe('Pause');
    await counterPast(page, paused + 2);
    expect(await status(page)).toMatch(/^Live · updated /);
    expect(await page.evaluate((key) => sessionStorage.getItem(key), LIVE_PAUSED_KEY)).toBeNull();
    await context.close();
  });

  it('keeps open details open (by data-key, else by position) and closed ones closed across swaps', async () => {
    const { page, context } = await open('/admin/live/details');
    await page.click('details.more summary');
    await page.click('details.keyed summary');
    await page.click('details.evidence summary'); // open by default: the operator closes it
    await page.click('h1'); // focus leaves the region, so it may be swapped again
    const before = await counter(page);
    await counterPast(page, before + 2); // the keyed details changed place at least twice
    // One read of the page, between two swaps.
    const state = await page.evaluate(() => {
      const region = document.querySelector('[data-live-region=runs]')!;
      return {
        open: ['more', 'keyed', 'evidence', 'json'].map((c) => (region.querySelector(`details.${c}`) as HTMLDetailsElement).open),
        counter: region.querySelector('.counter')!.textContent,
        more: region.querySelector('details.more p')!.textContent,
      };
    });
    expect(state.open).toEqual([true, true, false, false]);
    // The region really is a new one, with the new request's text inside the open details.
    expect(state.more).toBe(`Request ${state.counter}`);
    await context.close();
  });

  it('leaves a region alone while it has a checked checkbox or the focus, and says so', async () => {
    const { page, context } = await open('/admin/live/select');
    await page.check('[data-live-region=selection] input[type=checkbox]');
    await page.click('h1'); // not the focus: the checked box alone holds the region
    const held = await counter(page, '.selection-counter');
    await counterPast(page, held + 2);
    expect(await counter(page, '.selection-counter')).toBe(held);
    expect(await page.isChecked('[data-live-region=selection] input[type=checkbox]')).toBe(true);
    expect(await status(page)).toBe('Paused while you select');
    expect(await dotColour(page)).toBe(GREY);

    await page.uncheck('[data-live-region=selection] input[type=checkbox]');
    await page.click('h1');
    await counterPast(page, held, '.selection-counter');
    await expect.poll(() => status(page), { timeout: 10_000, interval: 20 }).toMatch(/^Live · updated /);

    await page.fill('[data-live-region=selection] input[name=note]', 'typing');
    const typing = await counter(page, '.selection-counter');
    await counterPast(page, (await counter(page)) + 2);
    expect(await counter(page, '.selection-counter')).toBe(typing);
    expect(await page.inputValue('[data-live-region=selection] input[name=note]')).toBe('typing');
    expect(await status(page)).toBe('Paused while you select');
    await context.close();
  });

  it('a redirect to /admin/login ends the poll: "Session ended — reload"', async () => {
    const name = 'logout';
    const { page, context } = await open(`/admin/live/${name}`);
    await counterPast(page, 2);
    client(name).mode = 'login';
    await expect.poll(() => status(page), { timeout: 10_000, interval: 20 }).toBe('Session ended — reload');
    expect(await page.getAttribute('.live-control', 'data-live-state')).toBe('ended');
    expect(await dotColour(page)).toBe(RED);
    expect(await page.isVisible('.live-toggle')).toBe(false);
    const ended = requests(name);
    await intervals(6);
    expect(requests(name)).toBe(ended);
    expect(await page.locator('.login').count()).toBe(0); // the login page was not swapped in anywhere
    await context.close();
  });

  it('a server error shows "Offline — retrying", backs off, and recovers on the next answer', async () => {
    const name = 'errors';
    const { page, context } = await open(`/admin/live/${name}`);
    await counterPast(page, 2);
    client(name).mode = 'error';
    await expect.poll(() => status(page), { timeout: 10_000, interval: 20 }).toBe('Offline — retrying');
    expect(await page.getAttribute('.live-control', 'data-live-state')).toBe('offline');
    expect(await dotColour(page)).toBe(RED);
    const failing = requests(name);
    await intervals(15);
    // Doubling from 200 ms (400, 800, 1600, 3200 …): a handful of tries where the clock made 15.
    expect(requests(name) - failing).toBeLessThanOrEqual(6);
    client(name).mode = 'ok';
    await expect.poll(() => status(page), { timeout: 20_000, interval: 20 }).toMatch(/^Live · updated /);
    // Back to the base interval: about as many polls as the clock again.
    const recovered = requests(name);
    await intervals(10);
    expect(requests(name) - recovered).toBeGreaterThanOrEqual(6);
    await context.close();
  });

  it('a dropped connection (network error) shows "Offline — retrying" too', async () => {
    const name = 'network';
    const { page, context } = await open(`/admin/live/${name}`);
    await counterPast(page, 2);
    client(name).mode = 'drop';
    await expect.poll(() => status(page), { timeout: 10_000, interval: 20 }).toBe('Offline — retrying');
    client(name).mode = 'ok';
    await expect.poll(() => status(page), { timeout: 20_000, interval: 20 }).toMatch(/^Live · updated /);
    await context.close();
  });

  it('stops when every region carries data-live-final ("Final"); a final control never polls', async () => {
    const name = 'final';
    const { page, context } = await open(`/admin/live/${name}`);
    await counterPast(page, 2);
    client(name).mode = 'final';
    await expect.poll(() => status(page), { timeout: 10_000, interval: 20 }).toBe('Final');
    expect(await page.getAttribute('.live-control', 'data-live-state')).toBe('final');
    expect(await page.isVisible('.live-toggle')).toBe(false);
    expect(await page.locator('[data-live-region][data-live-final]').count()).toBe(2);
    const final = requests(name);
    await intervals(6);
    expect(requests(name)).toBe(final);
    await context.close();

    const finished = await open('/admin/finished/finished-run');
    expect(await status(finished.page)).toBe('Final · this page will not change');
    await intervals(6);
    expect(requests('finished-run')).toBe(1);
    await finished.context.close();
  });

  it('polls nothing on a page without a .live-control, and still adds the Copy buttons', async () => {
    const { page, context } = await open('/admin/static/plain');
    expect(await page.locator('details.json button.copy').count()).toBe(1);
    await intervals(6);
    expect(requests('plain')).toBe(1);
    await context.close();
  });

  it('does not poll a hidden tab, and polls again as soon as it is visible', async () => {
    const name = 'hidden';
    const { page, context } = await open(`/admin/live/${name}`, {
      init: () => {
        let visibility: DocumentVisibilityState = 'visible';
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => visibility });
        Object.defineProperty(window, 'setTabVisibility', {
          value: (next: DocumentVisibilityState) => {
            visibility = next;
            document.dispatchEvent(new Event('visibilitychange'));
          },
        });
      },
    });
    await counterPast(page, 2);
    await page.evaluate(() => (window as unknown as { setTabVisibility(v: string): void }).setTabVisibility('hidden'));
    await intervals(2);
    const hidden = requests(name);
    await intervals(6);
    expect(requests(name)).toBe(hidden);
    await page.evaluate(() => (window as unknown as { setTabVisibility(v: string): void }).setTabVisibility('visible'));
    await counterPast(page, hidden); // the page shows the answer to the poll made on becoming visible
    expect(requests(name)).toBeGreaterThan(hidden);
    await context.close();
  });

  it('works when sessionStorage throws: it polls, and Pause still pauses this page', async () => {
    const name = 'no-storage';
    const { page, context } = await open(`/admin/live/${name}`, {
      init: () => {
        const refuse = () => {
          throw new DOMException('storage is off', 'SecurityError');
        };
        Object.defineProperty(window, 'sessionStorage', { configurable: true, get: refuse });
      },
    });
    await counterPast(page, 2);
    await page.click('.live-toggle');
    expect(await status(page)).toBe('Paused');
    await intervals(2);
    const paused = requests(name);
    await intervals(6);
    expect(requests(name)).toBe(paused);
    await context.close();
  });

  it('the CSP allows the one "aftercall-live" policy, once: another name or a second one is refused', async () => {
    const { page, context, messages } = await open('/admin/violate', { record: false });
    await expect.poll(() => page.evaluate(() => document.body.getAttributeNames().filter((n) => /^data-(created|refused)-/.test(n)).sort())).toEqual([
      'data-refused-aftercall-live',
      'data-refused-other',
    ]);
    // The collector sees such violations: the check below would catch one of admin.js.
    expect(messages.some((m) => /trusted-types aftercall-live/.test(m))).toBe(true);
    await context.close();
  });

  it('gave no Content-Security-Policy or Trusted Types error, no console error and no page error', async () => {
    expect(requests('clock')).toBeGreaterThan(10);
    expect(await status(clock)).toMatch(/^Live · updated /); // the page polling all along is still live
    expect(problems).toEqual([]);
  });
});
