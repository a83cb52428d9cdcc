import { test, expect } from '@playwright/test';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { signIn, waitForHydration } from './helpers';

// Issue 30: an admin adds a webhook endpoint on the account's Webhooks
// tab, sees its signing secret once, and removes it; a bad form answers
// field by field. The e2e server allows loopback targets
// (WEBHOOK_ALLOW_PRIVATE_TARGETS), so the receiver is a server of this test.
let receiver: Server;
let receiverUrl = '';

test.beforeAll(async () => {
  receiver = createServer((request, response) => {
    request.resume();
    request.on('end', () => { response.statusCode = 204; response.end(); });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
});

test.afterAll(async () => {
  await new Promise((resolve) => receiver.close(resolve));
});

async function openWebhooks(page: import('@playwright/test').Page, hydrated: boolean) {
  await page.goto('projects');
  await page.getByRole('link', { name: 'Acme Analytics', exact: true }).click();
  await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Webhooks' }).click();
  if (hydrated) await waitForHydration(page);
  await expect(page.getByRole('heading', { name: 'Endpoints' })).toBeVisible();
}

test('an admin adds an endpoint, sees its secret once, and removes it', async ({ page }) => {
  await signIn(page, { hydrated: true });
  await openWebhooks(page, true);
  await expect(page.getByText('No endpoints yet.')).toBeVisible();

  // No event chosen: a field error, nothing added.
  await page.getByLabel('URL', { exact: true }).fill(receiverUrl);
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  // The summary at the top of the form takes the focus and links to the
  // field; the message also stands at the field.
  const summary = page.getByRole('alert').filter({ hasText: 'Not saved: one thing to fix' });
  await expect(summary).toBeFocused();
  await expect(summary.getByRole('link', { name: 'Choose at least one event to send.' })).toHaveAttribute('href', '#events');
  await expect(page.locator('#events-error')).toHaveText('Choose at least one event to send.');
  await expect(page.getByText('No endpoints yet.')).toBeVisible();

  await page.getByLabel('Description (optional)').fill('ERP');
  await page.getByRole('checkbox', { name: /invoice\.paid/ }).check();
  await page.getByRole('checkbox', { name: /member\.removed/ }).check();
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  const secret = page.getByLabel('Signing secret');
  await expect(secret).toHaveValue(/^whsec_[A-Za-z0-9+/=]{40,}$/);
  const endpoints = page.getByRole('table', { name: 'Webhook endpoints' });
  await expect(endpoints.getByRole('row')).toHaveCount(2);
  await expect(endpoints).toContainText(receiverUrl);
  await expect(endpoints).toContainText('invoice.paid');
  await expect(endpoints).toContainText('member.removed');
  await expect(endpoints).not.toContainText('invoice.issued');

  // Shown once: not after a reload.
  await page.reload();
  await waitForHydration(page);
  await expect(page.getByLabel('Signing secret')).toHaveCount(0);
  await expect(page.getByRole('table', { name: 'Webhook endpoints' })).toContainText(receiverUrl);

  await page.getByRole('button', { name: `Remove the endpoint ${receiverUrl}` }).click();
  await expect(page.getByText('Endpoint removed: nothing more is sent to it.')).toBeVisible();
  await expect(page.getByText('No endpoints yet.')).toBeVisible();
});

test('without JavaScript the tab lists endpoints and says adding needs it', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, { hydrated: false });
  await openWebhooks(page, false);
  await expect(page.getByRole('heading', { name: 'Deliveries' })).toBeVisible();
  await expect(page.getByText('Adding an endpoint needs JavaScript')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Add endpoint' })).toBeDisabled();
  await context.close();
});

test('a member who is not an admin is told their role does not allow it', async ({ page }) => {
  await page.goto('signin');
  await waitForHydration(page);
  await page.getByLabel('Email').fill('billing@example.com');
  await page.getByLabel('Password').fill('demo-billing-2026');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).not.toHaveURL(/\/signin/);
  await page.goto('projects');
  await page.getByRole('link', { name: 'Acme Analytics', exact: true }).click();
  await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Webhooks' }).click();
  await expect(page.getByText('does not allow this')).toBeVisible();
});
