// The web app in a real browser (Debian's Chromium, headless) against the real stack: the Drive
// emulator with 300 images (one that always fails to download), the services as processes, a local
// store. Sign in, paste the URL, watch the bar reach 100 % by push, open the job, read the failed
// file's reason, retry it, see the usage, browse the gallery (thumbnails decoded), open one, delete
// two and see the usage follow; at a phone's width too. Screenshots of each view: test-output/browser/.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DriveTree } from '@drive-import/drive-emulator';
import type { Browser, Page } from 'playwright-core';
import { startSystem, type System } from '../e2e/support.ts';
import { buildFrontendIfStale, launchChromium, OUTPUT_DIR } from './support.ts';

const IMAGES = 300;
// Browser-side checks as expressions (they run in the page; the tests' TypeScript has no DOM types).
const decoded = (n: number) => `(() => { const imgs = [...document.querySelectorAll('.thumb img')]; return imgs.length >= ${n} && imgs.slice(0, ${n}).every((i) => i.complete && i.naturalWidth > 0); })()`;
const FITS_PHONE = 'document.documentElement.scrollWidth <= 390';
const BROKEN_REASON = 'This file has been identified as malware or spam';

describe('the web app in Chromium', () => {
  let system: System;
  let browser: Browser;
  let brokenId: string;
  let gateway: string;
  let adminToken: string;

  before(async () => {
    buildFrontendIfStale();
    await mkdir(OUTPUT_DIR, { recursive: true });
    browser = await launchChromium();
    const tree = new DriveTree({ seed: 13, imageBytes: 1500, rootName: 'Summer 2026' });
    for (let i = 1; i <= IMAGES; i++) {
      const id = tree.addImage(tree.rootId, i === 137 ? 'broken-137.png' : `IMG_${String(i).padStart(4, '0')}.png`);
      if (i === 137) brokenId = id;
    }
    system = await startSystem(tree, { THUMBNAILS: 'true', DEMO_FOLDER_URL: `https://drive.google.com/drive/folders/${tree.rootId}` });
    system.emulator.setFaults({ permanent: { [brokenId]: { status: 403, reason: 'cannotDownloadAbusiveFile', message: BROKEN_REASON, kind: 'media' } } });
    gateway = system.stack.gatewayUrl;
    adminToken = system.stack.env.ADMIN_TOKEN!;
  });
  after(async () => {
    await browser?.close();
    await system?.close();
  });

  const shot = (page: Page, name: string) => page.screenshot({ path: join(OUTPUT_DIR, `${name}.png`), fullPage: true });

  it('imports a folder live by push, retries the failed file, browses and deletes in the gallery, shows usage', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    page.on('pageerror', (err) => consoleErrors.push(err.message));
    try {
      await page.goto(gateway);
      await page.getByLabel('API token').waitFor();
      await shot(page, '01-sign-in');
      await page.getByLabel('API token').fill('not-a-token-at-all');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText('unknown or revoked token').waitFor();
      await page.getByLabel('API token').fill(adminToken);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: 'New import' }).waitFor();
      const cookies = await context.cookies();
      const session = cookies.find((c) => c.name === 'drive_import_session');
      assert.ok(session?.httpOnly, 'an HttpOnly session cookie');
      assert.equal(session?.sameSite, 'Strict');
      assert.equal(await page.evaluate('document.cookie'), '', 'the page script cannot read the token');
      await page.getByText('● Live').first().waitFor();
      await shot(page, '02-empty');

      // Inline validation before any request.
      await page.getByRole('button', { name: 'Import' }).click();
      await page.getByText('Paste a Drive folder URL or id').waitFor();

      // The demo folder (DEMO_FOLDER_URL) is offered; taking it fills the field.
      await page.getByRole('button', { name: `use ${system.emulator.folderUrl}` }).click();
      assert.equal(await page.getByLabel('Google Drive folder URL or id').inputValue(), system.emulator.folderUrl);
      await page.getByRole('button', { name: 'Import' }).click();
      const card = page.locator('li.job').first();
      await card.waitFor();
      await shot(page, '03-importing');
      // 100 % (299 stored + 1 failed of 300) reached while the stream is open; pushes counted by the page.
      await card.getByText('Done with errors').waitFor({ timeout: 180_000 });
      await card.getByText(`${IMAGES} / ${IMAGES} · 100 %`).waitFor();
      const pushes = Number(await page.getByTestId('live-state').getAttribute('data-pushes'));
      assert.ok(pushes >= 2, `updates arrived by push (${pushes} SSE events)`);
      assert.equal(await page.getByTestId('live-state').textContent(), '● Live', 'the stream stayed up: no polling');
      await page.waitForTimeout(400); // for the picture only: the bar's width transition ends
      await shot(page, '04-jobs');

      await card.getByRole('link').click();
      await page.getByRole('heading', { name: 'Failed files' }).waitFor();
      await page.getByRole('cell', { name: 'broken-137.png' }).waitFor();
      assert.match((await page.locator('td.reason').first().textContent()) ?? '', /malware or spam|cannotDownloadAbusiveFile|403/);
      await shot(page, '05-job-detail');

      // The file downloads now: retry queues it again, and the job ends without errors.
      system.emulator.setFaults({});
      await page.getByRole('button', { name: 'Retry failed' }).click();
      await page.locator('.badge', { hasText: /^Done$/ }).waitFor({ timeout: 120_000 });
      await page.getByText('No failed files.').waitFor();
      await shot(page, '06-job-retried');

      // Usage before: every image stored.
      const totalImages = async () => Number(((await page.getByTestId('total-images').locator('strong').textContent()) ?? '').replace(/\D/g, ''));
      await page.getByRole('link', { name: 'Usage' }).click();
      await page.getByRole('heading', { name: 'Imports per day' }).waitFor();
      assert.equal(await totalImages(), IMAGES);
      await page.getByText('job retry').first().waitFor();
      await shot(page, '07-usage');

      // The gallery: thumbnails render (decoded, not broken), one opens with its metadata.
      await page.getByRole('link', { name: 'Gallery' }).click();
      await page.getByText(`· ${IMAGES} images`).waitFor();
      await page.waitForFunction(decoded(8));
      const thumbSrc = await page.locator('.thumb img').first().getAttribute('src');
      assert.match(thumbSrc ?? '', /\/thumbnail$/, 'the WebP thumbnail, not the original');
      const rendered = await page.locator('.tile').count();
      assert.ok(rendered < IMAGES, `virtualized: ${rendered} tiles in the DOM for ${IMAGES} images`);
      await shot(page, '08-gallery');
      await page.locator('.thumb').first().click();
      const viewer = page.getByRole('dialog');
      await viewer.getByText('Drive path').waitFor();
      await page.waitForFunction("(document.querySelector('dialog img.original')?.naturalWidth ?? 0) > 0");
      await viewer.getByText('Key').waitFor();
      await shot(page, '09-viewer');
      await viewer.getByRole('button', { name: 'Close' }).click();

      // Select two and delete them.
      page.once('dialog', (d) => void d.accept());
      const names = await page.locator('.tile figcaption span').evaluateAll((els) => els.slice(0, 2).map((e) => e.textContent));
      await page.getByRole('checkbox', { name: `Select ${names[0]}` }).check();
      await page.getByRole('checkbox', { name: `Select ${names[1]}` }).check();
      await page.getByText('2 selected').waitFor();
      await page.getByRole('button', { name: 'Delete selected' }).click();
      await page.getByText('Deleted 2.').waitFor();
      await page.getByText(`· ${IMAGES - 2} images`).waitFor();
      assert.equal(await page.getByRole('checkbox', { name: `Select ${names[0]}` }).count(), 0);
      await page.getByRole('link', { name: 'Usage' }).click();
      await page.getByRole('heading', { name: 'Imports per day' }).waitFor();
      assert.equal(await totalImages(), IMAGES - 2, 'the usage figures follow the delete');
      await page.getByText('image bulk delete').first().waitFor();

      // A phone's width: the same views, nothing wider than the screen.
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${gateway}/#/`);
      await page.locator('li.job').first().waitFor();
      assert.ok(await page.evaluate(FITS_PHONE), 'no horizontal scroll at 390 px');
      await shot(page, '10-phone-jobs');
      await page.locator('li.job a').first().click();
      await page.getByRole('heading', { name: 'Failed files' }).waitFor();
      assert.ok(await page.evaluate(FITS_PHONE), 'no horizontal scroll at 390 px');
      await shot(page, '11-phone-job-detail');
      await page.getByRole('link', { name: 'Gallery' }).click();
      await page.waitForFunction(decoded(4));
      assert.ok(await page.evaluate(FITS_PHONE), 'no horizontal scroll at 390 px');
      await shot(page, '12-phone-gallery');
      await page.getByRole('link', { name: 'Usage' }).click();
      await page.getByRole('heading', { name: 'Imports per day' }).waitFor();
      await shot(page, '13-phone-usage');

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('API token').waitFor();
      assert.deepEqual(consoleErrors, []);
    } finally {
      await context.close();
    }
  });
});
