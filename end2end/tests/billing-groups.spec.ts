import { expect, Page, test } from '@playwright/test';
import { signIn, waitForHydration } from './helpers';

async function openAccountBilling(page: Page) {
  await page.goto('projects');
  await page.getByRole('link', { name: 'Acme Analytics', exact: true }).click();
  await expect(page).toHaveURL(/\/account\/[^/]+\/billing$/);
  await expect(page.getByRole('heading', { name: 'Billing groups', exact: true })).toBeVisible();
}

async function openActions(page: Page) {
  await page.getByText('Actions', { exact: true }).click();
}

test.describe('billing groups with JavaScript', () => {
  test('the seed path: account → Billing → a group → every tab @calendar', async ({ page }) => {
    await signIn(page, { hydrated: true });
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('acme-analytics');
    await waitForHydration(page);
    await page.getByText('Project: acme-analytics').click();
    await page.getByRole('link', { name: 'See all projects & accounts' }).click();
    await page.getByRole('link', { name: 'Acme Analytics', exact: true }).click();
    await expect(page.getByRole('link', { name: 'Billing', exact: true })).toHaveAttribute('aria-current', 'page');
    const primaryRow = page.getByRole('table', { name: 'Billing groups' }).getByRole('row', { name: /Acme Analytics billing/ });
    await expect(primaryRow).toContainText('Primary');
    await expect(primaryRow).toContainText('EUR');

    await page.getByRole('link', { name: 'Research & Development' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Research & Development');
    await expect(page.getByRole('group', { name: 'Accumulated costs' })).toContainText('USD');
    const tabs = page.getByRole('navigation', { name: 'Billing group' });
    for (const [label, path, text] of [
      ['Projects', '/projects', 'Projects in this billing group'],
      ['Invoices', '/invoices', 'One invoice per calendar month'],
      ['Credits', '/credits', 'Burn-down forecast'],
      ['Events', '/events', 'Time (UTC)'],
      ['Billing information', '/billing-information', 'Payment method'],
      ['Overview', '', 'Applied credits'],
    ]) {
      await tabs.getByRole('link', { name: label, exact: true }).click();
      await expect(page).toHaveURL(new RegExp(`/billing-group/[0-9a-f-]+${path}$`));
      await expect(page.getByText(text).first()).toBeVisible();
    }
    // A reload lands on the same tab.
    await tabs.getByRole('link', { name: 'Events', exact: true }).click();
    await page.reload();
    await expect(tabs.getByRole('link', { name: 'Events', exact: true })).toHaveAttribute('aria-current', 'page');
  });

  test('create, rename, refuse to delete with projects, empty and delete a group', async ({ page }) => {
    await signIn(page, { hydrated: true });
    await openAccountBilling(page);
    await waitForHydration(page);
    // The guided flow, taking the defaults: name → details → projects →
    // summary → create.
    await page.getByRole('link', { name: 'Create billing group' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Create billing group');
    await page.getByLabel('Billing group name').fill('   ');
    await page.getByRole('button', { name: 'Next: billing details' }).click();
    await expect(page.getByRole('alert').first()).toContainText('cannot be empty');
    await page.getByLabel('Billing group name').fill('E2E Temp');
    await page.getByRole('button', { name: 'Next: billing details' }).click();
    // A new group bills in the account's currency (its primary group's EUR).
    await expect(page.getByLabel('Billing currency')).toHaveValue('EUR');
    await page.getByRole('button', { name: 'Next: projects' }).click();
    await page.getByRole('button', { name: 'Next: summary' }).click();
    await waitForHydration(page);
    await page.getByRole('button', { name: 'Create billing group' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('E2E Temp');
    await waitForHydration(page);
    // No billing details yet: its invoice says what is missing, and where
    // to add it.
    await page.getByRole('navigation', { name: 'Billing group' }).getByRole('link', { name: 'Invoices', exact: true }).click();
    await page.getByRole('link', { name: 'Estimate (running month)' }).click();
    await expect(page.locator('p.notice', { hasText: "This invoice's customer has no billing address or country." })).toBeVisible();
    await page.getByRole('link', { name: 'Add them in Billing information' }).click();
    await expect(page.getByLabel('Company')).toHaveValue('');
    await waitForHydration(page);

    await openActions(page);
    // While the request runs the form says so (and takes no second click);
    // then the result is said.
    const slowRename = /\/api\/rename_billing_group/;
    await page.route(slowRename, async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 800));
      await route.continue();
    });
    await page.getByLabel('New name').fill('E2E Renamed');
    await page.getByRole('button', { name: 'Rename' }).click();
    await expect(page.locator('details.action-menu form[aria-busy="true"]')).toHaveCount(1);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('E2E Renamed');
    await expect(page.getByRole('status').filter({ hasText: 'Billing group renamed' })).toBeVisible();
    await page.unroute(slowRename);
    // The menu closes once the rename is done.
    await expect(page.locator('details.action-menu')).not.toHaveAttribute('open', /.*/);

    // Assign a project, then deleting is refused with the reason.
    await page.getByRole('navigation', { name: 'Billing group' }).getByRole('link', { name: 'Projects' }).click();
    await page.getByLabel('Projects of this account in other billing groups').selectOption('acme-sandbox');
    await page.getByRole('button', { name: 'Assign projects' }).click();
    await expect(page.getByRole('cell', { name: 'acme-sandbox' }).first()).toBeVisible();
    await expect(page.getByRole('status').filter({ hasText: '1 project assigned to this group.' })).toBeVisible();
    // The header reloads too (the project count decides whether deleting is
    // refused): let it settle before opening its menu.
    await page.waitForLoadState('networkidle');
    await openActions(page);
    await page.getByText('Delete', { exact: true }).click();
    await expect(page.getByRole('note')).toContainText('cannot be deleted');
    await expect(page.getByRole('note').getByRole('link', { name: 'Projects tab' })).toBeVisible();

    // Move it back out, then delete with a confirmation naming the group.
    await page.reload();
    await waitForHydration(page);
    await page.getByLabel('Project to move').selectOption('acme-sandbox');
    await page.getByLabel('Move to').selectOption({ label: 'Research & Development' });
    // Move asks for a confirmation first: without it nothing is sent.
    const confirm = page.getByLabel('I have read the preview: move the project now');
    await page.getByRole('button', { name: 'Move', exact: true }).click();
    expect(await confirm.evaluate((box: HTMLInputElement) => box.validity.valueMissing)).toBe(true);
    await expect(page.getByText('Project moved.')).toHaveCount(0);
    await confirm.check();
    await page.getByRole('button', { name: 'Move', exact: true }).click();
    await expect(page.getByText('No projects are assigned to this billing group.')).toBeVisible();
    await page.reload();
    await waitForHydration(page);
    await openActions(page);
    await page.getByText('Delete', { exact: true }).click();
    await page.getByRole('button', { name: "Delete 'E2E Renamed'" }).click();
    await expect(page).toHaveURL(/\/account\/[^/]+\/billing$/);
    // It leaves the list; its events stay reachable under the deleted groups.
    const active = page.getByRole('region', { name: 'Billing groups', exact: true });
    await expect(active.getByRole('link', { name: 'E2E Renamed' })).toHaveCount(0);
    const deleted = page.getByRole('region', { name: 'Deleted billing groups' });
    await deleted.getByRole('link', { name: 'E2E Renamed' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toContainText('Deleted');
    await expect(page.getByRole('table', { name: 'Events' }).getByRole('row').nth(1)).toContainText('Billing group deleted');
  });

  test('a move shows in both groups’ events, and the log downloads as CSV', async ({ page }) => {
    await signIn(page, { hydrated: true });
    await openAccountBilling(page);
    await waitForHydration(page);
    await page.getByLabel('Project', { exact: true }).selectOption('acme-staging');
    await page.getByLabel('Billing group', { exact: true }).selectOption({ label: 'Research & Development' });
    await page.getByRole('button', { name: 'Assign' }).click();
    await expect(page.getByRole('status')).toHaveText('Project assigned.');
    await page.getByRole('link', { name: 'Research & Development' }).click();
    await page.getByRole('navigation', { name: 'Billing group' }).getByRole('link', { name: 'Events' }).click();
    const events = page.getByRole('table', { name: 'Events' });
    // In words on the page; the CSV keeps the stored name.
    await expect(events.getByRole('row').nth(1)).toContainText('Project moved in');
    await expect(events).not.toContainText('project_moved_in');
    await expect(events.getByRole('row').nth(1)).toContainText('acme-staging');
    const csvHref = await page.getByRole('link', { name: 'Download CSV' }).getAttribute('href');
    const csv = await page.request.get(csvHref!);
    expect(csv.headers()['content-type']).toContain('text/csv');
    const body = await csv.text();
    expect(body.split('\r\n')[0]).toBe('log_entry_id,create_time,actor,event_type,project_name,event_desc,details');
    expect(body).toContain('project_moved_in');
    // Filter by type (a plain GET form).
    await page.getByLabel('Event type').selectOption('billing_group_created');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect(events.getByRole('row')).toHaveCount(2);
  });

  test('primary group in Settings; a new project lands in it', async ({ page }) => {
    await signIn(page, { hydrated: true });
    await openAccountBilling(page);
    await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Settings' }).click();
    await waitForHydration(page);
    await page.getByRole('combobox', { name: 'Primary billing group' }).selectOption({ label: 'Research & Development' });
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('status')).toHaveText('Primary billing group saved.');

    await page.goto('projects');
    await waitForHydration(page);
    const acme = page.getByRole('region', { name: 'Acme Analytics' });
    await acme.locator('summary').filter({ hasText: 'Create project' }).click();
    await acme.getByLabel('Project name').fill('e2e-new-project');
    await acme.getByRole('button', { name: 'Create project' }).click();
    const row = acme.getByRole('row', { name: /e2e-new-project/ });
    await expect(row).toContainText('Research & Development');
    await expect(row).toContainText('Primary');

    // Put the primary back for the other tests.
    await openAccountBilling(page);
    await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Settings' }).click();
    await waitForHydration(page);
    await page.getByRole('combobox', { name: 'Primary billing group' }).selectOption({ label: 'Acme Analytics billing' });
    await page.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('status')).toHaveText('Primary billing group saved.');
  });

  test('billing information: field messages, then an all-or-nothing save', async ({ page }) => {
    await signIn(page, { hydrated: true });
    await openAccountBilling(page);
    await page.getByRole('link', { name: 'Research & Development' }).click();
    await page.getByRole('navigation', { name: 'Billing group' }).getByRole('link', { name: 'Billing information' }).click();
    await waitForHydration(page);
    await page.getByLabel('Credit card').check();
    await page.getByLabel('Card number').fill('4242 4242 4242 4241');
    await page.getByLabel('Expiry (MM/YY)').fill('01/20');
    await page.getByLabel('Country').selectOption('FI');
    await page.getByLabel('VAT ID').fill('FI123');
    await page.getByRole('button', { name: 'Save billing information' }).click();
    // The error pattern: a summary at the top, focused, linking each field;
    // each field marked and described by its message.
    const summary = page.locator('.error-summary');
    await expect(summary).toBeFocused();
    await expect(summary.getByRole('heading')).toHaveText(/^Not saved: \d+ things to fix$/);
    await expect(summary.getByRole('link', { name: 'This card number is not valid; check it for typos.' })).toHaveAttribute('href', '#card_number');
    await expect(summary).toContainText('This card has expired.');
    await expect(summary.getByRole('link', { name: /is not a valid VAT ID for Finland/ })).toHaveAttribute('href', '#vat_id');
    await expect(page.getByLabel('VAT ID')).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByLabel('VAT ID')).toHaveAttribute('aria-describedby', 'vat_id-error');
    await expect(page.locator('#vat_id-error')).toContainText(/is not a valid VAT ID for Finland/);
    await expect(page.getByLabel('Company')).not.toHaveAttribute('aria-invalid', 'true');

    await page.getByLabel('Card number').fill('4242 4242 4242 4242');
    await page.getByLabel('Expiry (MM/YY)').fill('12/39');
    await page.getByLabel('Name on card').fill('Dana Demo');
    await page.getByLabel('VAT ID').fill('FI12345678');
    await page.getByLabel('Company').fill('Acme Research Oy');
    await page.getByRole('button', { name: 'Save billing information' }).click();
    await expect(page.getByRole('status')).toHaveText('Billing information saved.');
    await expect(page.getByText('Visa ending in 4242, expires 12/2039')).toBeVisible();
    await page.reload();
    await expect(page.getByLabel('Company')).toHaveValue('Acme Research Oy');
  });
});

test.describe('billing groups with JavaScript off', () => {
  test.use({ javaScriptEnabled: false });

  test('the account Billing tab totals its groups in a chosen currency', async ({ page }) => {
    await signIn(page, { hydrated: false, next: '/projects' });
    // Projects & accounts shows each account's month to date.
    await expect(page.locator('.month-to-date').first()).toContainText(/\d\.\d\d [A-Z]{3} this month/);
    await openAccountBilling(page);
    const table = page.getByRole('table', { name: 'Billing groups' });
    await expect(table.locator('tfoot')).toContainText(/Total of \d+ billing groups/);
    await page.getByLabel('Show the total in').selectOption('USD');
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await expect(page).toHaveURL(/currency=USD/);
    await expect(table.locator('tfoot td').nth(2)).toHaveText('USD');
    // The total in USD is the USD beside it.
    const cell = (await table.locator('tfoot td').nth(1).textContent()) ?? '';
    const [local, usd] = cell.split(' · ');
    expect(local.trim()).toBe(usd.trim());
  });

  test('billing information: a refused plain post shows the error summary, focused', async ({ page }) => {
    await signIn(page, { hydrated: false, next: '/projects' });
    await openAccountBilling(page);
    await page.getByRole('link', { name: 'Research & Development' }).click();
    await page.getByRole('navigation', { name: 'Billing group' }).getByRole('link', { name: 'Billing information' }).click();
    // Card fields show only under "Credit card", without a script too.
    await page.getByLabel('Pay by invoice (sent to the billing emails)').check();
    await expect(page.getByLabel('Card number')).toBeHidden();
    await page.getByLabel('Country').selectOption('FI');
    await page.getByLabel('VAT ID').fill('FI123');
    await page.getByRole('button', { name: 'Save billing information' }).click();
    const summary = page.locator('.error-summary');
    await expect(summary).toBeVisible();
    await expect(summary).toBeFocused();
    await expect(summary.getByRole('link', { name: /is not a valid VAT ID for Finland/ })).toHaveAttribute('href', '#vat_id');
    await expect(page.getByLabel('VAT ID')).toHaveAttribute('aria-invalid', 'true');
  });

  test('read paths: Billing tab, group tabs, events filter', async ({ page }) => {
    await signIn(page, { hydrated: false, next: '/projects' });
    await openAccountBilling(page);
    await page.getByRole('link', { name: 'Research & Development' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Research & Development');
    const tabs = page.getByRole('navigation', { name: 'Billing group' });
    await tabs.getByRole('link', { name: 'Projects', exact: true }).click();
    await expect(page.getByRole('cell', { name: 'acme-ml-lab' }).first()).toBeVisible();
    await tabs.getByRole('link', { name: 'Events', exact: true }).click();
    await page.getByLabel('Event type').selectOption('billing_group_created');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect(page).toHaveURL(/type=billing_group_created/);
    await expect(page.getByRole('table', { name: 'Events' }).getByRole('row')).toHaveCount(2);
    await tabs.getByRole('link', { name: 'Billing information', exact: true }).click();
    await expect(page.getByLabel('Company')).toBeVisible();
  });

  test('the guided create flow works as plain forms: details, a project, edit, create', async ({ page }) => {
    await signIn(page, { hydrated: false });
    // A project of its own to move into the new group.
    await page.goto('projects');
    const acme = page.getByRole('region', { name: 'Acme Analytics' }).or(page.locator('section', { hasText: 'Acme Analytics' })).first();
    await acme.locator('summary', { hasText: 'Create project' }).click();
    await acme.getByLabel('Project name').fill('e2e-guided');
    await acme.getByRole('button', { name: 'Create project' }).click();
    await expect(page.getByText("Project 'e2e-guided' created.").or(page.getByRole('link', { name: 'e2e-guided' })).first()).toBeVisible();

    await openAccountBilling(page);
    await page.getByRole('link', { name: 'Create billing group' }).click();
    await page.getByLabel('Billing group name').fill('E2E Guided');
    await page.getByRole('button', { name: 'Next: billing details' }).click();
    await expect(page.getByRole('listitem').filter({ hasText: 'Billing details' })).toHaveAttribute('aria-current', 'step');
    await page.getByLabel('Pay by invoice (sent to the billing emails)').check();
    await page.getByLabel('Company').fill('Guided Oy');
    await page.getByLabel('Address lines').fill('Guided Street 1');
    await page.getByLabel('City').fill('Helsinki');
    await page.getByLabel('Country', { exact: true }).selectOption('FI');
    await page.getByLabel('Invoice emails (one per line)').fill('not an email');
    await page.getByRole('button', { name: 'Next: projects' }).click();
    // A bad email keeps the flow on the details, with the message there.
    await expect(page.getByRole('listitem').filter({ hasText: 'Billing details' })).toHaveAttribute('aria-current', 'step');
    await expect(page.getByRole('alert').first()).toBeVisible();
    await expect(page.getByLabel('Company')).toHaveValue('Guided Oy');
    await page.getByLabel('Invoice emails (one per line)').fill('ap@guided.example');
    await page.getByRole('button', { name: 'Next: projects' }).click();
    await page.getByLabel(/^e2e-guided \(now in/).check();
    await page.getByRole('button', { name: 'Next: summary' }).click();
    const summary = page.locator('dl.summary');
    await expect(summary).toContainText('E2E Guided');
    await expect(summary).toContainText('Guided Oy');
    await expect(summary).toContainText('e2e-guided');
    // Editing a step keeps the other answers.
    await page.getByRole('link', { name: 'Edit name' }).click();
    await page.getByLabel('Billing group name').fill('E2E Guided 2');
    await page.getByRole('button', { name: 'Next: billing details' }).click();
    await expect(page.getByLabel('Company')).toHaveValue('Guided Oy');
    await page.getByRole('button', { name: 'Next: projects' }).click();
    await expect(page.getByLabel(/^e2e-guided \(now in/)).toBeChecked();
    await page.getByRole('button', { name: 'Next: summary' }).click();
    await page.getByRole('button', { name: 'Create billing group' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toContainText('E2E Guided 2');
    const tabs = page.getByRole('navigation', { name: 'Billing group' });
    await tabs.getByRole('link', { name: 'Projects', exact: true }).click();
    await expect(page.getByRole('cell', { name: 'e2e-guided' }).first()).toBeVisible();
    await tabs.getByRole('link', { name: 'Billing information', exact: true }).click();
    await expect(page.getByLabel('Company')).toHaveValue('Guided Oy');
    await expect(page.getByLabel('Pay by invoice (sent to the billing emails)')).toBeChecked();
    // (The account's currency, as the flow offered it, not USD.)
    await expect(page.getByLabel('Billing currency')).toHaveValue('EUR');
  });

  test('rename works as a plain form post', async ({ page }) => {
    await signIn(page, { hydrated: false, next: '/projects' });
    await openAccountBilling(page);
    await page.getByRole('link', { name: 'Research & Development' }).click();
    await openActions(page);
    await page.getByLabel('New name').fill('Research & Development');
    await page.getByRole('button', { name: 'Rename' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Research & Development');
    const response = await page.goto(page.url().replace(/\/billing-group\/[^/?]+.*/, '/billing-group/00000000-0000-0000-0000-000000000000'));
    expect(response?.status()).toBe(404);
  });
});
