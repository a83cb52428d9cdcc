import { expect, Page, test } from '@playwright/test';
import { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { DEMO_EMAIL, DEMO_PASSWORD, startDemoServer, waitForHydration } from './helpers';

// Visual checks (issue 19): the main pages compared with their committed
// images at desktop and phone widths. A server of its own runs the demo
// data on a fixed clock so the figures, the chart and the dates are the
// same on every run; what the seed draws at random (invoice numbers,
// credit codes) is masked, in the pictures in docs/ too. A changed page fails with a diff image under
// end2end/test-results (the CI log names it). Each run also refreshes
// docs/screenshots/, the README's pictures of the console.
//   Update the images after an intended change:
//   (cd end2end && npx playwright test tests/visual.spec.ts --update-snapshots)
const ROOT = path.resolve(__dirname, '..', '..');
const CLOCK = '2026-11-16T10:00:00Z';
const WIDTHS = [1280, 360];

/** Compares the page at each width, and refreshes its picture in docs/. */
async function check(page: Page, name: string, mask: () => ReturnType<Page['locator']>[]) {
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: 900 });
    await page.evaluate(() => document.fonts.ready);
    // What the seed draws at random is painted over in a quiet grey, so
    // the pictures in docs/ stay the same from run to run too.
    const options = {
      fullPage: true,
      mask: mask(),
      maskColor: '#dfe3ea',
      animations: 'disabled' as const,
      caret: 'hide' as const,
    };
    await expect(page).toHaveScreenshot(`${name}-${width}.png`, { ...options, maxDiffPixelRatio: 0.01 });
    await page.screenshot({ ...options, path: path.join(ROOT, 'docs', 'screenshots', `${name}-${width}.png`) });
  }
}

test.describe('visual @visual', () => {
  let demo: { server: ChildProcess; base: string };
  test.beforeAll(async () => {
    demo = await startDemoServer('visual', CLOCK);
  });
  test.afterAll(() => {
    demo?.server.kill();
  });

  test('the main pages look as they did', async ({ page }) => {
    test.setTimeout(240_000);
    await page.goto(`${demo.base}signin`);
    await waitForHydration(page, 30_000);
    await check(page, 'sign-in', () => []);

    await page.getByLabel('Email').fill(DEMO_EMAIL);
    await page.getByLabel('Password').fill(DEMO_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).not.toHaveURL(/\/signin/);
    await page.goto(`${demo.base}projects`);
    await waitForHydration(page);
    await check(page, 'projects-and-accounts', () => [page.locator('.account-id')]);

    await page.getByRole('link', { name: 'Acme Analytics', exact: true }).click();
    await expect(page).toHaveURL(/\/account\/[^/]+\/billing$/);
    const account = page.url();
    await page.getByRole('link', { name: 'Acme Analytics billing' }).click();
    await expect(page.getByRole('img', { name: /Cost this month by day/ })).toBeVisible();
    const group = page.url().replace(/\/$/, '');
    // The budget job's first run (at start-up) records the demo's forecast
    // alert; the picture is of the page after it.
    await expect(async () => {
      await page.reload();
      await expect(page.getByText('Alerts this month: 50 % forecast.')).toBeVisible({ timeout: 1_000 });
    }).toPass({ timeout: 60_000 });
    await waitForHydration(page);
    const randomOnOverview = () => [
      page.getByRole('table', { name: 'Invoices' }).locator('td:first-child a'),
      page.getByRole('table', { name: 'Applied credits' }).locator('td:first-child, td:nth-child(3)'),
      // The budget job's next run: when the job first ran.
      page.locator('.next-evaluation time'),
    ];
    await check(page, 'group-overview', randomOnOverview);

    await page
      .getByRole('table', { name: 'Invoices' })
      .getByRole('link', { name: /^[0-9A-F]{12}-\d{4}$/ })
      .first()
      .click();
    await expect(page.getByRole('table', { name: 'Invoice lines' })).toBeVisible();
    await waitForHydration(page);
    await check(page, 'invoice', () => [
      // The heading holds the number; its whole row keeps one size.
      page.locator('header.page-header'),
      page.getByRole('table', { name: 'Invoice lines' }).getByRole('row').filter({ hasText: /credit/i }),
      // The payment reference is made from the number.
      page.locator('dd.mono').last(),
    ]);

    // Issue 28: the group's other money pages, a refused save, and the
    // account's overview and invoice list.
    const invoiceNumbers = () => [
      page.getByRole('table', { name: 'Invoices' }).locator('a.invoice-number'),
      page.locator('a[href*="/credit-notes/"]'),
    ];
    await page.goto(`${group}/projects`);
    await waitForHydration(page);
    await check(page, 'group-projects', () => []);
    await page.goto(`${group}/invoices`);
    await waitForHydration(page);
    await check(page, 'group-invoices', invoiceNumbers);
    await page.goto(`${group}/billing-information`);
    await waitForHydration(page);
    await page.getByLabel('VAT ID').fill('FI123');
    await page.getByRole('button', { name: 'Save billing information' }).click();
    await expect(page.locator('.error-summary')).toBeFocused();
    await check(page, 'group-billing-information-refused', () => []);
    await page.goto(account);
    await waitForHydration(page);
    await check(page, 'account-billing', invoiceNumbers);
    await page.goto(account.replace(/\/billing$/, '/invoices'));
    await waitForHydration(page);
    await check(page, 'account-invoices', invoiceNumbers);
  });
});
