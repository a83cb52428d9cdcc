import { expect, Page, test } from '@playwright/test';
import { execFileSync } from 'child_process';
import { openPrimaryGroup, setTestClock, signIn, testNow } from './helpers';

// Across a month's end (and, as .ci/calendar-test.sh runs it, a year's):
// the demo is seeded shortly before midnight; the clock then moves past it,
// the ended month is closed as cron would close it, and the group's pages
// follow the new month. Runs only where E2E_CLOCK_NEXT names the later
// instant, because it moves the shared server's clock.
const NEXT = process.env.E2E_CLOCK_NEXT;
const BIN = process.env.BILLING_BIN ?? '';

const month = (at: Date) => at.toISOString().slice(0, 7);

function closeMonth(period: string): string {
  return execFileSync(BIN, ['close-month', '--period', period], { env: process.env, encoding: 'utf8' });
}

async function estimateHeading(page: Page) {
  await openPrimaryGroup(page, 'Invoices');
  await page.getByRole('link', { name: 'Estimate (running month)' }).click();
  return page.getByRole('heading', { level: 1 });
}

test.describe('across a month end @calendar', () => {
  test.skip(!NEXT, 'runs where .ci/calendar-test.sh sets E2E_CLOCK_NEXT');

  test('the running month turns over, the ended month closes once, every tab renders', async ({ page }) => {
    const before = testNow();
    await signIn(page, { hydrated: true });
    await expect(await estimateHeading(page)).toHaveText(`Estimate for ${month(before)}`);

    setTestClock(NEXT!);
    const after = testNow();
    expect(month(after)).not.toBe(month(before));
    const first = closeMonth(month(before));
    expect(first).toMatch(
      new RegExp(`^Closed ${month(before)}: [1-9]\\d* invoice\\(s\\) issued; 0 group\\(s\\) already invoiced\\.`),
    );
    const issued = first.match(/: (\d+) invoice/)![1];
    // A second close (another cron, another instance) issues nothing, and
    // says that every group was invoiced already.
    expect(closeMonth(month(before)).trim()).toBe(
      `Closed ${month(before)}: 0 invoice(s) issued; ${issued} group(s) already invoiced.`,
    );

    await expect(await estimateHeading(page)).toHaveText(`Estimate for ${month(after)}`);
    await openPrimaryGroup(page, 'Invoices');
    const invoices = page.getByRole('table', { name: 'Invoices' });
    await expect(invoices.getByRole('row').filter({ hasText: month(before) })).toHaveCount(1);
    for (const tab of ['Overview', 'Projects', 'Credits', 'Events', 'Billing information']) {
      await page.getByRole('navigation', { name: 'Billing group' }).getByRole('link', { name: tab, exact: true }).click();
      await expect(page.getByRole('heading', { level: 1 })).toContainText('Acme Analytics billing');
      await expect(page.locator('.error')).toHaveCount(0);
    }
  });
});
