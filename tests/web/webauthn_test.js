// Headless Chromium (the system's) with a CDP virtual authenticator (ctap2,
// internal, resident key, user verification) against the dev server's
// passkey page: register, log in, and the refusals the server must answer
// with their reasons (bogus signature, UV and UP missing via
// setResponseOverrideBits, a replayed response, a foreign origin, a wrong RP
// ID, a certificate attestation).  Prints one JSON object of the server's
// answers; run_tests.py judges them.
// Usage: node webauthn_test.js PORT   (https on localhost, sub.localhost, evil.localhost)
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

async function withAuthenticator(ctx, url) {
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: {
    protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
    isUserVerified: true, automaticPresenceSimulation: true } });
  await page.goto(url);
  await page.waitForFunction(() => document.title === 'passkey: ready', null, { timeout: 30000 });
  const bits = (o) => cdp.send('WebAuthn.setResponseOverrideBits', Object.assign(
    { authenticatorId, isBogusSignature: false, isBadUV: false, isBadUP: false }, o));
  const creds = async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
  return { page, bits, creds };
}

(async () => {
  const port = process.argv[2];
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'capos-webauthn-chromium-'));
  const out = {};
  let ctx;
  try {
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      ignoreHTTPSErrors: true,   // the development certificate (made at build time, not for production)
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
             '--disable-component-update', '--disable-sync'],
    });
    const home = await withAuthenticator(ctx, `https://localhost:${port}/passkey.html`);
    const run = (fn, ...args) => home.page.evaluate(([f, a]) => window[f](...a), [fn, args]);
    out.register = await run('passkeyRegister', 'alice');
    out.login = await run('passkeyLogin', 'alice');
    out.login_again = await run('passkeyLogin', 'alice');
    out.login_discoverable = await run('passkeyLogin', '');
    out.replay = await run('passkeyLogin', 'alice', { replay: true });
    await home.bits({ isBogusSignature: true });
    out.bogus_signature = await run('passkeyLogin', 'alice');
    await home.bits({ isBadUV: true });
    out.no_uv = await run('passkeyLogin', 'alice');
    await home.bits({ isBadUP: true });
    out.no_up = await run('passkeyLogin', 'alice');
    await home.bits({});
    out.login_after = await run('passkeyLogin', 'alice');
    await home.bits({ isBadUV: true });
    out.register_no_uv = await run('passkeyRegister', 'erin');
    await home.bits({});
    out.register_direct = await run('passkeyRegister', 'bob', { attestation: 'direct' });
    out.stored_credentials = (await home.creds()).length;

    // an origin the relying party does not accept (the browser signs for it)
    const evil = await withAuthenticator(ctx, `https://evil.localhost:${port}/passkey.html`);
    out.foreign_origin = await evil.page.evaluate(() => passkeyRegister('carol', { rpId: 'evil.localhost' }));
    // an accepted origin whose page asks the authenticator for another RP ID
    const sub = await withAuthenticator(ctx, `https://sub.localhost:${port}/passkey.html`);
    out.wrong_rp_id = await sub.page.evaluate(() => passkeyRegister('dave', { rpId: 'sub.localhost' }));
  } catch (e) {
    out.exception = String(e);
    process.exitCode = 1;
  } finally {
    if (ctx) await ctx.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  console.log(JSON.stringify(out));
})();
