// make bench-webshell's browser half: headless Chromium (playwright-core,
// /usr/bin/chromium) against the web shell in the guest.
// Usage: node bench.js URL PASSWORD LOADS KEYS
// Prints one line `RESULT {"load":[s...],"keys":[s...]}` (seconds).
//   load: a fresh browser context (new connections, new TLS handshakes)
//         from navigation to the shell's prompt in the terminal, logged in
//         with a passkey (a CDP virtual authenticator holding the
//         credential registered first; no password hashing in the guest);
//         the first is a warm-up, not counted.
//   keys: over one open session, one byte given to xterm.js as typed input
//         until its echo is parsed into the terminal's buffer (then erased,
//         untimed); timed in the page (performance.now).
'use strict';
const path = require('path');
const { chromium } = require(path.join(__dirname, '..', '..', 'tests', 'web', 'node_modules', 'playwright-core'));

const [url, password, loads, keys] = process.argv.slice(2);
const PROMPT = 'admin@capos>';
const AUTHENTICATOR = { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
  isUserVerified: true, automaticPresenceSimulation: true };

// A context with a virtual authenticator (holding `credential` if given), on about:blank.
async function context(browser, credential) {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1000, height: 700 } });
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: AUTHENTICATOR });
  if (credential) await cdp.send('WebAuthn.addCredential', { authenticatorId, credential });
  const held = async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials[0];
  return { ctx, page, held };
}

// Until the terminal's last line is the prompt (polled every 2 ms in the page).
function prompted(page) {
  return page.waitForFunction((p) => {
    const t = window.caposTerminal;
    if (!t) return false;
    const b = t.buffer.active;
    return b.getLine(b.baseY + b.cursorY).translateToString(true).trim() === p;
  }, PROMPT, { polling: 2, timeout: 120000 });
}

// One byte typed until its echo is in the buffer (x: drawn at the cursor,
// which moved on; DEL: the cell before the cursor blanked, the cursor back): seconds.
function keystroke(page, ch) {
  return page.evaluate((c) => new Promise((res, rej) => {
    const t = window.caposTerminal, b = t.buffer.active;
    const x0 = b.cursorX, y0 = b.baseY + b.cursorY;
    const done = c === '\x7f'
      ? () => b.cursorX === x0 - 1 && b.getLine(y0).translateToString(true).length <= x0 - 1
      : () => b.cursorX === x0 + 1 && b.getLine(y0).translateToString(false, x0, x0 + 1) === c;
    const t0 = performance.now();
    const timer = setTimeout(() => { d.dispose(); rej(new Error('no echo')); }, 30000);
    const d = t.onWriteParsed(() => {
      if (!done()) return;
      clearTimeout(timer);
      d.dispose();
      res((performance.now() - t0) / 1000);
    });
    t.input(c, true);
  }), ch);
}

async function main() {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  // a passkey, registered from a password session
  const reg = await context(browser, null);
  await reg.page.goto(url);
  await reg.page.fill('#user', 'admin');
  await reg.page.fill('#password', password);
  await reg.page.click('#submit');
  await prompted(reg.page);
  await reg.page.click('#passkey-add');
  await reg.page.waitForFunction(() => document.getElementById('passkey-status').textContent === 'passkey added', null,
    { timeout: 60000 });
  let credential = await reg.held();
  await reg.page.click('#logout');
  await reg.page.waitForSelector('#status[data-ended]');
  await reg.ctx.close();

  const load = [];
  let last = null;
  for (let i = 0; i <= Number(loads); i++) {
    const c = await context(browser, credential);
    const t0 = Date.now();
    await c.page.goto(url);
    await c.page.click('#passkey-login');
    await prompted(c.page);
    if (i > 0) load.push((Date.now() - t0) / 1000);
    credential = await c.held();               // its sign count moved
    if (last) {
      await last.page.click('#logout');
      await last.page.waitForSelector('#status[data-ended]');
      await last.ctx.close();
    }
    last = c;
  }
  const times = [];
  for (let i = 0; i < Number(keys); i++) {
    times.push(await keystroke(last.page, 'x'));
    await keystroke(last.page, '\x7f');
  }
  await browser.close();
  process.stdout.write('RESULT ' + JSON.stringify({ load, keys: times }) + '\n');
}

main().catch((e) => {
  process.stdout.write('RESULT ' + JSON.stringify({ error: String(e.stack || e) }) + '\n');
  process.exit(1);
});
