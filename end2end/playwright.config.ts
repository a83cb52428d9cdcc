import { defineConfig } from '@playwright/test';

// The server is started by .ci/test.sh (fresh SQLite database with demo data)
// and its address passed in BASE_URL — with the base path when the app is
// served at a sub-path (.ci/deploy-test.sh: http://…/billing/). Tests open
// relative paths ('projects', not '/projects') so they stay under it; the
// trailing slash makes them resolve below the base. The browser is Debian's Chromium:
// Playwright's own browser download cannot work on this machine.
export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL: (process.env.BASE_URL ?? 'http://127.0.0.1:3100').replace(/\/?$/, '/'),
    trace: 'retain-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        browserName: 'chromium',
        launchOptions: {
          executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
          args: [
            '--headless',
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
        },
      },
    },
  ],
});
