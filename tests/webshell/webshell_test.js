// test-webshell's browser half: headless Chromium (playwright-core driving
// the system's /usr/bin/chromium) against the web shell gateway in the guest.
// Usage: node webshell_test.js URL PASSWORD SHOTDIR
// It prints `CHECK ok|FAIL what :: detail` lines, and asks the Python half
// (test_webshell.py, which holds the guest's console) for what only it can
// see with `CALL {json}` lines, reading one JSON answer line from stdin.
'use strict';
const path = require('path');
const zlib = require('zlib');
const readline = require('readline');
const { chromium } = require(path.join(__dirname, '..', 'web', 'node_modules', 'playwright-core'));

const [url, password, shotdir] = process.argv.slice(2);
const PROMPT = 'admin@capos>';   // the transcript's lines are right-trimmed
const rl = readline.createInterface({ input: process.stdin });
const answers = [];
let waiting = null;
rl.on('line', (l) => { if (waiting) { const w = waiting; waiting = null; w(JSON.parse(l)); } else answers.push(JSON.parse(l)); });
function call(req) {
  process.stdout.write('CALL ' + JSON.stringify(req) + '\n');
  return new Promise((res) => { if (answers.length) res(answers.shift()); else waiting = res; });
}
function check(what, ok, detail) {
  process.stdout.write(`CHECK ${ok ? 'ok' : 'FAIL'} ${what} :: ${ok ? '' : String(detail).replace(/\n/g, '\\n').slice(0, 3000)}\n`);
}
// A progress line (the Python half stamps it with the elapsed time).
const note = (what) => process.stdout.write(what + '\n');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mark = async () => (await call({ op: 'mark' })).mark;
const waitlog = (since, re, timeout = 60) => call({ op: 'waitlog', since, re, timeout });

let browser;
const fetched = [];            // every URL the browser asked for, in every context

// The terminal's whole transcript, wrapped rows joined (the page's xterm buffer).
async function transcript(page) {
  return page.evaluate(() => {
    const b = window.caposTerminal.buffer.active, out = [];
    for (let i = 0; i < b.length; i++) {
      const l = b.getLine(i);
      if (l.isWrapped && out.length) out[out.length - 1] += l.translateToString(true);
      else out.push(l.translateToString(true));
    }
    return out.join('\n').replace(/\s+$/, '');
  });
}

async function waitText(page, test, ms = 60000) {
  const end = Date.now() + ms;
  let t = '';
  while (Date.now() < end) {
    t = await transcript(page).catch(() => '');
    if (test(t)) return t;
    await sleep(100);
  }
  throw new Error('timed out; the terminal shows:\n' + t.slice(-2000));
}

// Type a command; its answer is what comes between its line and the next prompt.
async function run(page, cmd, ms = 60000) {
  const n = (await transcript(page)).split(PROMPT).length;
  await page.keyboard.type(cmd);
  await page.keyboard.press('Enter');
  const t = await waitText(page, (x) => x.split(PROMPT).length > n && x.endsWith(PROMPT), ms);
  const seg = t.split(PROMPT)[n - 1];           // " cmd\nanswer\n"
  return seg.slice(seg.indexOf(cmd) + cmd.length).replace(/^\n/, '');
}

// A browser context of its own (its cookies and connections): closing it
// closes its connections at once, so the gateway is back to the measuring
// session's one connection without waiting for idle keep-alives to time
// out. With a passkey, a CDP virtual authenticator holding a copy of the
// registered credential (its sign count carried from use to use).
const AUTHENTICATOR = { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
  isUserVerified: true, automaticPresenceSimulation: true };
