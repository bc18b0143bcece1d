// Headless Chromium (the system's, never a downloaded one) opens the dev
// server's page, which fetches JSON and echoes a text and a binary message
// through the WebSocket; prints the page's outcome as one JSON line.
// Usage: node browser_test.js URL
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

(async () => {
  const url = process.argv[2];
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'capos-web-chromium-'));
  let ctx;
  try {
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      // the development certificate is self-signed (made at build time, not for production)
      ignoreHTTPSErrors: url.startsWith('https:'),
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
             '--disable-component-update', '--disable-sync'],
    });
    const page = await ctx.newPage();
    await page.goto(url);
    await page.waitForFunction(() => document.title.startsWith('echo:') || document.title.startsWith('error:'),
                               null, { timeout: 30000 });
    console.log(JSON.stringify({ title: await page.title() }));
  } catch (e) {
    console.log(JSON.stringify({ error: String(e) }));
    process.exitCode = 1;
  } finally {
    if (ctx) await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
})();
