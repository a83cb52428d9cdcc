import { test, expect, Page } from '@playwright/test';
import { spawn, ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitForHydration } from './helpers';

// Issue 16: the console on an EMPTY database, as a team starting for real
// finds it. Each backend gets its own server, started here from the built
// binary (BILLING_BIN) without demo data; the setup link is read from what
// the server prints. PostgreSQL runs when .ci/test.sh passes a fresh,
// empty database in PEOPLE_PG_URL.
const BIN = process.env.BILLING_BIN ?? '';
const ROOT = path.resolve(__dirname, '..', '..');
const PASSWORD = 'correct horse battery staple';

const backends: { name: string; url: () => string }[] = [
  { name: 'SQLite', url: () => `sqlite://${mkdtempSync(path.join(tmpdir(), 'bc-people-'))}/people.db` },
];
if (process.env.PEOPLE_PG_URL) {
  backends.push({ name: 'PostgreSQL', url: () => process.env.PEOPLE_PG_URL! });
}

/** What the spec's own server printed, kept to show when a test fails
 * (its log is not the suite's server log). */
let serverOutput = '';

/** Starts the server on an empty database; resolves with the setup link it prints. */
function start(databaseUrl: string, port: number): Promise<{ server: ChildProcess; setupLink: string }> {
  if (!BIN) throw new Error('BILLING_BIN is not set (run through .ci/test.sh)');
  const server = spawn(BIN, ['serve'], {
    cwd: ROOT,
    env: {
      ...process.env,
      LEPTOS_SITE_ADDR: `127.0.0.1:${port}`,
      LEPTOS_SITE_ROOT: 'target/site-test',
      DATABASE_URL: databaseUrl,
      BILLING_DEMO: 'false',
      MONTH_CLOSE_SCHEDULED: 'false',
      PUBLIC_URL: '',
      BASE_PATH: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`no setup link printed:\n${output}`)), 20_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      serverOutput = output;
      const link = output.match(/https?:\/\/\S+\/setup\?token=[0-9a-f]+/);
      if (link && output.includes('listening')) {
        clearTimeout(timer);
        resolve({ server, setupLink: link[0] });
      }
    };
    server.stdout!.on('data', read);
    server.stderr!.on('data', read);
    server.on('exit', (code) => reject(new Error(`server exited (${code}):\n${output}`)));
  });
}

async function openMembers(page: Page, account: string) {
  await page.goto('projects');
  await page.getByRole('link', { name: account, exact: true }).click();
  await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Members' }).click();
  await expect(page.getByRole('heading', { name: 'Members', exact: true })).toBeVisible();
}

