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
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const mark = async () => (await call({ op: 'mark' })).mark;
const waitlog = (since, re, timeout = 60) => call({ op: 'waitlog', since, re, timeout });

let browser, context;

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

async function openPage() {
  const page = await context.newPage();
  const resp = await page.goto(url);
  return { page, resp };
}

async function login(page, pw = password) {
  await page.fill('#user', 'admin');
  await page.fill('#password', pw);
  await page.click('#submit');
  await page.waitForSelector('#status[data-session]', { timeout: 60000 });
  await waitText(page, (x) => x.endsWith(PROMPT));
  return page.$eval('#status', (e) => e.dataset.session);
}

// The kernel's counters and the session manager's table, read in a fresh
// web session (so every reading counts the same one session), three times
// (each field's least: a call in flight at one reading is not a leak), and
// the gateway's cap count.
async function measure() {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1000, height: 700 } });
  const page = await ctx.newPage();
  await page.goto(url);
  await login(page);
  // only the terminal's connection left (idle keep-alive ones end at the gateway's 10 s header deadline)
  await call({ op: 'settle', open: 1 });
  await sleep(2000);                            // closed connections leave the stack's table (TIME_WAIT)
  const reads = [];
  for (let i = 0; i < 3; i++) {
    const out = await run(page, 'echo stats');
    const m = out.match(/PROBE kernel (.*)/);
    if (m) reads.push(Object.fromEntries([...m[1].replace('session-manager held=', 'smcaps=')
      .matchAll(/(\S+)=(\d+)/g)].map((x) => [x[1], Number(x[2])])));
  }
  const gw = (await run(page, 'echo caps webshell-gateway')).match(/PROBE webshell-gateway held=(\d+)/);
  const since = await mark();
  await page.click('#logout');
  await waitlog(since, 'webshell-gateway: session \\w+: ended \\(logout\\)');
  await ctx.close();
  await call({ op: 'settle', open: 0 });
  if (reads.length !== 3 || !gw) return null;
  const f = {};
  for (const k of Object.keys(reads[0])) f[k] = (k === 'frames' ? Math.max : Math.min)(...reads.map((r) => r[k]));
  f.gwcaps = Number(gw[1]);
  return f;
}
const SAME = ['objects', 'heap', 'processes', 'slots', 'pending', 'open', 'held', 'smcaps', 'gwcaps'];

