import { Browser, expect, Page, test } from '@playwright/test';
import { ChildProcess } from 'node:child_process';
import { DEMO_EMAIL, DEMO_PASSWORD, startDemoServer, waitForHydration } from './helpers';

// Text people type reaches HTML in every context as text (issue 26): the
// `<title>`, a `<textarea>`'s value, inputs, headings, tables. The payload
// closes each raw-text element the browser knows, opens a comment, leaves
// an attribute and adds an image and a refresh: if any of it became markup
// the page would gain an element (or navigate away). A server of its own
// keeps the renamed demo away from the other specs.
// The comment opens last, so it cannot hide the elements before it.
const PAYLOAD = `x</title></textarea></script>"'><img src=x id=pwn><meta http-equiv=refresh content=0;url=about:blank><!--`;

let demo: { server: ChildProcess; base: string };
test.beforeAll(async () => {
  demo = await startDemoServer('injection');
});
test.afterAll(() => demo?.server.kill());

async function signedIn(browser: Browser, javaScript: boolean): Promise<Page> {
  const context = await browser.newContext({ baseURL: demo.base, javaScriptEnabled: javaScript });
  const page = await context.newPage();
  await page.goto('signin');
  await page.getByLabel('Email').fill(DEMO_EMAIL);
  await page.getByLabel('Password').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).not.toHaveURL(/\/signin/);
  return page;
}

/** No element the payload would add, and the page is still ours. */
async function nothingInjected(page: Page) {
  await expect(page.locator('#pwn')).toHaveCount(0);
  await expect(page.locator('img[src="x"]')).toHaveCount(0);
  await expect(page.locator('meta[http-equiv]')).toHaveCount(0);
  expect(page.url()).toContain(demo.base);
  expect(await page.locator('body').count()).toBe(1);
}

/** Posts a server function's form, as the page's own form would. */
async function post(page: Page, endpoint: string, form: Record<string, string>) {
  const response = await page.request.post(`api/${endpoint}`, {
    form,
    headers: { Accept: 'application/json' },
  });
  expect(response.status(), `${endpoint}: ${await response.text()}`).toBeLessThan(400);
}

test('stored and reflected text shows as typed, never as markup, with JavaScript on and off', async ({ browser }) => {
  // About 30 page loads on a server of its own: 22 s on a quiet machine,
  // over the default 30 s while the deployment test's instances run.
  test.setTimeout(90_000);
  const admin = await signedIn(browser, true);
  await admin.goto('projects');
  await admin.getByRole('link', { name: 'Acme Analytics', exact: true }).click();
  const account = admin.url().match(/account\/([^/]+)\//)![1];
  await admin.getByRole('link', { name: 'Acme Analytics billing' }).click();
  const group = admin.url().match(/billing-group\/([^/?#]+)/)![1];

  await post(admin, 'rename_billing_group', { billing_group_id: group, billing_group_name: PAYLOAD });
  await post(admin, 'rename_account', { account_id: account, account_name: PAYLOAD });
  await post(admin, 'save_billing_info', {
    billing_group_id: group,
    payment_method: 'email',
    company: PAYLOAD,
    address: `${PAYLOAD}\nsecond line`,
    city: PAYLOAD,
    state: PAYLOAD,
    zip_code: '00100',
    country_code: 'FI',
    vat_id: '',
    billing_emails: 'ap@example.com',
    billing_contact_emails: '',
    billing_currency: 'EUR',
    billing_extra_text: PAYLOAD,
  });

  // A member who joins by invitation with the payload as their name.
  const invited = await admin.request.post('api/invite_member', {
    form: { account_id: account, email: 'mallory@example.com', role: 'viewer' },
    headers: { Accept: 'application/json' },
  });
  expect(invited.status()).toBeLessThan(400);
  const link: string = (await invited.json()).link;
  const joining = await (await browser.newContext({ baseURL: demo.base })).newPage();
  await joining.goto(link);
  await waitForHydration(joining, 30_000);
  await joining.getByLabel('Your name').fill(PAYLOAD);
  await joining.getByLabel('Password').fill('a long enough passphrase 2026');
  await joining.getByRole('button', { name: 'Join' }).click();
  await expect(joining).toHaveURL(/\/account\/[^/]+\/billing$/);
  await joining.context().close();

  const reflected = new URLSearchParams({
    step: '2',
    billing_group_name: PAYLOAD,
    company: PAYLOAD,
    address: PAYLOAD,
    city: PAYLOAD,
    billing_extra_text: PAYLOAD,
  });
  for (const javaScript of [true, false]) {
    const page = await signedIn(browser, javaScript);
    for (const path of [
      'projects',
      `account/${account}/billing`,
      `account/${account}/settings`,
      `account/${account}/members`,
      `billing-group/${group}`,
      `billing-group/${group}/projects`,
      `billing-group/${group}/invoices`,
      `billing-group/${group}/events`,
      `billing-group/${group}/events?type=${encodeURIComponent(PAYLOAD)}&project=${encodeURIComponent(PAYLOAD)}`,
      `billing-group/${group}/billing-information`,
      `account/${account}/new-billing-group?${reflected}`,
      `signin?next=${encodeURIComponent(PAYLOAD)}`,
    ]) {
      await page.goto(path);
      await nothingInjected(page);
    }

    await page.goto(`billing-group/${group}`);
    await expect(page).toHaveTitle(`${PAYLOAD} · Overview · Billing console`);
    await expect(page.getByRole('heading', { level: 1 })).toContainText(PAYLOAD);

    await page.goto(`account/${account}/members`);
    await expect(page.getByRole('row', { name: /mallory@example\.com/ })).toContainText(PAYLOAD);

    await page.goto(`billing-group/${group}/billing-information`);
    await expect(page.getByLabel('Address lines')).toHaveValue(`${PAYLOAD}\nsecond line`);
    await expect(page.getByLabel('Extra text on invoices')).toHaveValue(PAYLOAD);
    await expect(page.getByLabel('Company')).toHaveValue(PAYLOAD);
    await nothingInjected(page);

    // The guided flow keeps its answers server-side (a draft named in the
    // URL); query values are not taken. The answers come back as typed.
    await page.goto(`account/${account}/new-billing-group`);
    await page.getByLabel('Billing group name').fill(PAYLOAD);
    await page.getByRole('button', { name: 'Next: billing details' }).click();
    await page.getByLabel('Company').fill(PAYLOAD);
    await page.getByLabel('Address lines').fill(PAYLOAD);
    await page.getByLabel('City').fill(PAYLOAD);
    await page.getByRole('button', { name: 'Next: projects' }).click();
    await expect(page).toHaveURL(/new-billing-group\?draft=[0-9a-f]{32}&step=[23]$/);
    expect(page.url()).not.toContain('pwn');
    await nothingInjected(page);
    await page.goto(page.url().replace(/step=\d$/, 'step=2'));
    await expect(page.getByLabel('Address lines')).toHaveValue(PAYLOAD);
    await expect(page.getByLabel('Company')).toHaveValue(PAYLOAD);
    await nothingInjected(page);
    await page.context().close();
  }
});
