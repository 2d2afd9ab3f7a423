// Debian's Chromium driven by playwright-core (never a downloaded browser). `.ci/run` installs
// the package; where it is missing the browser tests skip with a loud reason.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Cookie } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);
export const SCREENSHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'screenshots');

if (!HAS_CHROMIUM) {
  console.warn(`\n!!! ${CHROMIUM} not found: browser tests are SKIPPED. Install it with: apt-get install -y chromium\n`);
}

export async function launchChromium(): Promise<Browser> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Logs in to the Runs page with the admin token and gives the session's cookies, for new contexts. */
export async function adminCookies(browser: Browser, baseUrl: string, token: string): Promise<Cookie[]> {
  const login = await browser.newPage();
  try {
    await login.goto(`${baseUrl}/admin/login`);
    await login.fill('input[name=token]', token);
    await login.click('button[type=submit]');
    await login.waitForURL(`${baseUrl}/admin`);
    return await login.context().cookies();
  } finally {
    await login.context().close();
  }
}
