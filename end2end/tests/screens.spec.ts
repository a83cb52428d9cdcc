import AxeBuilder from '@axe-core/playwright';
import { expect, Page, test } from '@playwright/test';
import { openPrimaryGroup, signIn, waitForHydration } from './helpers';

// What a finance person sees (issue 19): every page of the seed's path and
// the pages added since, at the phone width the console supports (360 px)
// and on a desktop, with JavaScript on and off: nothing wider than the
// screen, and no WCAG 2.1 A/AA violation that axe can find. "Off" keeps the
// browser's own scripting (axe runs in the page) but never loads the app's
// bundle, so the pages stay exactly as the server sent them.

/** The demo's pages, found by following links as a person would. */
async function demoPages(page: Page): Promise<string[]> {
  await page.goto('projects');
  const account = await page.getByRole('link', { name: 'Acme Analytics', exact: true }).getAttribute('href');
  await page.goto(account!);
  const group = await page.getByRole('link', { name: 'Acme Analytics billing' }).getAttribute('href');
  await page.goto(`${group}/invoices`);
  const invoice = await page
    .getByRole('table', { name: 'Invoices' })
    .getByRole('link', { name: /^[0-9A-F]{12}-\d{4}$/ })
    .first()
    .getAttribute('href');
  const accountBase = account!.replace(/\/billing$/, '');
  // The guided flow's later steps show a kept draft: answer the first step.
  await page.goto(`${accountBase}/new-billing-group`);
  await page.getByLabel('Billing group name').fill('Phone');
  await page.getByRole('button', { name: 'Next: billing details' }).click();
  await expect(page).toHaveURL(/draft=[0-9a-f]{32}/);
  const draft = `${accountBase}/new-billing-group?draft=${new URL(page.url()).searchParams.get('draft')}`;
  return [
    'projects',
    account!,
    `${accountBase}/invoices`,
    `${accountBase}/members`,
    `${accountBase}/settings`,
    `${accountBase}/webhooks`,
    `${accountBase}/new-billing-group`,
    `${draft}&step=2`,
    `${draft}&step=3`,
    `${draft}&step=4`,
    group!,
    `${group}/projects`,
    `${group}/invoices`,
    `${group}/credits`,
    `${group}/events`,
    `${group}/billing-information`,
    `${group}/deliveries`,
    `${group}/invoices/estimate`,
    invoice!,
    'project/acme-prod',
    'profile',
    'profile/tokens',
  ];
}