let credential = null;          // the registered passkey, as the last authenticator to use it left it
async function fresh(withPasskey) {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1000, height: 700 } });
  ctx.on('request', (r) => fetched.push(r.url()));
  const page = await ctx.newPage();
  const resp = await page.goto(url);
  const f = { ctx, page, resp, cdp: null, authenticatorId: null };
  if (withPasskey) {
    f.cdp = await ctx.newCDPSession(page);
    await f.cdp.send('WebAuthn.enable');
    f.authenticatorId = (await f.cdp.send('WebAuthn.addVirtualAuthenticator', { options: AUTHENTICATOR })).authenticatorId;
    if (credential) await f.cdp.send('WebAuthn.addCredential', { authenticatorId: f.authenticatorId, credential });
  }
  return f;
}
// Keep the passkey as this context's authenticator has it now (its sign count moved).
async function keepCredential(f) {
  const { credentials } = await f.cdp.send('WebAuthn.getCredentials', { authenticatorId: f.authenticatorId });
  credential = credentials[0];
}

async function login(page, pw = password) {
  await page.fill('#user', 'admin');
  await page.fill('#password', pw);
  await page.click('#submit');
  await page.waitForSelector('#status[data-session]', { timeout: 60000 });
  await waitText(page, (x) => x.endsWith(PROMPT));
  return page.$eval('#status', (e) => e.dataset.session);
}

// The page's "Log in with a passkey" (no password: no Argon2 in the guest).
async function passkeyLogin(f) {
  await f.page.click('#passkey-login');
  await f.page.waitForSelector('#status[data-session]', { timeout: 60000 });
  await waitText(f.page, (x) => x.endsWith(PROMPT));
  await keepCredential(f);
  return f.page.$eval('#status', (e) => e.dataset.session);
}

// A passkey assertion posted by hand from the page (as app.js does it),
// optionally tampered with: [status, answer] of POST /passkey/login.
async function assertion(f, uv, tamper) {
  const r = await f.page.evaluate(async ([uvArg, tamperArg]) => {
    const b64u = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    const unb64u = (x) => Uint8Array.from(atob(x.replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0));
    const post = async (path, fl) => { const rr = await fetch(path, { method: 'POST', body: new URLSearchParams(fl || {}) }); return [rr.status, await rr.json()]; };
    const o = (await post('/passkey/login-options'))[1];
    const c = await navigator.credentials.get({ publicKey: { challenge: unb64u(o.challenge), rpId: 'localhost', userVerification: uvArg } });
    let cd = new Uint8Array(c.response.clientDataJSON), sig = new Uint8Array(c.response.signature);
    const fields = () => ({ id: b64u(c.rawId), clientData: b64u(cd), authData: b64u(c.response.authenticatorData), signature: b64u(sig) });
    const good = fields();
    if (tamperArg === 'signature' || tamperArg === 'replay') { sig = sig.slice(); sig[sig.length - 1] ^= 1; }
    if (tamperArg === 'origin') cd = new TextEncoder().encode(new TextDecoder().decode(cd).replace(location.origin, 'https://evil.example'));
    const first = await post('/passkey/login', fields());
    if (tamperArg !== 'replay') return first;
    return post('/passkey/login', good);          // the untouched response, its challenge already used
  }, [uv, tamper]);
  await keepCredential(f);
  return r;
}

// A session logged in by passkey whose terminal the Python half opens on
// its raw WebSocket client: its cookie (the context, and its connections, closed).
async function passkeyCookie() {
  const f = await fresh(true);
  const [st] = await assertion(f, 'required', null);
  const ck = (await f.ctx.cookies()).find((c) => c.name === 'capos_webshell');
  await f.ctx.close();
  return st === 200 && ck ? `${ck.name}=${ck.value}` : null;
}

// The interfaces each NAME process holds (the kernel's tables, via sessprobe).
function probe(out, name) {
  const m = out.match(new RegExp('PROBE (' + name + ' held=.*)'));
  if (!m) return null;
  return m[1].trim().split(' | ').map((seg) => (seg.includes(': ') ? seg.split(': ')[1].split(/\s+/) : []));
}
// raw network (the operator's read-only NetworkInfo and IcmpEcho are its profile's `net` and `ping`), auth, spawn
const FORBIDDEN_SHELL = ['TcpListenAuthority', 'TcpListener', 'TcpSocket', 'NetworkManager', 'Nic',
  'ProcessSpawner', 'SshHostKey', 'AuthorityBroker', 'RestrictedShellLauncher', 'SessionManager',
  'EndpointFactory', 'KernelStats', 'Console', 'CredentialStore', 'TlsServerKey'];

