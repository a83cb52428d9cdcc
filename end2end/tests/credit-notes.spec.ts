import { expect, test, type Page } from '@playwright/test';
import { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { DEMO_EMAIL, DEMO_PASSWORD, startDemoServer, waitForHydration } from './helpers';

// Corrections of an issued invoice (issue 27): a credit note by line, with
// a decimal comma, and void and reissue — from the invoice's page, with
// JavaScript and with plain form posts. Each run has a server of its own,
// so the shared demo's invoices stay as the other specs expect them.
const ROOT = path.resolve(__dirname, '..', '..');
const CLOCK = '2026-11-16T10:00:00Z';

async function openFirstInvoice(page: Page, base: string, hydrated: boolean) {
  await page.goto(`${base}signin`);
  if (hydrated) await waitForHydration(page, 30_000);
  await page.getByLabel('Email').fill(DEMO_EMAIL);
  await page.getByLabel('Password').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).not.toHaveURL(/\/signin/);
  await page.goto(`${base}projects`);
  await page.getByRole('link', { name: 'Acme Analytics', exact: true }).click();
  await page.getByRole('link', { name: 'Acme Analytics billing' }).click();
  await page.getByRole('navigation', { name: 'Billing group' }).getByRole('link', { name: 'Invoices', exact: true }).click();
  const closed = page.getByRole('table', { name: 'Invoices' }).getByRole('link', { name: /^[0-9A-F]{12}-\d{4}$/ });
  const number = ((await closed.first().textContent()) ?? '').trim();
  await closed.first().click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Invoice ${number}`);
  if (hydrated) await waitForHydration(page);
  return number;
}

async function creditAndVoid(page: Page, base: string, hydrated: boolean) {
  const number = await openFirstInvoice(page, base, hydrated);
  const correct = page.getByRole('region', { name: 'Correct this invoice' });
  await expect(correct).toBeVisible();

  await correct.locator('summary', { hasText: 'Issue a credit note' }).click();
  // No reason: refused at the field, nothing written.
  if (hydrated) {
    await correct.getByLabel('Reason', { exact: true }).evaluate((el) => el.removeAttribute('required'));
    await correct.getByRole('button', { name: 'Issue credit note' }).click();
    await expect(correct.locator('.error-summary')).toBeFocused();
    await expect(correct.getByRole('alert').first()).toContainText('Say why');
    await expect(correct.getByLabel('Reason', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  }

  // 1,50 on the first line: a euro and a half, not 150.
  await correct.getByLabel('Reason', { exact: true }).fill('Outage on 3 October');
  await correct.getByLabel('The amounts below, per line').check();
  await correct.getByRole('table', { name: 'Amounts to credit per line' }).getByRole('textbox').first().fill('1,50');
  await correct.getByRole('button', { name: 'Issue credit note' }).click();
  const notes = page.getByRole('table', { name: 'Credit notes' });
  await expect(notes.getByRole('row', { name: /Outage on 3 October/ })).toBeVisible();
  await expect(notes.getByRole('row', { name: /Outage on 3 October/ })).toContainText(/-1\.\d\d EUR/);
  await expect(page.getByRole('definition').filter({ hasText: /^-1\.\d\d EUR$/ })).toBeVisible();
  await expect(page.getByText('Remaining due')).toBeVisible();

  // The credit note's own page and files.
  await notes.getByRole('link', { name: /^CN-[0-9A-F]{12}-0001$/ }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Credit note CN-[0-9A-F]{12}-0001$/);
  await expect(page.getByRole('link', { name: number })).toBeVisible();
  await expect(page.getByText('Outage on 3 October')).toBeVisible();
  for (const [name, type] of [
    ['Download PDF', 'application/pdf'],
    ['Download CSV', 'text/csv'],
    ['Download e-invoice (XML)', 'application/xml'],
  ]) {
    const href = await page.getByRole('link', { name }).getAttribute('href');
    const answer = await page.request.get(new URL(href!, page.url()).toString());
    expect(answer.status(), name).toBe(200);
    expect(answer.headers()['content-type']).toContain(type);
  }
  await page.getByRole('link', { name: number }).click();
  if (hydrated) await waitForHydration(page);

  // Void and reissue: the original is void and names its replacement.
  await page.locator('summary', { hasText: 'Void and reissue' }).click();
  await page.getByLabel('Reason for voiding').fill('Wrong VAT ID');
  await page.getByRole('button', { name: 'Void and reissue' }).click();
  await expect(page.getByRole('definition').filter({ hasText: /^Invoice [0-9A-F]{12}-\d{4}$/ })).toBeVisible();
  await expect(page.locator('.state.credited')).toHaveText('Void');
  await expect(page.getByRole('region', { name: 'Correct this invoice' })).toHaveCount(0);
  const replacement = page.getByRole('definition').filter({ hasText: /^Invoice [0-9A-F]{12}-\d{4}$/ }).getByRole('link');
  await replacement.click();
  await expect(page.getByRole('link', { name: `Invoice ${number} (void)` })).toBeVisible();
}

test.describe('credit notes', () => {
  let demo: { server: ChildProcess; base: string };
  test.beforeEach(async () => {
    demo = await startDemoServer('credit-notes', CLOCK);
  });
  test.afterEach(() => {
    demo?.server.kill();
  });

  test('with JavaScript', async ({ page }) => {
    test.setTimeout(90_000);
    await creditAndVoid(page, demo.base, true);
  });

  test.describe('without JavaScript', () => {
    test.use({ javaScriptEnabled: false });
    test('with plain form posts', async ({ page }) => {
      test.setTimeout(90_000);
      await creditAndVoid(page, demo.base, false);
    });
  });

  test('the page at 1280 and 390 px', async ({ page }) => {
    test.setTimeout(90_000);
    await openFirstInvoice(page, demo.base, true);
    const correct = page.getByRole('region', { name: 'Correct this invoice' });
    await correct.locator('summary', { hasText: 'Issue a credit note' }).click();
    await correct.getByLabel('Reason', { exact: true }).fill('Service credit for the outage of 14 October');
    await correct.getByLabel('The amounts below, per line').check();
    await correct.getByRole('table', { name: 'Amounts to credit per line' }).getByRole('textbox').first().fill('10');
    await correct.getByRole('button', { name: 'Issue credit note' }).click();
    await expect(page.getByRole('table', { name: 'Credit notes' })).toBeVisible();
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      // Nothing wider than the screen but the tables that scroll.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `page wider than ${width}px`).toBeLessThanOrEqual(0);
      await page.screenshot({ fullPage: true, path: path.join(ROOT, 'end2end', 'test-results', `invoice-corrections-${width}.png`) });
      await page.getByRole('region', { name: 'Correct this invoice' }).screenshot({ path: path.join(ROOT, 'end2end', 'test-results', `invoice-corrections-form-${width}.png`) });
      await page.getByRole('table', { name: 'Credit notes' }).screenshot({ path: path.join(ROOT, 'end2end', 'test-results', `invoice-credit-notes-${width}.png`) });
    }
    await page.getByRole('table', { name: 'Credit notes' }).getByRole('link', { name: /^CN-/ }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Credit note /);
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `page wider than ${width}px`).toBeLessThanOrEqual(0);
      await page.screenshot({ fullPage: true, path: path.join(ROOT, 'end2end', 'test-results', `credit-note-${width}.png`) });
    }
  });
});
