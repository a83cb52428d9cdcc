import { test, expect } from '@playwright/test';
import { DEMO_PASSWORD, waitForHydration } from './helpers';

// Issue 29: the developer role. A platform engineer runs services on the
// project page and sees the group's costs, but gets no billing, member or
// invoice controls. With JavaScript and without it.
for (const hydrated of [true, false]) {
  test.describe(`a developer, JavaScript ${hydrated ? 'on' : 'off'}`, () => {
    test.use({ javaScriptEnabled: hydrated });

    test('runs services and sees costs, with no billing or member controls', async ({ page }) => {
      await page.goto('signin');
      if (hydrated) await waitForHydration(page);
      await page.getByLabel('Email').fill('developer@example.com');
      await page.getByLabel('Password').fill(DEMO_PASSWORD);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page).not.toHaveURL(/\/signin/);

      await page.goto('project/acme-prod');
      if (hydrated) await waitForHydration(page);
      await expect(page.locator('dt:has-text("Your role") + dd')).toHaveText('developer');
      await expect(page.getByRole('button', { name: 'Create service' })).toBeVisible();
      await expect(page.getByRole('columnheader', { name: 'Actions' })).toBeVisible();

      await page.goto('projects');
      await page.getByRole('link', { name: 'Acme Analytics', exact: true }).click();
      await page.getByRole('link', { name: 'Acme Analytics billing' }).click();
      await expect(page.getByRole('group', { name: 'Accumulated costs' })).toBeVisible();
      await page.getByRole('navigation', { name: 'Billing group' }).getByRole('link', { name: 'Billing information', exact: true }).click();
      await expect(page.getByRole('button', { name: /Save/ })).toHaveCount(0);

      await page.goto('projects');
      await page.getByRole('link', { name: 'Acme Analytics', exact: true }).click();
      await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Members' }).click();
      const roles = page.getByRole('definition');
      await expect(page.getByText('create, change and terminate services, and see costs')).toBeVisible();
      await expect(roles).toHaveCount(4);
      await expect(page.getByRole('heading', { name: 'Invite a member' })).toHaveCount(0);
      await expect(page.getByRole('button', { name: /Change role/ })).toHaveCount(0);
    });
  });
}