/** How far the page is wider than the window (0: it fits). */
async function overflow(page: Page): Promise<number> {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

async function violations(page: Page) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return results.violations.map((v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(' | ')}`);
}

for (const javaScript of [true, false]) {
  test.describe(`pages, JavaScript ${javaScript ? 'on' : 'off'}`, () => {
    test.beforeEach(async ({ page }) => {
      if (!javaScript) await page.route(/\/pkg\/[^/]+\.(js|wasm)$/, (route) => route.abort());
    });

    test('the sign-in page fits a phone and passes axe', async ({ page }) => {
      for (const width of [360, 1280]) {
        await page.setViewportSize({ width, height: 800 });
        await page.goto('signin');
        if (javaScript) await waitForHydration(page);
        expect(await overflow(page), `signin at ${width} px`).toBeLessThanOrEqual(0);
        expect(await violations(page), `signin at ${width} px`).toEqual([]);
      }
    });

    test('every page fits 360 px and passes axe at both widths', async ({ page }) => {
      test.setTimeout(120_000);
      await signIn(page, { hydrated: javaScript });
      const pages = await demoPages(page);
      const problems: string[] = [];
      for (const width of [360, 1280]) {
        await page.setViewportSize({ width, height: 800 });
        for (const path of pages) {
          await page.goto(path);
          if (javaScript) await waitForHydration(page);
          const wider = await overflow(page);
          if (wider > 0) problems.push(`${path} at ${width} px is ${wider} px wider than the screen`);
          for (const v of await violations(page)) problems.push(`${path} at ${width} px: ${v}`);
        }
      }
      expect(problems).toEqual([]);
    });
  });
}

test.describe('what a finance person reads @calendar', () => {
  test('the chart legend has small swatches and the daily chart fills its panel', async ({ page }) => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await signIn(page, { hydrated: true });
    await openPrimaryGroup(page, 'Overview');
    const swatches = page.locator('.chart .legend svg.swatch');
    await expect(swatches.first()).toBeVisible();
    for (const box of await swatches.evaluateAll((all) => all.map((e) => e.getBoundingClientRect()))) {
      expect(box.width).toBeLessThanOrEqual(16);
      expect(box.height).toBeLessThanOrEqual(16);
    }
    const daily = page.getByRole('img', { name: /Cost this month by day/ });
    const panel = page.getByRole('region', { name: 'Costs' });
    const [chartWidth, panelWidth] = [(await daily.boundingBox())!.width, (await panel.boundingBox())!.width];
    expect(chartWidth / panelWidth).toBeGreaterThan(0.9);
  });

  test('amounts show their decimals and thousands separators', async ({ page }) => {
    await signIn(page, { hydrated: true });
    await openPrimaryGroup(page, 'Invoices');
    // The header's figure is grouped like every amount, however large it is
    // on the day the suite runs (the 1st, or the 31st).
    const header = page.getByRole('group', { name: 'Accumulated costs' });
    await expect(header).toContainText(/(^|[^\d,.])\d{1,3}(,\d{3})*\.\d{2} EUR/);
    await expect(header).not.toContainText(/\d{4}\.\d{2}/);
    await page.getByRole('link', { name: 'Estimate (running month)' }).click();
    const amounts = page.getByRole('table', { name: 'Invoice lines' }).locator('td.num');
    const texts = (await amounts.allTextContents()).filter((t) => !/^\d*$/.test(t)); // not the hours
    expect(texts.length).toBeGreaterThan(4);
    for (const text of texts) expect(text).toMatch(/^-?\d{1,3}(,\d{3})*\.\d{2}$/);
    const total = page.getByRole('definition').filter({ hasText: 'EUR' }).last();
    await expect(total).toHaveText(/^\d{1,3}(,\d{3})*\.\d{2} EUR$/);
  });

  test('overdue invoices say so, and the list filters to them', async ({ page }) => {
    await signIn(page, { hydrated: true });
    await openPrimaryGroup(page, 'Overview');
    await expect(page.getByText(/invoices? (is|are) overdue/)).toBeVisible();
    await page.getByRole('link', { name: 'Show overdue invoices' }).click();
    await expect(page).toHaveURL(/show=overdue/);
    // The invoices, not the header or the total row.
    const rows = page.getByRole('table', { name: 'Invoices' }).locator('tbody tr');
    await expect(rows.first()).toBeVisible();
    for (const row of await rows.all()) await expect(row).toContainText(/Overdue · \d+ days?/);
    await page.getByRole('navigation', { name: 'Show invoices' }).getByRole('link', { name: 'All' }).click();
    await expect(page.getByRole('table', { name: 'Invoices' })).toContainText('Estimate (running month)');
    // The invoice page says it too.
    await page.goto(page.url().replace(/\?.*$/, '?show=overdue'));
    await page.getByRole('table', { name: 'Invoices' }).getByRole('link', { name: /^[0-9A-F]{12}-\d{4}$/ }).first().click();
    await expect(page.locator('.facts')).toContainText(/Overdue · \d+ days?/);
  });

  test('menus work from the keyboard: open, move, choose, Escape', async ({ page }) => {
    await signIn(page, { hydrated: true });
    await openPrimaryGroup(page, 'Overview');
    await waitForHydration(page);
    const userMenu = page.locator('details.user-menu');
    const summary = userMenu.locator('summary');
    await summary.focus();
    await page.keyboard.press('Enter');
    await expect(userMenu).toHaveAttribute('open', '');
    await page.keyboard.press('Tab');
    await expect(userMenu.getByRole('link').first()).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(userMenu).not.toHaveAttribute('open', /.*/);
    await expect(summary).toBeFocused();
    // A click outside closes it too; choosing a link follows it and closes.
    await page.keyboard.press('Enter');
    await expect(userMenu).toHaveAttribute('open', '');
    await page.getByRole('heading', { level: 1 }).click();
    await expect(userMenu).not.toHaveAttribute('open', /.*/);
    const projectMenu = page.locator('details.project-menu');
    await projectMenu.locator('summary').focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Tab');
    await expect(projectMenu.getByRole('link').first()).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(page).toHaveURL(/\/projects$/);
    await expect(page.locator('details.project-menu')).not.toHaveAttribute('open', /.*/);
  });
});
