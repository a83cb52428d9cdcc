import { expect, test, type Page } from '@playwright/test';
import * as fs from 'fs';
import { advanceTestClock, openPrimaryGroup, signIn, waitForHydration } from './helpers';

/** "1,234.56 EUR" → 1234.56 in cents, exactly. */
function cents(text: string): number {
  const match = text.replace(/,/g, '').match(/(-?\d+)(?:\.(\d+))?/);
  if (!match) throw new Error(`no amount in ${text}`);
  const fraction = (match[2] ?? '').padEnd(2, '0').slice(0, 2);
  return Number(match[1]) * 100 + Math.sign(Number(match[1]) || 1) * Number(fraction);
}

/** RFC 4180 rows (quoted fields may hold commas). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n') { row.push(field.replace(/\r$/, '')); rows.push(row); row = []; field = ''; }
    else field += c;
  }
  return rows;
}

test.describe('invoices with JavaScript @calendar', () => {
  test('a closed invoice: lines per project and service, PDF and CSV', async ({ page }) => {
    await signIn(page, { hydrated: true });
    await openPrimaryGroup(page, 'Invoices');
    const table = page.getByRole('table', { name: 'Invoices' });
    await expect(table.getByRole('link', { name: 'Estimate (running month)' })).toBeVisible();
    // Sort by period, oldest first, then open the newest closed invoice.
    await waitForHydration(page);
    await table.getByRole('link', { name: /^Period/ }).click();
    await expect(page).toHaveURL(/sort=period&dir=asc/);
    const closed = table.getByRole('link', { name: /^[0-9A-F]{12}-\d{4}$/ });
    // Two closed by the demo seed, and last month's (closed by the credits
    // spec's operator command, or by the scheduled close).
    await expect(closed.first()).toBeVisible();
    expect(await closed.count()).toBeGreaterThanOrEqual(2);
    await closed.last().click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Invoice [0-9A-F]{12}-\d{4}$/);
    const lines = page.getByRole('table', { name: 'Invoice lines' });
    await expect(lines.getByRole('rowheader', { name: 'Project acme-prod' })).toBeVisible();
    await expect(lines.getByRole('row', { name: /pg-orders/ }).first()).toBeVisible();
    await expect(lines.getByRole('row', { name: /kafka-events/ }).first()).toBeVisible();
    await expect(lines.getByText('Subtotal acme-prod')).toBeVisible();
    const totals = page.getByRole('definition').filter({ hasText: 'EUR' }).last();
    const totalText = (await totals.textContent()) ?? '';
    // Screens and the PDF group thousands; the CSV keeps plain numbers.
    expect(totalText).toMatch(/^\d{1,3}(,\d{3})*\.\d{2} EUR$/);

    const [pdf] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download PDF' }).click(),
    ]);
    const pdfBytes = fs.readFileSync((await pdf.path())!);
    expect(pdfBytes.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdfBytes.toString('latin1').trimEnd().endsWith('%%EOF')).toBe(true);
    // The PDF's text is in embedded fonts (.ci/pdf-check.py reads it); its
    // attached e-invoice is the XML the page offers, with the same total.
    expect(pdfBytes.toString('latin1')).toContain('factur-x.xml');
    const [xml] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download e-invoice (XML)' }).click(),
    ]);
    const xmlText = fs.readFileSync((await xml.path())!, 'utf8');
    const grandTotal = /<ram:GrandTotalAmount>([^<]+)</.exec(xmlText)?.[1] ?? '';
    expect(cents(grandTotal)).toBe(cents(totalText));

    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download CSV' }).click(),
    ]);
    const rows = parseCsv(fs.readFileSync((await csv.path())!, 'utf8'));
    const header = rows[0];
    const local = header.indexOf('line_total_local');
    const sum = rows.slice(1).reduce((acc, row) => acc + cents(row[local]), 0);
    expect(sum).toBe(cents(totalText));
    expect(rows.slice(1).some((row) => row[header.indexOf('line_type')] === 'vat')).toBe(true);
  });

  test('the estimate updates after a service is powered on', async ({ page }) => {
    await signIn(page, { hydrated: true });
    await openPrimaryGroup(page, 'Invoices');
    await page.getByRole('link', { name: 'Estimate (running month)' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Estimate for \d{4}-\d{2}$/);
    // (hours, USD cents) of the service's line.
    const line = async () => {
      const cells = page.getByRole('row', { name: /redis-cache/ }).getByRole('cell');
      return [Number(await cells.nth(2).textContent()), cents((await cells.nth(3).textContent()) ?? '')];
    };
    const [hoursBefore, usdBefore] = await line();
    await page.goto('project/acme-prod');
    await waitForHydration(page);
    // Each power change asks for a confirmation first.
    const off = page.getByRole('button', { name: 'Power off redis-cache' });
    if (await off.count()) {
      await off.click();
      await page.getByRole('button', { name: 'Confirm power off' }).click();
    }
    await page.getByRole('button', { name: 'Power on redis-cache' }).click();
    await page.getByRole('button', { name: 'Confirm power on' }).click();
    await expect(page.getByRole('button', { name: 'Power off redis-cache' })).toBeVisible();
    // The suite's clock stands still: a minute on, the new run's first
    // hour has begun.
    advanceTestClock(60);
    await page.goBack();
    await page.reload();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^Estimate for/);
    // The new run has started one more hour at 0.137 USD (the line is
    // rounded to the cent, so it grows by 13 or 14 cents).
    const [hoursAfter, usdAfter] = await line();
    expect(hoursAfter).toBe(hoursBefore + 1);
    expect([13, 14]).toContain(usdAfter - usdBefore);
  });

  test('the move dialog shows how the month splits', async ({ page }) => {
    await signIn(page, { hydrated: true });
    await openPrimaryGroup(page, 'Projects');
    await waitForHydration(page);
    await expect(page.getByRole('heading', { name: 'Move preview' })).toBeVisible();
    const preview = page.getByRole('table', { name: 'Move preview' });
    await expect(preview.getByRole('row', { name: /acme-prod/ })).toBeVisible();
    // What stays is shown in the group's currency (EUR) as well as USD.
    await expect(preview.getByRole('columnheader', { name: 'So far this month (EUR)' })).toBeVisible();
    await expect(preview.getByRole('row', { name: /acme-prod/ }).getByRole('cell').nth(1)).toHaveText(/^\d{1,3}(,\d{3})*\.\d{2}$/);
    await page.getByLabel('Project to move').selectOption('acme-prod');
    await page.getByLabel('Move to').selectOption({ label: 'Research & Development' });
    await expect(page.locator('.move-summary')).toContainText(
      /charged to acme-prod so far this month stays on Acme Analytics billing\. About \d{1,3}(,\d{3})*\.\d{2} USD more .* would go to Research & Development by month end\./,
    );
  });

  test('the Overview shows the cost chart and the latest invoices', async ({ page }) => {
    await signIn(page, { hydrated: true });
    await openPrimaryGroup(page, 'Overview');
    await expect(page.getByRole('img', { name: /Cost this month by day/ })).toBeVisible();
    await expect(page.getByRole('img', { name: /last 12 months/ })).toBeVisible();
    await expect(page.getByRole('table', { name: 'Cost by month (USD)' })).toBeAttached();
    // The estimate and the latest closed invoices (two or three), then
    // their total.
    const rows = page.getByRole('table', { name: 'Invoices' }).locator('tbody tr');
    await expect(rows.nth(2)).toBeVisible();
    expect(await rows.count()).toBeLessThanOrEqual(4);
    await expect(page.getByRole('table', { name: 'Invoices' }).locator('tfoot')).toContainText(/Total of \d invoices \(EUR\)/);
  });
});

test.describe('invoices without JavaScript @calendar', () => {
  test.use({ javaScriptEnabled: false });

  test('the Invoices tab, an invoice and the chart render on the server', async ({ page }) => {
    await signIn(page, { hydrated: false });
    await openPrimaryGroup(page, 'Invoices');
    const closed = page.getByRole('table', { name: 'Invoices' }).getByRole('link', { name: /^[0-9A-F]{12}-\d{4}$/ });
    await closed.first().click();
    await expect(page.getByRole('table', { name: 'Invoice lines' })).toBeVisible();
    await expect(page.getByText('Total incl. VAT')).toBeVisible();
    await page.goBack();
    await page.getByRole('navigation', { name: 'Billing group' }).getByRole('link', { name: 'Overview', exact: true }).click();
    await expect(page.locator('svg rect title').first()).toBeAttached();
  });
});

/** Finds an invoice by the payment reference a bank transfer carries. */
async function findByPaymentReference(page: Page, hydrated: boolean) {
  await signIn(page, { hydrated });
  await openPrimaryGroup(page, 'Invoices');
  if (hydrated) await waitForHydration(page);
  const closed = page.getByRole('table', { name: 'Invoices' }).getByRole('link', { name: /^[0-9A-F]{12}-\d{4}$/ });
  expect(await closed.count()).toBeGreaterThan(1);
  const number = ((await closed.first().textContent()) ?? '').trim();
  await closed.first().click();
  const reference = ((await page.getByRole('definition').filter({ hasText: /^RF\d\d/ }).textContent()) ?? '').trim();
  expect(reference).toMatch(/^RF\d\d( [0-9A-Z]{1,4})+$/);
  await page.goBack();
  if (hydrated) await waitForHydration(page);
  const search = page.getByRole('search', { name: 'Find an invoice' });
  const field = search.getByLabel('Payment reference or invoice number');
  // As a bank statement shows it: no spaces, lower case.
  await field.fill(reference.replace(/ /g, '').toLowerCase());
  await search.getByRole('button', { name: 'Find' }).click();
  await expect(page).toHaveURL(/reference=rf/);
  await expect(closed).toHaveCount(1);
  await expect(closed.first()).toHaveText(number);
  // A mistyped reference is pointed out at the field, not "nothing found".
  await field.fill(`RF00 ${reference.slice(5)}`);
  await search.getByRole('button', { name: 'Find' }).click();
  await expect(search.getByRole('alert')).toContainText('check digits do not match');
  await expect(field).toHaveAttribute('aria-invalid', 'true');
}

