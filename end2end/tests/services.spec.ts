import { test, expect, Page } from '@playwright/test';
import { advanceTestClock, signIn, waitForHydration } from './helpers';

// Issue 17: a service created on the project page runs at once and its
// first hour shows in the group's accumulated costs. With JavaScript and
// without it (the page's forms are plain forms before hydration).

/** The accumulated costs, in USD cents, of the group acme-staging is in
 * (other tests move it), from that group's Overview header. */
async function groupUsdCents(page: Page): Promise<number> {
  await page.goto('project/acme-staging');
  // The project page links its account and its group.
  await expect(page.locator('dt:has-text("Account") + dd').getByRole('link', { name: 'Acme Analytics' }))
    .toHaveAttribute('href', /\/account\/[^/]+\/billing$/);
  const groupLink = page.locator('dt:has-text("Billing group") + dd').getByRole('link');
  const group = (await groupLink.textContent())!.trim();
  await groupLink.click();
  await expect(page.getByRole('heading', { level: 1 })).toContainText(group);
  const text = (await page.getByRole('group', { name: 'Accumulated costs' }).textContent()) ?? '';
  const usd = text.match(/([\d,]+\.\d{2}) USD/);
  expect(usd, text).not.toBeNull();
  return Math.round(Number(usd![1].replace(/,/g, '')) * 100);
}

async function createService(page: Page, name: string) {
  await page.goto('project/acme-staging');
  await page.getByLabel('Service name').fill(name);
  await page.getByLabel('Service type and plan').selectOption({ label: 'PostgreSQL premium-8 — 3.288 USD/h' });
  await page.getByLabel('Cloud').selectOption('google-europe-north1');
  await page.getByRole('button', { name: 'Create service' }).click();
}

for (const hydrated of [true, false]) {
  test.describe(`a new service on the project page, JavaScript ${hydrated ? 'on' : 'off'} @calendar`, () => {
    test.use({ javaScriptEnabled: hydrated });

    test('is created, runs, and its first hour is in the Overview cost', async ({ page }) => {
      const name = hydrated ? 'pg-e2e-js' : 'pg-e2e-plain';
      await signIn(page, { hydrated });
      const before = await groupUsdCents(page);
      if (hydrated) {
        await page.goto('project/acme-staging');
        await waitForHydration(page);
      }
      await createService(page, name);
      const row = page.getByRole('row', { name: new RegExp(name) });
      await expect(row).toContainText('Running');
      await expect(row).toContainText('premium-8');
      await expect(row).toContainText('3.288');
      // A bad name is refused with its field named, nothing created.
      await page.getByLabel('Service name').fill('Not A Name');
      await page.getByRole('button', { name: 'Create service' }).click();
      await expect(page.getByRole('alert').filter({ hasText: 'Service name' })).toBeVisible();
      // The first started hour (3.288 USD) is in the group's costs (other
      // services may have started an hour meanwhile: at least it grew by it).
      // The suite's clock stands still: a minute on, the first hour has begun.
      advanceTestClock(60);
      const after = await groupUsdCents(page);
      expect(after - before).toBeGreaterThanOrEqual(329);
      // Terminate it, with its name typed as the confirmation.
      await page.goto('project/acme-staging');
      if (hydrated) await waitForHydration(page);
      await page.getByRole('button', { name: `Terminate ${name}` }).click();
      await page.getByLabel(`Type ${name} to terminate it for good`).fill(name);
      await page.getByRole('button', { name: 'Terminate service' }).click();
      await expect(page.getByRole('row', { name: new RegExp(name) })).toContainText('Terminated');
    });
  });
}
