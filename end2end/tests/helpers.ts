import { expect, Page } from '@playwright/test';
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const DEMO_EMAIL = 'demo@example.com';
export const DEMO_PASSWORD = 'demo-billing-2026';

/** Waits until the WASM bundle has taken over the server-rendered page
 * (longer on a server's first page, which also loads and compiles the
 * bundle). */
export async function waitForHydration(page: Page, timeout?: number) {
  await expect(page.locator('#app')).toHaveAttribute('data-hydrated', 'true', { timeout });
}

/** Signs in through the form; `hydrated` says whether to wait for WASM first. */
export async function signIn(page: Page, opts: { hydrated: boolean; next?: string; password?: string } ) {
  const target = opts.next ? `signin?next=${encodeURIComponent(opts.next)}` : 'signin';
  await page.goto(target);
  if (opts.hydrated) await waitForHydration(page);
  await page.getByLabel('Email').fill(DEMO_EMAIL);
  await page.getByLabel('Password').fill(opts.password ?? DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  // With the right password, wait until the session cookie is set and the
  // browser has left the sign-in page.
  if (!opts.password) await expect(page).not.toHaveURL(/\/signin/);
}

/** Opens a tab of the Acme primary group from the account's Billing list. */
export async function openPrimaryGroup(page: Page, tab: string) {
  await page.goto('projects');
  await page.getByRole('link', { name: 'Acme Analytics', exact: true }).click();
  await page.getByRole('link', { name: 'Acme Analytics billing' }).click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Acme Analytics billing');
  await page.getByRole('navigation', { name: 'Billing group' }).getByRole('link', { name: tab, exact: true }).click();
}

/** A free TCP port on loopback, for a server a spec starts itself. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** The instant the server and its commands run at: the test clock's file
 * (.ci/e2e.sh sets TEST_CLOCK_FILE), or the real time without one. */
export function testNow(): Date {
  const file = process.env.TEST_CLOCK_FILE;
  if (!file) return new Date();
  return new Date(readFileSync(file, 'utf8').trim());
}

/** Moves the test clock (server and commands) to `instant`. */
export function setTestClock(instant: string) {
  const file = process.env.TEST_CLOCK_FILE;
  if (!file) throw new Error('TEST_CLOCK_FILE is not set (run through .ci/e2e.sh)');
  // Written beside it, then renamed over it: the server never reads a
  // half-written file.
  writeFileSync(`${file}.next`, `${instant}\n`);
  renameSync(`${file}.next`, file);
}

/** A server of a spec's own on a fresh SQLite database with demo data, at
 * `clock` (an RFC 3339 instant) or on the suite's clock. */
export async function startDemoServer(
  name: string,
  clock?: string,
): Promise<{ server: ChildProcess; base: string }> {
  const bin = process.env.BILLING_BIN ?? '';
  if (!bin) throw new Error('BILLING_BIN is not set (run through .ci/test.sh)');
  const dir = mkdtempSync(path.join(tmpdir(), `bc-${name}-`));
  writeFileSync(path.join(dir, 'clock'), clock ?? testNow().toISOString());
  const port = await freePort();
  const server = spawn(bin, ['serve'], {
    cwd: path.resolve(__dirname, '..', '..'),
    env: {
      ...process.env,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT ?? 'target/site-test',
      DATABASE_URL: `sqlite://${dir}/${name}.db`,
      BILLING_DEMO: 'true',
      MONTH_CLOSE_SCHEDULED: 'false',
      TEST_CLOCK_FILE: path.join(dir, 'clock'),
      PUBLIC_URL: '',
      BASE_PATH: '',
      SMTP_URL: '',
    },
    stdio: 'ignore',
  });
  const base = `http://127.0.0.1:${port}/`;
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`${base}healthz`)).ok) return { server, base };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  server.kill();
  throw new Error(`the ${name} server did not become healthy`);
}

/** Moves the test clock `seconds` forward: what a frozen clock needs for a
 * started hour to show (an hour is billed once it has begun, and at the
 * instant a service starts none has). */
export function advanceTestClock(seconds: number) {
  setTestClock(new Date(testNow().getTime() + seconds * 1000).toISOString());
}
