import { Browser, BrowserContextOptions, expect, test } from '@playwright/test';
import { signIn, waitForHydration } from './helpers';

// Issue 20: what a person's first visit downloads (HTML, CSS, JS and WASM,
// counted as the network carried them, compressed, headers included) until
// the page is hydrated and the network is idle, with an empty cache. The
// figures are printed for docs/BENCHMARKS.md, and the check keeps later
// work from growing the bundle unnoticed. Meaningful on the release bundle,
// which is what .ci/test.sh builds.
//
// The target is 250 KB a page; the unsplit bundle is about 790 KB,
// and the route-split build that reached 224 KB for the sign-in page is not
// in use (docs/BENCHMARKS.md says why). Until it is, the check holds the
// bundle to where it is now, with room for about 3 %. Credit notes and
// void-and-reissue (issue 27) added 43.6 KB of WASM (790,986 → 834,580 B
// brotli), the invoices list, error summary, event labels and account
// totals (issue 28) 31.6 KB more (→ 866,226 B), hence 900,000 from 820,000.
// The account's Webhooks tab (issue 30) brought the first visits from about
// 889,000 to 921,718 / 923,248 / 926,426 B, hence 950,000; the account's
// Invoices tab, the latest invoices and the year chart's months (issue 28)
// to 948,954 / 950,478 / 954,189 B, hence 975,000: the bundle stays one
// file for every page until islands (issue 31) split it.
const LIMIT = Number(process.env.FIRST_VISIT_LIMIT ?? 975_000);

async function firstVisit(browser: Browser, path: string, state?: BrowserContextOptions['storageState']) {
  const context = await browser.newContext({ storageState: state });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  const urls = new Map<string, string>();
  const sizes = new Map<string, number>();
  cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, e.response.url));
  cdp.on('Network.loadingFinished', (e) => {
    const url = urls.get(e.requestId) ?? e.requestId;
    sizes.set(url, (sizes.get(url) ?? 0) + e.encodedDataLength);
  });
  await page.goto(path);
  await waitForHydration(page, 30_000);
  await page.waitForLoadState('networkidle');
  await context.close();
  const total = [...sizes.values()].reduce((a, b) => a + b, 0);
  const files = [...sizes.entries()]
    .map(([url, bytes]) => `  ${bytes.toString().padStart(9)}  ${new URL(url).pathname}`)
    .join('\n');
  console.log(`first visit to ${path}: ${total} bytes\n${files}`);
  return total;
}

test('a first visit to the sign-in, projects and group pages stays within its budget @bytes', async ({ browser, page }) => {
  test.setTimeout(120_000);
  expect(await firstVisit(browser, 'signin')).toBeLessThanOrEqual(LIMIT);

  await signIn(page, { hydrated: false });
  await page.goto('projects');
  const account = await page.getByRole('link', { name: 'Acme Analytics', exact: true }).getAttribute('href');
  await page.goto(account!);
  const group = await page.getByRole('link', { name: 'Acme Analytics billing' }).getAttribute('href');
  const state = await page.context().storageState();

  expect(await firstVisit(browser, 'projects', state)).toBeLessThanOrEqual(LIMIT);
  expect(await firstVisit(browser, group!.replace(/^\//, ''), state)).toBeLessThanOrEqual(LIMIT);
});