for (const backend of backends) {
  test.describe(`first run on an empty ${backend.name} database @first-run`, () => {
    let server: ChildProcess | undefined;
    let base = '';
    let setupLink = '';

    test.beforeAll(async () => {
      const port = await freePort();
      base = `http://127.0.0.1:${port}/`;
      ({ server, setupLink } = await start(backend.url(), port));
    });

    test.afterAll(() => {
      server?.kill('SIGTERM');
    });

    test.afterEach(async ({}, testInfo) => {
      if (testInfo.status !== testInfo.expectedStatus) {
        console.log(`---- the ${backend.name} server's output (last 6,000 characters) ----\n${serverOutput.slice(-6000)}`);
      }
    });

    test('setup, an invitation, roles, and the last admin', async ({ browser }) => {
      test.setTimeout(120_000);
      const admin = await browser.newContext({ baseURL: base });
      const page = await admin.newPage();
      // Why a page would not hydrate, printed with the failure.
      page.on('pageerror', (error) => console.log(`page error: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') console.log(`console error: ${message.text()}`);
      });
      page.on('requestfailed', (request) => console.log(`request failed: ${request.url()} ${request.failure()?.errorText}`));

      // Before setup, a wrong token is refused and nothing is shown to fill.
      await page.goto('setup?token=0000');
      await expect(page.getByRole('alert')).toContainText('not valid');
      await expect(page.getByLabel('Your name')).toHaveCount(0);

      // The first run: the operator and the first account.
      await page.goto(setupLink);
      // The server's first page in this browser: the bundle loads first.
      await waitForHydration(page, 30_000);
      await page.getByLabel('Your name').fill('Olga Operator');
      await page.getByLabel('Email').fill('olga@example.com');
      await page.getByLabel('Password').fill('password1234');
      await page.getByLabel('Account name').fill('First Corp');
      await page.getByLabel('Billing currency').selectOption('EUR');
      await page.getByRole('button', { name: 'Create operator and account' }).click();
      await expect(page.getByRole('alert').filter({ hasText: 'most common' })).toBeVisible();
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Create operator and account' }).click();
      await expect(page).toHaveURL(/\/projects$/);
      await expect(page.getByRole('heading', { name: 'First Corp' })).toBeVisible();

      // The link works once.
      const again = await browser.newContext({ baseURL: base });
      const stranger = await again.newPage();
      await stranger.goto(setupLink);
      await expect(stranger.getByRole('alert')).toContainText('not valid');
      await again.close();

      // Invite a billing manager; the link is shown once.
      await openMembers(page, 'First Corp');
      await waitForHydration(page);
      await page.getByLabel('Email').fill('bea@example.com');
      await page.getByLabel('Role', { exact: true }).selectOption('billing');
      await page.getByRole('button', { name: 'Invite', exact: true }).click();
      const link = await page.getByLabel('Invitation link').inputValue();
      expect(link).toContain('/invitation?token=');
      await expect(page.getByRole('region', { name: 'Pending invitations' })).toContainText('bea@example.com');

      // Bea opens it in another browser, chooses a password, and is in.
      const other = await browser.newContext({ baseURL: base });
      const bea = await other.newPage();
      await bea.goto(link);
      await expect(bea.getByText('olga@example.com invited bea@example.com to the account First Corp as billing.')).toBeVisible();
      await waitForHydration(bea, 30_000);
      await bea.getByLabel('Your name').fill('Bea Billing');
      await bea.getByLabel('Password').fill(PASSWORD);
      await bea.getByRole('button', { name: 'Join' }).click();
      await expect(bea).toHaveURL(/\/account\/[^/]+\/billing$/);
      const accountUrl = bea.url();

      // What the billing role may do: create groups, but not manage members
      // or the primary group.
      await expect(bea.getByRole('heading', { name: 'Create billing group' })).toBeVisible();
      await bea.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Members' }).click();
      await expect(bea.getByRole('row', { name: /bea@example\.com/ })).toContainText('billing');
      await expect(bea.getByRole('heading', { name: 'Invite a member' })).toHaveCount(0);
      await expect(bea.getByRole('button', { name: /Change role/ })).toHaveCount(0);
      await bea.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Settings' }).click();
      await expect(bea.getByText('Only account admins can change the primary billing group.')).toBeVisible();

      // The admin makes her a viewer; her next page reflects it.
      await page.reload();
      await waitForHydration(page);
      await page.getByLabel('Role of bea@example.com', { exact: true }).selectOption('viewer');
      await page.getByRole('button', { name: 'Change role of bea@example.com' }).click();
      await expect(page.getByRole('status')).toContainText('bea@example.com is now viewer.');
      await bea.goto(accountUrl);
      await expect(bea.getByRole('heading', { name: 'Billing groups' })).toBeVisible();
      await expect(bea.getByRole('heading', { name: 'Create billing group' })).toHaveCount(0);

      // The last admin cannot demote themselves.
      await page.getByLabel('Role of olga@example.com', { exact: true }).selectOption('viewer');
      await page.getByRole('button', { name: 'Change role of olga@example.com' }).click();
      await expect(page.getByRole('alert').filter({ hasText: 'at least one admin' })).toBeVisible();
      await page.reload();
      await expect(page.getByRole('row', { name: /olga@example\.com/ })).toContainText('admin');

      // The account's log has it all.
      await page.getByRole('navigation', { name: 'Account' }).getByRole('link', { name: 'Settings' }).click();
      const log = page.getByRole('table', { name: 'Account events' });
      for (const type of ['Account created', 'Member invited', 'Member joined', "Member's role changed"]) {
        await expect(log).toContainText(type);
      }
      await expect(log).not.toContainText('member_invited');
      await other.close();
      await admin.close();
    });
  });
}