// The interfaces each NAME process holds (the kernel's tables, via sessprobe).
function probe(out, name) {
  const m = out.match(new RegExp('PROBE (' + name + ' held=.*)'));
  if (!m) return null;
  return m[1].trim().split(' | ').map((seg) => (seg.includes(': ') ? seg.split(': ')[1].split(/\s+/) : []));
}
// raw network (the operator's read-only NetworkInfo and IcmpEcho are its profile's `net` and `ping`), auth, spawn
const FORBIDDEN_SHELL = ['TcpListenAuthority', 'TcpListener', 'TcpSocket', 'NetworkManager', 'Nic',
  'ProcessSpawner', 'SshHostKey', 'AuthorityBroker', 'RestrictedShellLauncher', 'SessionManager',
  'EndpointFactory', 'KernelStats', 'Console', 'CredentialStore'];

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
  context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1000, height: 700 } });
  const fetched = [];
  context.on('request', (r) => fetched.push(r.url()));

  // the page: its policy, and nothing fetched from elsewhere
  const { page, resp } = await openPage();
  const h = resp.headers();
  check('the page is served over TLS with a CSP that allows only its own scripts',
    resp.status() === 200 && /script-src 'self'(;|$)/.test(h['content-security-policy'] || '') &&
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
  const cookies = await context.cookies();
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
  const shell = probe(out, 'capos-shell');
  check('the kernel\'s table: the web shell holds its terminal and session and no raw network (TCP, NIC, network configuration), auth or spawn authority',
    shell && shell.length === 1 && shell[0].includes('TerminalSession') && shell[0].includes('UserSession') &&
    !shell[0].some((x) => FORBIDDEN_SHELL.includes(x)), out);
  out = await run(page, 'echo caps webshell-gateway');
  const gw = probe(out, 'webshell-gateway');
  check('the kernel\'s table: the gateway holds its grants, its listener, its endpoint and this session\'s caps',
    gw && gw.length === 1 && ['TcpListenAuthority', 'TcpListener', 'SessionManager', 'RestrictedShellLauncher', 'AuditLog',
      'UserSession', 'SessionContext', 'TerminalSession', 'ProcessHandle', 'TcpSocket'].every((x) => gw[0].includes(x)) &&
    !gw[0].some((x) => ['ProcessSpawner', 'AuthorityBroker', 'CredentialStore', 'AccountAdmin'].includes(x)), out);

  // resize: the window grows, the fit addon resizes the terminal, the shell sees it
  out = await run(page, 'whoami');
  const first = (out.match(/on a (\d+x\d+) terminal/) || [])[1];
  since = await mark();
  await page.setViewportSize({ width: 1400, height: 900 });
  const want = await page.evaluate(async () => {
    await new Promise((r) => setTimeout(r, 300));
    return window.caposTerminal.cols + 'x' + window.caposTerminal.rows;
  });
  await waitlog(since, 'session \\w+: window ' + want);
  out = await run(page, 'whoami');
  const second = (out.match(/on a (\d+x\d+) terminal/) || [])[1];
  check(`resizing the window changes the shell's width (${first} -> ${second})`,
    first && second === want && first !== second, out);

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

  await page.click('#logout');
  await page.close();

  // passkeys: a CDP virtual authenticator (CTAP2, resident keys, user verification)
  const pk = await context.newPage();
  await pk.goto(url);
  const cdp = await context.newCDPSession(pk);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options: {
    protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
    isUserVerified: true, automaticPresenceSimulation: true } });
  await login(pk);
  since = await mark();
  await pk.click('#passkey-add');
  await pk.waitForFunction(() => document.getElementById('passkey-status').textContent !== '', null, { timeout: 60000 });
  let st = await pk.$eval('#passkey-status', (e) => e.textContent);
  log = await waitlog(since, 'passkey registered for admin');
  check('a logged-in session registers a passkey (the session manager verifies it, the account service keeps it)',
    st === 'passkey added' && log.ok, st + '\n' + log.text);
  await pk.click('#logout');
  await pk.waitForSelector('#status[data-ended]');
  await pk.goto(url);
  since = await mark();
  await pk.click('#passkey-login');
  await pk.waitForSelector('#status[data-session]', { timeout: 60000 });
  await waitText(pk, (x) => x.endsWith(PROMPT));
  out = await run(pk, 'session');
  check('a later login uses the passkey alone: the shell says `auth passkey`',
    /principal admin, profile operator, auth passkey/.test(out), out);
  await pk.click('#logout');
  await pk.waitForSelector('#status[data-ended]');
  await pk.goto(url);

  // hostile assertions, each posted by hand: the refusal's reason, no shell
  async function assertion(uv, tamper) {
    return pk.evaluate(async ([uvArg, tamperArg]) => {
      const b64u = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
      const unb64u = (x) => Uint8Array.from(atob(x.replace(/-/g, '+').replace(/_/g, '/')), (ch) => ch.charCodeAt(0));
      const post = async (path, f) => { const r = await fetch(path, { method: 'POST', body: new URLSearchParams(f || {}) }); return [r.status, await r.json()]; };
      const o = (await post('/passkey/login-options'))[1];
      const c = await navigator.credentials.get({ publicKey: { challenge: unb64u(o.challenge), rpId: 'localhost', userVerification: uvArg } });
      let cd = new Uint8Array(c.response.clientDataJSON), sig = new Uint8Array(c.response.signature);
      const f = () => ({ id: b64u(c.rawId), clientData: b64u(cd), authData: b64u(c.response.authenticatorData), signature: b64u(sig) });
      const good = f();
      if (tamperArg === 'signature' || tamperArg === 'replay') { sig = sig.slice(); sig[sig.length - 1] ^= 1; }
      if (tamperArg === 'origin') cd = new TextEncoder().encode(new TextDecoder().decode(cd).replace(location.origin, 'https://evil.example'));
      const first = await post('/passkey/login', f());
      if (tamperArg !== 'replay') return first;
      return post('/passkey/login', good);          // the untouched response, its challenge already used
    }, [uv, tamper]);
  }
  // teardown: each way out leaves no shell, no session, counters at the baseline
  await measure();                              // warm-up: first-use allocations are not counted
  let base = await measure();
  check('the baseline: one open session (the measuring one)', base && base.open === 1, JSON.stringify(base));

  // What a leak leaves behind stays: objects, cap slots, processes, the
  // session table and the gateway's caps must be exactly back. Three
  // counters also move with work in flight, in both directions, for tens of
  // seconds (the network stack's Nic.send and timers, the kernel heap's
  // size classes, a process heap's high-water mark): they are held to bands
  // around the FIRST baseline, never re-based, so whatever a case leaks
  // accumulates over the six cases and leaves its band.
  const HEAP_BAND = 2048, PENDING_BAND = 6, FRAMES_BAND = 8;
  const first = base;
  const EXACT = SAME.filter((k) => k !== 'heap' && k !== 'pending');
  const heapHi = first.heap + HEAP_BAND, pendingHi = first.pending + PENDING_BAND, framesLo = first.frames - FRAMES_BAND;
  async function teardownCase(what, body, endRe) {
    const s = await mark();
    const ok = await body();
    const ended = await waitlog(s, endRe);
    const differs = (a) => {
      const d = a ? EXACT.filter((k) => base[k] !== a[k]) : ['no reading'];
      if (a && a.heap > heapHi) d.push('heap');
      if (a && a.pending > pendingHi) d.push('pending');
      if (a && a.frames < framesLo) d.push('frames');
      return d;
    };
    let after = await measure();
    let diff = differs(after);
    if (diff.length) {                          // a call in flight at one measurement is not a leak
      after = await measure();
      diff = differs(after);
    }
    check(`${what}: the shell, the session and their caps are gone (kernel objects, cap slots, processes and pending calls, the session manager's table and the gateway's caps back to the baseline; pending calls, the kernel heap and free frames within their bands of the first baseline)`,
      ok && ended.ok && !diff.length && after.opened - base.opened === after.ended - base.ended,
      `ok=${ok} ended=${ended.ok} differs: ${diff} (heap high ${heapHi}, pending high ${pendingHi}, frames low ${framesLo})\n${JSON.stringify(base)}\n${JSON.stringify(after)}\n${ended.text.slice(-800)}`);
    if (after) {
      base = after;
    }
  }

  let stale;
  await teardownCase('log out', async () => {
    const { page: p } = await openPage();
    await login(p);
    stale = (await context.cookies()).find((c) => c.name === 'capos_webshell');
    await p.click('#logout');
    await p.waitForSelector('#status[data-ended]');
    const r = await p.$eval('#status', (e) => e.dataset.ended);
    await p.close();
    return r === 'logout';
  }, 'session \\w+: ended \\(logout\\)[\\s\\S]*shell exited|session \\w+: ended \\(logout\\)');

  await teardownCase('close the tab', async () => {
    const { page: p } = await openPage();
    await login(p);
    await p.close();
    return true;
  }, 'session \\w+: ended \\((ws-closed|ws-lost)\\)');

  await teardownCase('the shell exits (`exit`)', async () => {
    const { page: p } = await openPage();
    await login(p);
    await p.keyboard.type('exit');
    await p.keyboard.press('Enter');
    await p.waitForSelector('#status[data-ended]');
    const r = await p.$eval('#status', (e) => e.dataset.ended);
    await p.close();
    return r === 'shell-exit';
  }, 'session \\w+: ended \\(shell-exit\\)');

  await teardownCase('the WebSocket is lost (its TCP connection dropped)', async () => {
    const r = await call({ op: 'wsloss' });
    return r.ok;
  }, 'session \\w+: ended \\(ws-lost\\)');

  await teardownCase('failed logins and a stale cookie after logout', async () => {
    const { page: p } = await openPage();
    for (const who of ['mallory', 'bob']) {
      await p.fill('#user', who);
      await p.fill('#password', 'nope');
      await p.click('#submit');
      await p.waitForFunction(() => document.getElementById('error').textContent !== '', null, { timeout: 60000 });
      await p.$eval('#error', (e) => { e.textContent = ''; });
    }
    await context.addCookies([stale]);
    const opened = await p.evaluate(() => new Promise((res) => {
      const ws = new WebSocket('wss://' + location.host + '/ws');
      ws.onopen = () => res(true);
      ws.onerror = () => res(false);
    }));
    await context.clearCookies();
    await p.close();
    return !opened;
  }, 'refused ws\\.no-session');

  await teardownCase('refused passkey logins (bogus signature, no user verification, foreign origin, replayed challenge)', async () => {
    const rows = [];
    let r = await assertion('required', 'signature');
    rows.push(['a bogus signature', r, 'passkey-signature']);
    await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: false });
    r = await assertion('discouraged', null);
    rows.push(['no user verification', r, 'passkey-auth-data.user-verified']);
    await cdp.send('WebAuthn.setUserVerified', { authenticatorId, isUserVerified: true });
    r = await assertion('required', 'origin');
    rows.push(['a foreign origin in clientDataJSON', r, 'passkey-client-data.origin']);
    r = await assertion('required', 'replay');
    rows.push(['a replayed challenge', r, 'passkey-challenge.unknown']);
    let all = true;
    for (const [what, [status, j], want] of rows) {
      check(`a passkey login with ${what} is refused (${want}) and starts no shell`, status === 401 && j.error === want,
        `${status} ${JSON.stringify(j)}`);
      all = all && status === 401;
    }
    return all;
  }, 'refused passkey-challenge\\.unknown');

  // the WebSocket stream: credits bound what a shell can push (Python half)
  const flood = await call({ op: 'flood' });
  check('flow control: without credits the gateway sends at most the window (65536 bytes) and the shell waits; ' +
    'a credit grant lets exactly that much more through', flood.ok, flood.detail);

  await browser.close();
  const fromElsewhere = fetched.filter((u) => !u.startsWith(url) && !u.startsWith('data:') && !u.startsWith('wss://' + url.slice(8)));
  check('the browser fetched nothing from anywhere but the gateway', fromElsewhere.length === 0, fromElsewhere.join(' '));
  process.stdout.write('DONE\n');
  process.exit(0);
}

main().catch(async (e) => {
  check('the browser test ran to its end', false, e.stack || e);
  if (browser) await browser.close().catch(() => {});
  process.stdout.write('DONE\n');
  process.exit(0);
});
