import { expect, test } from '@playwright/test';
import { DEMO_EMAIL, openPrimaryGroup, signIn, waitForHydration } from './helpers';

test.describe('with JavaScript', () => {
  test('signed-out visitors go to sign-in and come back where they were', async ({ page }) => {
    await page.goto('projects');
    await expect(page).toHaveURL(/\/signin\?next=%2Fprojects|\/signin\?next=\/projects/);
    await waitForHydration(page);
    await page.getByLabel('Email').fill(DEMO_EMAIL);
    await page.getByLabel('Password').fill('demo-billing-2026');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/projects$/);
    await expect(page.getByRole('heading', { name: 'Projects & accounts' })).toBeVisible();
  });

  test('a wrong password gets one generic message', async ({ page }) => {
    await signIn(page, { hydrated: true, password: 'not-the-password' });
    await expect(page.getByRole('alert')).toHaveText('Wrong email or password.');
    await expect(page).toHaveURL(/\/signin/);
  });

  test('See all projects & accounts lists both demo accounts and their projects', async ({ page }) => {
    await signIn(page, { hydrated: true });
    // "/" opens the current project; its menu in the top bar leads to the list.
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('acme-analytics');
    await waitForHydration(page);
    await page.getByText('Project: acme-analytics').click();
    await page.getByRole('link', { name: 'See all projects & accounts' }).click();
    await expect(page).toHaveURL(/\/projects$/);

    const acme = page.getByRole('region', { name: 'Acme Analytics' });
    const globex = page.getByRole('region', { name: 'Globex Logistics' });
    await expect(acme).toBeVisible();
    await expect(globex).toBeVisible();
    for (const project of ['acme-prod', 'acme-staging', 'acme-analytics', 'acme-ml-lab', 'acme-sandbox']) {
      await expect(acme.getByRole('link', { name: project, exact: true })).toBeVisible();
    }
    for (const project of ['globex-fleet', 'globex-routing', 'globex-web']) {
      await expect(globex.getByRole('link', { name: project, exact: true })).toBeVisible();
    }
    // Each project shows its billing group; the primary one is marked.
    const mlLab = acme.getByRole('row', { name: /acme-ml-lab/ });
    await expect(mlLab).toContainText('Research & Development');
    const prod = acme.getByRole('row', { name: /acme-prod/ });
    await expect(prod).toContainText('Acme Analytics billing');
    await expect(prod).toContainText('Primary');

    // A project page, reached by a client-side link.
    await acme.getByRole('link', { name: 'acme-prod', exact: true }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('acme-prod');
    await expect(page.getByRole('cell', { name: 'pg-orders', exact: true })).toBeVisible();
  });

  test('pages hydrate under the Content-Security-Policy without a violation', async ({ page }) => {
    const violations: string[] = [];
    page.on('console', (message) => {
      if (message.text().includes('Content Security Policy')) violations.push(message.text());
    });
    const response = await page.goto('signin');
    expect(response?.headers()['content-security-policy']).toMatch(/script-src 'self' 'nonce-[^']+' 'wasm-unsafe-eval'/);
    await signIn(page, { hydrated: true });
    await page.goto('projects');
    await page.getByRole('link', { name: 'Acme Analytics', exact: true }).click();
    await page.getByRole('link', { name: 'Acme Analytics billing' }).click();
    await waitForHydration(page);
    await expect(page.getByRole('img', { name: /Cost this month by day/ })).toBeVisible();
    expect(violations).toEqual([]);
  });

  test('every request the browser makes stays under the base path', async ({ page, baseURL }) => {
    // At the root this holds trivially; behind the proxy at /billing/
    // (.ci/deploy-test.sh) it catches links, assets, server-function calls
    // and redirects that forget the base.
    const base = new URL(baseURL!);
    const outside: string[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.origin === base.origin && !url.pathname.startsWith(base.pathname)) outside.push(url.pathname);
    });
    await signIn(page, { hydrated: true });
    await openPrimaryGroup(page, 'Projects');
    await waitForHydration(page);
    await page.getByRole('navigation', { name: 'Billing group' }).getByRole('link', { name: 'Events', exact: true }).click();
    await expect(page.getByRole('table')).toBeVisible();
    // Sign out: a server function whose redirect must land under the base.
    await page.getByLabel('User menu').click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(new RegExp(`^${base.origin}${base.pathname}signin`));
    expect(outside).toEqual([]);
  });

  test('signing out ends the session', async ({ page }) => {
    await signIn(page, { hydrated: true });
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('acme-analytics');
    await waitForHydration(page);
    await page.getByText(DEMO_EMAIL).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/signin/);
    await page.goto('projects');
    await expect(page).toHaveURL(/\/signin\?next=/);
  });
});

test.describe('with JavaScript off', () => {
  test.use({ javaScriptEnabled: false });

  test('sign in and see all projects & accounts as plain HTML', async ({ page }) => {
    await signIn(page, { hydrated: false, next: '/projects' });
    await expect(page).toHaveURL(/\/projects$/);
    await expect(page.getByRole('heading', { name: 'Projects & accounts' })).toBeVisible();
    await expect(page.getByRole('region', { name: 'Acme Analytics' })).toBeVisible();
    await expect(page.getByRole('region', { name: 'Globex Logistics' })).toBeVisible();
    await expect(page.getByRole('link', { name: 'globex-fleet', exact: true })).toBeVisible();
    // The top-bar menu opens without JavaScript too.
    await page.getByText('Project: acme-analytics').click();
    await expect(page.getByRole('link', { name: 'See all projects & accounts' })).toBeVisible();
  });

  test('a wrong password shows the message after a plain form post', async ({ page }) => {
    await signIn(page, { hydrated: false, password: 'not-the-password' });
    await expect(page.getByRole('alert')).toHaveText('Wrong email or password.');
  });
});

test.describe('not found', () => {
  test('an unknown route is a real 404 page', async ({ page }) => {
    const response = await page.goto('no-such-page');
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  });

  test('a project of no account of yours is not found, with status 404', async ({ page }) => {
    await signIn(page, { hydrated: false });
    const response = await page.goto('project/no-such-project');
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  });
});
