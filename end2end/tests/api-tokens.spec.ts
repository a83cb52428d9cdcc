import { expect, test } from '@playwright/test';
import { signIn, waitForHydration } from './helpers';

test.describe('API tokens with JavaScript', () => {
  test('create a token from the user menu, use it on the REST API, revoke it', async ({ page }) => {
    await signIn(page, { hydrated: true });
    await waitForHydration(page);
    await page.getByLabel('User menu').click();
    await page.getByRole('link', { name: 'API tokens' }).click();
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('API tokens');
    await waitForHydration(page);

    // An empty description is refused next to the field.
    await page.getByRole('button', { name: 'Create token' }).click();
    await expect(page.getByText('Say what the token is for')).toBeVisible();

    await page.getByLabel('Description').fill('Playwright check');
    await page.getByRole('button', { name: 'Create token' }).click();
    await expect(page.getByText('Copy it now: it is not shown again.')).toBeVisible();
    const token = await page.getByLabel('New token').inputValue();
    expect(token).toMatch(/^[0-9a-f]{64}$/);
    const row = page.getByRole('row', { name: /Playwright check/ });
    await expect(row).toBeVisible();
    await expect(row).toContainText(token.slice(0, 8));
    await expect(row).not.toContainText(token.slice(8, 30));

    // The token works on the API (relative to the app's base path).
    const accounts = await page.request.get('v1/account', { headers: { authorization: `aivenv1 ${token}` } });
    expect(accounts.status()).toBe(200);
    expect((await accounts.json()).accounts.map((a: { account_name: string }) => a.account_name)).toContain('Acme Analytics');
    await page.reload();
    await expect(page.getByRole('row', { name: /Playwright check/ })).not.toContainText('Never');

    await waitForHydration(page);
    await page.getByRole('button', { name: `Revoke token ${token.slice(0, 8)}…` }).click();
    await expect(page.getByRole('row', { name: /Playwright check/ })).toHaveCount(0);
    const refused = await page.request.get('v1/account', { headers: { authorization: `aivenv1 ${token}` } });
    expect(refused.status()).toBe(401);
    expect((await refused.json()).errors[0].status).toBe(401);
  });
});

test.describe('API tokens with JavaScript off', () => {
  test.use({ javaScriptEnabled: false });

  test('the page lists tokens and says why creating needs JavaScript', async ({ page }) => {
    await signIn(page, { hydrated: false, next: '/profile/tokens' });
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('API tokens');
    await expect(page.getByRole('button', { name: 'Create token' })).toBeDisabled();
    await expect(page.getByText('Creating a token needs JavaScript')).toBeVisible();
  });
});
