import { expect, test } from '@playwright/test';
import { execFileSync } from 'child_process';
import { openPrimaryGroup, signIn, testNow, waitForHydration } from './helpers';

// The operator commands run against the server's own database: .ci/test.sh
// passes the binary and DATABASE_URL, and starts the server with the
// scheduled close off so that last month is left for `close-month`.
const BIN = process.env.BILLING_BIN ?? '';
const CODE = /^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$/;

function operator(args: string[]): string {
  if (!BIN) throw new Error('BILLING_BIN is not set (run through .ci/test.sh)');
  return execFileSync(BIN, args, { env: process.env, encoding: 'utf8' });
}

/** Last month as YYYY-MM (UTC), on the test clock. */
function lastMonth(): string {
  const now = testNow();
  const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
  return first.toISOString().slice(0, 7);
}

function issue(value: string, type: string, expires: string): string {
  const codes = operator([
    'credits', 'issue', '--value', value, '--type', type,
    '--starts', `${lastMonth()}-01`, '--expires', expires,
  ]).trim().split('\n');
  expect(codes).toHaveLength(1);
  expect(codes[0]).toMatch(CODE);
  return codes[0];
}

test.describe('credits with JavaScript @calendar', () => {
  test('claim, earmark, close the month, see the credit lines and the burn-down', async ({ page }) => {
    const general = issue('100000', 'purchase', '2030-12-31');
    // Expires sooner, so the month close uses it first.
    const earmarked = issue('50', 'promotion', '2029-12-31');

    await signIn(page, { hydrated: true });
    await openPrimaryGroup(page, 'Credits');
    await expect(page).toHaveURL(/\/credits$/);
    await waitForHydration(page);

    // Garbage gets a message next to the field, and nothing is claimed.
    await page.getByLabel('Credit code').fill('not a code');
    await page.getByRole('button', { name: 'Claim credit' }).click();
    await expect(page.getByRole('alert')).toHaveText(
      'A credit code has 16 letters and digits, like ABCD-EFGH-JKMN-PQRS.',
    );

    // Typed in lower case with spaces: still the code.
    await page.getByLabel('Credit code').fill(general.toLowerCase().replaceAll('-', ' '));
    await page.getByRole('button', { name: 'Claim credit' }).click();
    await expect(page.getByRole('status')).toHaveText(`Credit ${general} claimed: 100,000.00 USD (purchase).`);
    const credits = page.getByRole('table', { name: 'Credits' });
    await expect(credits.getByRole('row', { name: new RegExp(general) })).toContainText('All projects');

    await page.getByLabel('Credit code').fill(earmarked);
    await page.getByLabel('Earmark for project').selectOption('acme-staging');
    await page.getByRole('button', { name: 'Claim credit' }).click();
    await expect(credits.getByRole('row', { name: new RegExp(earmarked) })).toContainText('acme-staging');

    // A code claimed once cannot be claimed again.
    await page.getByLabel('Credit code').fill(general);
    await page.getByRole('button', { name: 'Claim credit' }).click();
    await expect(page.getByRole('alert')).toHaveText(
      'This code has already been claimed; each code can be claimed once.',
    );

    // The operator closes last month.
    expect(operator(['close-month', '--period', lastMonth()])).toMatch(/^Closed \d{4}-\d{2}: \d+ invoice\(s\) issued/);

    await openPrimaryGroup(page, 'Invoices');
    const closed = page.getByRole('table', { name: 'Invoices' }).getByRole('link', { name: /^[0-9A-F]{12}-\d{4}$/ });
    await closed.first().click();
    const lines = page.getByRole('table', { name: 'Invoice lines' });
    await expect(lines.getByRole('row', { name: new RegExp(`Credit ${earmarked} \\(promotion\\), earmarked for acme-staging`) })).toContainText('-50');
    await expect(lines.getByRole('row', { name: new RegExp(`Credit ${general} \\(purchase\\)`) })).toBeVisible();

    await page.goBack();
    await page.getByRole('navigation', { name: 'Billing group' }).getByRole('link', { name: 'Credits', exact: true }).click();
    const generalRow = page.getByRole('table', { name: 'Credits' }).getByRole('row', { name: new RegExp(general) });
    await expect(generalRow).toContainText('Active');
    const remaining = Number(((await generalRow.getByRole('cell').nth(2).textContent()) ?? 'NaN').replace(/,/g, ''));
    expect(remaining).toBeLessThan(100000);
    expect(remaining).toBeGreaterThan(0);
    await expect(page.getByRole('table', { name: 'Credits' }).getByRole('row', { name: new RegExp(earmarked) })).toContainText('Used up');
    const forecast = page.getByRole('table', { name: 'Burn-down forecast' });
    // Whether 100,000 USD runs out before 2030 depends on which demo services
    // run right now (the demo runs are laid out from the seeding time): the
    // row gives the day it runs out, or says it outlasts its expiry.
    await expect(forecast.getByRole('row', { name: new RegExp(general) })).toContainText(
      /\d{4}-\d{2}-\d{2}|Not before it expires/,
    );
    await expect(page.getByText(/of credit will expire unused\./)).toBeVisible();

    // The Overview lists the credits the invoice applied.
    await page.getByRole('navigation', { name: 'Billing group' }).getByRole('link', { name: 'Overview', exact: true }).click();
    const applied = page.getByRole('table', { name: 'Applied credits' });
    await expect(applied.getByRole('row', { name: new RegExp(earmarked) })).toContainText('acme-staging');
  });
});

test.describe('credits without JavaScript @calendar', () => {
  test.use({ javaScriptEnabled: false });

  test('the Credits tab renders and a code is claimed with a plain form post', async ({ page }) => {
    const code = issue('25', 'outage', '2031-06-30');
    await signIn(page, { hydrated: false });
    await openPrimaryGroup(page, 'Credits');
    await expect(page.getByRole('heading', { name: 'Burn-down forecast' })).toBeVisible();
    await page.getByLabel('Credit code').fill(code);
    await page.getByRole('button', { name: 'Claim credit' }).click();
    await expect(page).toHaveURL(/\/credits/);
    await expect(page.getByRole('table', { name: 'Credits' }).getByRole('row', { name: new RegExp(code) })).toContainText('outage');
  });
});
