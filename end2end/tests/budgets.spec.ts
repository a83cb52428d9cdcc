import { test, expect, Page } from '@playwright/test';
import { signIn, waitForHydration } from './helpers';

// Issue 18: a budget set on the Overview shows as a bar against the month
// so far, with the forecast. With JavaScript and without it.

async function openResearchOverview(page: Page) {
  await page.goto('projects');
  await page.getByRole('link', { name: 'Acme Analytics', exact: true }).click();
  await page.getByRole('link', { name: 'Research & Development' }).click();
  await expect(page.getByRole('heading', { name: 'Budget' })).toBeVisible();
}

for (const hydrated of [true, false]) {
  test.describe(`budgets, JavaScript ${hydrated ? 'on' : 'off'} @calendar`, () => {
    test.use({ javaScriptEnabled: hydrated });

    test('a budget is set and its bar shows the month against it', async ({ page }) => {
      const [amount, shown] = hydrated ? ['5000', '5,000.00'] : ['4000', '4,000.00'];
      await signIn(page, { hydrated });
      await openResearchOverview(page);
      if (hydrated) await waitForHydration(page);
      const edit = page.locator('details.budget-edit');
      const openEditor = async () => {
        if (!(await edit.evaluate((e) => (e as HTMLDetailsElement).open))) {
          await edit.locator('summary').click();
        }
      };
      await openEditor();
      // Bad input first: a field message, nothing saved.
      await page.getByLabel('Monthly budget').fill('-10');
      await page.getByRole('button', { name: 'Save budget' }).click();
      // The summary at the top names it and links to the field, which is
      // marked invalid; the editor stays open on the refusal.
      const summary = page.locator('.error-summary');
      await expect(summary).toBeVisible();
      await expect(summary.getByRole('link', { name: /more than zero/ })).toHaveAttribute('href', '#amount');
      await expect(page.getByLabel('Monthly budget')).toHaveAttribute('aria-invalid', 'true');
      await expect(edit).toHaveAttribute('open', '');
      await openEditor();
      await page.getByLabel('Monthly budget').fill(amount);
      await page.getByLabel('Alert at (%)').fill('50, 90, 100');
      await page.getByRole('button', { name: 'Save budget' }).click();
      const bar = page.getByRole('img', { name: /^Budget: / });
      await expect(bar).toBeVisible();
      await expect(bar).toHaveAccessibleName(new RegExp(`of ${shown} USD this month`));
      await expect(page.locator('.budget-figures')).toContainText('forecast to month end');
      // The bar is drawn: the forecast to the month's end is a part of it,
      // and the month so far (nothing yet, just after midnight on the 1st)
      // no more than the forecast.
      const width = async (part: string) => Number(await bar.locator(part).getAttribute('width'));
      const [actual, forecast] = [await width('.budget-actual'), await width('.budget-forecast')];
      expect(forecast).toBeGreaterThan(0);
      expect(forecast).toBeLessThanOrEqual(1000);
      expect(actual).toBeGreaterThanOrEqual(0);
      expect(actual).toBeLessThanOrEqual(forecast);
    });
  });
}
