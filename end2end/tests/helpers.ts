import { expect, Page } from '@playwright/test';
import { createServer } from 'node:net';

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