test.describe('finding an invoice by its payment reference', () => {
  test('with JavaScript', async ({ page }) => {
    await findByPaymentReference(page, true);
  });
  test.describe('without JavaScript', () => {
    test.use({ javaScriptEnabled: false });
    test('with plain form posts', async ({ page }) => {
      await findByPaymentReference(page, false);
    });
  });
});

test.describe('the invoices list, without JavaScript', () => {
  test.use({ javaScriptEnabled: false });
  test('per-row files, a total row, a date filter and a CSV export of the list', async ({ page }) => {
    await signIn(page, { hydrated: false });
    await openPrimaryGroup(page, 'Invoices');
    const table = page.getByRole('table', { name: 'Invoices' });
    const closed = table.getByRole('link', { name: /^[0-9A-F]{12}-\d{4}$/ });
    const count = await closed.count();
    expect(count).toBeGreaterThanOrEqual(2);
    const number = ((await closed.first().textContent()) ?? '').trim();
    // Each row downloads its PDF and CSV.
    const row = table.locator('tbody tr').filter({ hasText: number });
    const pdfHref = await row.getByRole('link', { name: 'PDF', exact: true }).getAttribute('href');
    await expect(row.getByRole('link', { name: 'CSV', exact: true })).toHaveAttribute('href', /\/csv$/);
    const pdf = await page.request.get(new URL(pdfHref!, page.url()).toString());
    expect(pdf.headers()['content-type']).toBe('application/pdf');
    // A total row per currency, the estimate not counted.
    const total = table.locator('tfoot tr');
    await expect(total.first()).toContainText(`Total of ${count} invoices (EUR)`);
    // Every column sorts (links, so without a script too).
    for (const name of ['Outstanding', 'Issued', 'Due', 'Paid', 'Currency', 'Total excl. VAT']) {
      await expect(table.getByRole('link', { name: new RegExp(`^${name}`) })).toBeVisible();
    }
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, `page wider than ${width}px`).toBeLessThanOrEqual(0);
      await page.screenshot({ fullPage: true, path: `test-results/invoices-tab-${width}.png` });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    // Periods from a month on: the older invoices drop out.
    const search = page.getByRole('search', { name: 'Find an invoice' });
    const period = ((await table.locator('tbody tr').filter({ hasText: number }).locator('td').nth(1).textContent()) ?? '').trim();
    await search.getByLabel('Periods from').fill(period);
    await search.getByRole('button', { name: 'Find' }).click();
    await expect(page).toHaveURL(new RegExp(`from=${period}`));
    await expect(closed.first()).toBeVisible();
    const narrowed = await closed.count();
    expect(narrowed).toBeLessThanOrEqual(count);
    // The export has the same invoices as the list shows.
    const exportHref = await page.getByRole('link', { name: 'Export this list (CSV)' }).getAttribute('href');
    expect(exportHref).toContain(`from=${period}`);
    const csv = await page.request.get(new URL(exportHref!, page.url()).toString());
    expect(csv.headers()['content-type']).toContain('text/csv');
    const rows = parseCsv(await csv.text());
    expect(rows[0].slice(0, 4)).toEqual(['invoice_number', 'period', 'state', 'standing']);
    const exported = rows.slice(1).map((row) => row[0]).filter((n) => n !== 'estimate');
    expect(exported.length).toBe(narrowed);
    expect(exported).toContain(number);
    // A month that is none (typed into a browser without a month picker)
    // is pointed out at the field.
    await page.goto(page.url().replace(/from=[^&]*/, 'from=2026-13'));
    await expect(search.getByRole('alert')).toContainText('is not a month');
    await expect(search.getByLabel('Periods from')).toHaveAttribute('aria-invalid', 'true');
  });
});