// Pixels of a PNG (8-bit RGB or RGBA, as Chromium writes them) brighter than the background.
function lightPixels(png) {
  let off = 8, w = 0, h = 0, type = 0;
  const idat = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off), kind = png.toString('latin1', off + 4, off + 8), d = png.subarray(off + 8, off + 8 + len);
    if (kind === 'IHDR') { w = d.readUInt32BE(0); h = d.readUInt32BE(4); type = d[9]; if (d[8] !== 8) throw new Error('bit depth'); }
    if (kind === 'IDAT') idat.push(d);
    off += 12 + len;
  }
  const bpp = type === 6 ? 4 : 3, stride = w * bpp, raw = zlib.inflateSync(Buffer.concat(idat));
  const cur = Buffer.alloc(stride), prev = Buffer.alloc(stride);
  let lit = 0;
  for (let y = 0; y < h; y++) {
    const f = raw[y * (stride + 1)], line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? cur[x - bpp] : 0, b = prev[x], c = x >= bpp ? prev[x - bpp] : 0;
      const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
      const pred = f === 0 ? 0 : f === 1 ? a : f === 2 ? b : f === 3 ? (a + b) >> 1 : pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      cur[x] = (line[x] + pred) & 255;
    }
    for (let x = 0; x < w; x++) if (cur[x * bpp] + cur[x * bpp + 1] + cur[x * bpp + 2] > 300) lit++;
    cur.copy(prev);
  }
  return lit;
}

async function main() {
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
  // the development certificate is self-signed (made at build time, not for production)

  // the page: its policy, and nothing fetched from elsewhere
  const main = await fresh(false);
  const page = main.page, h = main.resp.headers();
  check('the page is served over TLS with a CSP that allows only its own scripts',
    main.resp.status() === 200 && /script-src 'self'(;|$)/.test(h['content-security-policy'] || '') &&
    /default-src 'none'/.test(h['content-security-policy']) && h['x-content-type-options'] === 'nosniff',
    JSON.stringify(h));

  // failed logins: a wrong password, an unknown account, a locked one
  let since = await mark();
  for (const [who, pw] of [['admin', 'wrong-password'], ['mallory', 'x'], ['bob', 'x']]) {
    await page.fill('#user', who);
    await page.fill('#password', pw);
    await page.click('#submit');
    await page.waitForFunction(() => document.getElementById('error').textContent !== '', null, { timeout: 60000 });
    const err = await page.$eval('#error', (e) => e.textContent);
    check(`a failed login (${who}) says "login incorrect" and opens no terminal`,
      err === 'login incorrect' && await page.$eval('#term', (e) => e.hidden), err);
    await page.$eval('#error', (e) => { e.textContent = ''; });
  }
  let log = await waitlog(since, '(login refused login\\.denied[\\s\\S]*){3}');
  check('the gateway refused each (login.denied) and started no shell',
    log.ok && !/shell started/.test(log.text), log.text);

  // log in; `session` and `caps`; a screenshot shows the prompt
  since = await mark();
  const id = await login(page);
  check('a password login opens the terminal with the prompt, and the page shows the session id',
    /^[0-9a-f]{8}$/.test(id), id);
  const cookies = await main.ctx.cookies();
  const ck = cookies.find((c) => c.name === 'capos_webshell');
  check('the session cookie is Secure, HttpOnly, SameSite=Strict',
    ck && ck.secure && ck.httpOnly && ck.sameSite === 'Strict', JSON.stringify(cookies));
  const box = await page.$eval('.xterm-screen', (e) => { const r = e.getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; });
  const shot = await page.screenshot({ path: path.join(shotdir, 'webshell-login.png') });
  const lineH = box[3] / (await page.evaluate(() => window.caposTerminal.rows));
  const rowOf = await page.evaluate(() => window.caposTerminal.buffer.active.cursorY);
  const promptShot = await page.screenshot({ clip: { x: box[0], y: box[1] + rowOf * lineH, width: box[2], height: lineH } });
  const emptyShot = await page.screenshot({ clip: { x: box[0], y: box[1] + (rowOf + 2) * lineH, width: box[2], height: lineH } });
  const lit = lightPixels(promptShot), dark = lightPixels(emptyShot);
  check('a screenshot after login shows the prompt (glyphs drawn on the prompt\'s row, none on an empty row)',
    shot.length > 1000 && lit > 50 && dark === 0, `lit=${lit} empty=${dark}`);

  let out = await run(page, 'session');
  check('`session` answers in the page: principal admin, profile operator, logged in by password',
    /principal admin, profile operator, auth password/.test(out), out);
  out = await run(page, 'caps');
  check('`caps` answers in the page: the terminal and the session, no network, spawn or launcher authority',
    /terminal/.test(out) && !/TcpListenAuthority|NetworkManager|ProcessSpawner|RestrictedShellLauncher|SessionManager/.test(out), out);
  out = await run(page, 'echo caps capos-shell');
  const shells = probe(out, 'capos-shell');
  // the measuring session's shell is the other one: this one holds this page's terminal
  check('the kernel\'s table: each web shell holds its terminal and session and no raw network (TCP, NIC, network configuration), auth or spawn authority',
    shells && shells.length === 2 && shells.every((x) => x.includes('TerminalSession') && x.includes('UserSession') &&
    !x.some((y) => FORBIDDEN_SHELL.includes(y))), out);
  out = await run(page, 'echo caps webshell-gateway');
  const gw = probe(out, 'webshell-gateway');
  check('the kernel\'s table: the gateway holds its grants (the TLS key as TlsServerKey, sign only), its listener, its endpoint and this session\'s caps',
    gw && gw.length === 1 && ['TcpListenAuthority', 'TlsServerKey', 'TcpListener', 'SessionManager', 'RestrictedShellLauncher', 'AuditLog',
      'UserSession', 'SessionContext', 'TerminalSession', 'ProcessHandle', 'TcpSocket'].every((x) => gw[0].includes(x)) &&
    !gw[0].some((x) => ['ProcessSpawner', 'AuthorityBroker', 'CredentialStore', 'AccountAdmin'].includes(x)), out);

  // resize: the window grows, the fit addon resizes the terminal, the shell sees it
  out = await run(page, 'whoami');
  const small = (out.match(/on a (\d+x\d+) terminal/) || [])[1];
  since = await mark();
  await page.setViewportSize({ width: 1400, height: 900 });
  const want = await page.evaluate(async () => {
    await new Promise((r) => setTimeout(r, 300));
    return window.caposTerminal.cols + 'x' + window.caposTerminal.rows;
  });
  await waitlog(since, 'session \\w+: window ' + want);
  out = await run(page, 'whoami');
  const large = (out.match(/on a (\d+x\d+) terminal/) || [])[1];
  check(`resizing the window changes the shell's width (${small} -> ${large})`,
    small && large === want && small !== large, out);

  // a paste arrives bracketed, with any bracket inside it removed
  since = await mark();
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.setData('text/plain', 'echo pasted\x1b[201~tail');
    window.caposTerminal.textarea.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  });
  await page.keyboard.press('Enter');
  const pasted = await waitText(page, (x) => /pasted/.test(x.split('\n').slice(-3).join('\n')) && x.endsWith(PROMPT));
  check('a paste reaches the shell as one bracketed paste, without the bracket it carried',
    /admin@capos> echo pastedtail\n/.test(pasted.slice(-600)) &&
    /paste \d+ bytes/.test((await waitlog(since, 'session \\w+: paste \\d+ bytes')).text), pasted.slice(-600));

  // agent mode: one agent command typed in the page; the model proposes a
  // tool call that needs consent; the prompt shows in the terminal and is
  // answered from the page; the result is read from the page
  const before = (await transcript(page)).length;
  await page.keyboard.type('agent mutate');
  await page.keyboard.press('Enter');
  const asked = await waitText(page, (x) => /allow run \{"program":"hello"\}\? \[y\/N\]$/.test(x));
  check('an agent command in the page: the model\'s tool call waits for consent, its prompt in the terminal',
    /agent: the model proposes run/.test(asked.slice(before)), asked.slice(before));
  await page.keyboard.type('y');
  await page.keyboard.press('Enter');
  const agentOut = (await waitText(page, (x) => x.length > asked.length && x.endsWith(PROMPT))).slice(asked.length);
  check('the consent answered in the page: the call runs and its result goes back to the model (read from the page)',
    /agent: run ok \(consent-yes\)/.test(agentOut) && /model: results: .*ok\/consent-yes/.test(agentOut), agentOut);

  await page.click('#logout');
  await page.waitForSelector('#status[data-ended]');
  await main.ctx.close();

  // passkeys: a CDP virtual authenticator (CTAP2, resident keys, user verification)
  const pk = await fresh(true);
  await login(pk.page);
  since = await mark();
  await pk.page.click('#passkey-add');
  await pk.page.waitForFunction(() => document.getElementById('passkey-status').textContent !== '', null, { timeout: 60000 });
  const st = await pk.page.$eval('#passkey-status', (e) => e.textContent);
  log = await waitlog(since, 'passkey registered for admin');
  check('a logged-in session registers a passkey (the session manager verifies it, the account service keeps it)',
    st === 'passkey added' && log.ok, st + '\n' + log.text);
  await keepCredential(pk);
  await pk.page.click('#logout');
  await pk.page.waitForSelector('#status[data-ended]');
  await pk.page.goto(url);
  await passkeyLogin(pk);
  out = await run(pk.page, 'session');
  check('a later login uses the passkey alone: the shell says `auth passkey`',
    /principal admin, profile operator, auth passkey/.test(out), out);
  await pk.page.click('#logout');
  await pk.page.waitForSelector('#status[data-ended]');
  await pk.ctx.close();

  // the WebSocket stream: credits bound what a shell can push (Python half), while the
  // hostile half's login that never opened its terminal runs out its 30 s
  const flood = await call({ op: 'flood', cookie: await passkeyCookie() });
  note(flood.detail);
  check('flow control: without credits the gateway sends at most the window (65536 bytes) and the shell waits; ' +
    'a credit grant lets exactly that much more through', flood.ok, flood.detail);

  // teardown: each way out leaves no shell, no session, the counters at the
  // baseline (the Python half's measuring session reads and judges them)
  const base = (await call({ op: 'baseline' })).base;
  check('the baseline: one open session (the measuring one)', base && base.open === 1, JSON.stringify(base));

  async function teardownCase(what, body, endRe) {
    const t0 = Date.now();
    const s = await mark();
    const ok = await body();
    const ended = await waitlog(s, endRe);
    const t1 = Date.now();
    const r = await call({ op: 'teardown' });
    note(`${what}: the case ${((t1 - t0) / 1000).toFixed(1)} s, its reading ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    check(`${what}: the shell, the session and their caps are gone (kernel objects, cap slots, processes, the session manager's table and the gateway's caps back to the baseline; pending calls, the kernel heap and free frames within their bands of the first baseline)`,
      ok && ended.ok && r.ok, `ok=${ok} ended=${ended.ok} ${r.detail}\n${ended.text.slice(-800)}`);
  }

  let stale;
  await teardownCase('log out', async () => {
    const f = await fresh(true);
    await passkeyLogin(f);
    stale = (await f.ctx.cookies()).find((c) => c.name === 'capos_webshell');
    await f.page.click('#logout');
    await f.page.waitForSelector('#status[data-ended]');
    const r = await f.page.$eval('#status', (e) => e.dataset.ended);
    await f.ctx.close();
    return r === 'logout';
  }, 'session \\w+: ended \\(logout\\)');

  await teardownCase('close the tab', async () => {
    const f = await fresh(true);
    await passkeyLogin(f);
    await f.page.close();
    await f.ctx.close();
    return true;
  }, 'session \\w+: ended \\((ws-closed|ws-lost)\\)');

  await teardownCase('the shell exits (`exit`)', async () => {
    const f = await fresh(true);
    await passkeyLogin(f);
    await f.page.keyboard.type('exit');
    await f.page.keyboard.press('Enter');
    await f.page.waitForSelector('#status[data-ended]');
    const r = await f.page.$eval('#status', (e) => e.dataset.ended);
    await f.ctx.close();
    return r === 'shell-exit';
  }, 'session \\w+: ended \\(shell-exit\\)');

  await teardownCase('the WebSocket is lost (its TCP connection dropped)', async () => {
    const cookie = await passkeyCookie();
    return cookie !== null && (await call({ op: 'wsloss', cookie })).ok;
  }, 'session \\w+: ended \\(ws-lost\\)');

  await teardownCase('failed logins and a stale cookie after logout', async () => {
    const f = await fresh(false);
    for (const who of ['mallory', 'bob']) {
      await f.page.fill('#user', who);
      await f.page.fill('#password', 'nope');
      await f.page.click('#submit');
      await f.page.waitForFunction(() => document.getElementById('error').textContent !== '', null, { timeout: 60000 });
      await f.page.$eval('#error', (e) => { e.textContent = ''; });
    }
    await f.ctx.addCookies([stale]);
    const opened = await f.page.evaluate(() => new Promise((res) => {
      const ws = new WebSocket('wss://' + location.host + '/ws');
      ws.onopen = () => res(true);
      ws.onerror = () => res(false);
    }));
    await f.ctx.close();
    return !opened;
  }, 'refused ws\\.no-session');

  await teardownCase('refused passkey logins (bogus signature, no user verification, foreign origin, replayed challenge)', async () => {
    const f = await fresh(true);
    const rows = [];
    let r = await assertion(f, 'required', 'signature');
    rows.push(['a bogus signature', r, 'passkey-signature']);
    await f.cdp.send('WebAuthn.setUserVerified', { authenticatorId: f.authenticatorId, isUserVerified: false });
    r = await assertion(f, 'discouraged', null);
    rows.push(['no user verification', r, 'passkey-auth-data.user-verified']);
    await f.cdp.send('WebAuthn.setUserVerified', { authenticatorId: f.authenticatorId, isUserVerified: true });
    r = await assertion(f, 'required', 'origin');
    rows.push(['a foreign origin in clientDataJSON', r, 'passkey-client-data.origin']);
    r = await assertion(f, 'required', 'replay');
    rows.push(['a replayed challenge', r, 'passkey-challenge.unknown']);
    await f.ctx.close();
    let all = true;
    for (const [what, [status, j], wantReason] of rows) {
      check(`a passkey login with ${what} is refused (${wantReason}) and starts no shell`, status === 401 && j.error === wantReason,
        `${status} ${JSON.stringify(j)}`);
      all = all && status === 401;
    }
    return all;
  }, 'refused passkey-challenge\\.unknown');

  await teardownCase('the session left idle past its idle timeout', async () => {
    const f = await fresh(true);
    await passkeyLogin(f);
    await f.page.waitForSelector('#status[data-ended]', { timeout: 90000 });
    const r = await f.page.$eval('#status', (e) => e.dataset.ended);
    const t = await transcript(f.page);
    await f.ctx.close();
    const ok = r === 'shell-exit' && /idle for \d+s: logged out/.test(t);
    check('an idle web session\'s shell logs out by itself, saying so in the page ("idle for Ns: logged out")', ok,
      `${r}\n${t.slice(-600)}`);
    return ok;
  }, 'session \\w+: ended \\(shell-exit\\)');

  await browser.close();
  const fromElsewhere = fetched.filter((u) => !u.startsWith(url) && !u.startsWith('data:') && !u.startsWith('wss://' + url.slice(8)));
  check('the browser fetched nothing from anywhere but the gateway', fromElsewhere.length === 0, fromElsewhere.join(' '));
  process.stdout.write('DONE\n');
  process.exit(0);
}

main().catch(async (e) => {
  check('the browser test ran to its end', false, e.stack || e);
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
});