// Issue 28: finance sees every invoice of the account in one list.
for (const hydrated of [true, false]) {
  test.describe(`the account's invoices, JavaScript ${hydrated ? 'on' : 'off'}`, () => {
    test.use({ javaScriptEnabled: hydrated });

    test('one list holds every group\'s invoices, each row linked to its group', async ({ page }) => {
      await signIn(page, { hydrated });
      await page.goto('projects');
      await page.getByRole('link', { name: 'Acme Analytics', exact: true }).click();
      // The Billing tab lists the newest few and leads to them all.
      const latest = page.getByRole('region', { name: 'Latest invoices' });
      const latestNumbers = latest.getByRole('link', { name: /^[0-9A-F]{12}-\d{4}$/ });
      await expect(latestNumbers.first()).toBeVisible();
      expect(await latestNumbers.count()).toBeGreaterThanOrEqual(2);
      await latest.getByRole('link', { name: 'All invoices of the account' }).click();
      await expect(page).toHaveURL(/\/account\/[^/]+\/invoices$/);
      await expect(page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Invoices' }))
        .toHaveAttribute('aria-current', 'page');
      const table = page.getByRole('table', { name: 'Invoices' });
      await expect(table.getByRole('columnheader', { name: 'Billing group' })).toBeVisible();
      const numbers = table.getByRole('link', { name: /^[0-9A-F]{12}-\d{4}$/ });
      await expect(numbers.first()).toBeVisible();
      expect(await numbers.count()).toBeGreaterThanOrEqual(4);
      // Issued invoices only: the running months stay on the groups' pages.
      await expect(table.getByRole('link', { name: 'Estimate (running month)' })).toHaveCount(0);
      const groupNames = await table.locator('tbody td[data-label="Billing group"]').allTextContents();
      expect(new Set(groupNames).size).toBeGreaterThanOrEqual(2);
      await expect(table.locator('tfoot')).toContainText(/Total of \d+ invoices \([A-Z]{3}\)/);
      // The group list's filters work here too, as links and a GET form.
      await page.getByRole('navigation', { name: 'Show invoices' }).getByRole('link', { name: 'Open' }).click();
      await expect(page).toHaveURL(/\/invoices\?show=open/);
      await page.getByRole('navigation', { name: 'Show invoices' }).getByRole('link', { name: 'All' }).click();
      await expect(page).toHaveURL(/show=all/);
      // A row opens its invoice under its own group.
      const first = numbers.first();
      const number = (await first.textContent()) ?? '';
      await first.click();
      await expect(page).toHaveURL(/\/billing-group\/[^/]+\/invoices\/[0-9A-F]{12}-\d{4}$/);
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Invoice ${number}`);
    });
  });
}
