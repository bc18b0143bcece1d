/* The capOS web shell page: a password login (POST /login sets an HttpOnly
 * cookie), then one WebSocket (/ws) carrying the terminal stream of the
 * gateway's README: binary messages, a type byte then data.
 *   to the gateway:   i keys, p paste, r cols rows (u16 BE each), c cancel,
 *                     a credits (u32 BE: output bytes the terminal consumed), x log out
 *   from the gateway: h "session-id principal", o output, e reason (the session ended) */
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const enc = new TextEncoder();
  const ACK_EVERY = 4096;
  let ws = null, term = null, fit = null, unacked = 0, ended = false;

  function send(type, data) {
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const b = new Uint8Array(1 + (data ? data.length : 0));
    b[0] = type.charCodeAt(0);
    if (data) b.set(data, 1);
    ws.send(b);
  }
  function u16(n) { return [(n >> 8) & 255, n & 255]; }
  function u32(n) { return [(n >>> 24) & 255, (n >> 16) & 255, (n >> 8) & 255, n & 255]; }
  function resize() { if (term) send('r', new Uint8Array([...u16(term.cols), ...u16(term.rows)])); }

  function finish(reason) {
    if (ended) return;
    ended = true;
    $('status').textContent = 'session ended: ' + reason;
    $('status').dataset.ended = reason;
    $('logout').hidden = $('cancel').hidden = $('passkey-add').hidden = true;
    $('ended').hidden = false;
    $('ended').textContent = 'The session ended (' + reason + '). Reload the page to log in again.';
  }

  function startTerminal(info) {
    $('login').hidden = true;
    $('term').hidden = false;
    $('logout').hidden = $('cancel').hidden = $('passkey-add').hidden = false;
    $('status').textContent = 'session ' + info.session + ' (' + info.principal + ')';
    term = new Terminal({ cursorBlink: true, scrollback: 2000, fontFamily: 'monospace', convertEol: true });
    fit = new FitAddon.FitAddon();
    term.loadAddon(fit);
    term.open($('term'));
    fit.fit();
    window.caposTerminal = term;                  /* for the browser's console (and scripted tests) */
    ws = new WebSocket('wss://' + location.host + '/ws');
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => { resize(); term.focus(); };
    ws.onmessage = (ev) => {
      const d = new Uint8Array(ev.data);
      const type = String.fromCharCode(d[0]), body = d.subarray(1);
      if (type === 'o') {
        const n = body.length;
        term.write(body.slice(), () => {          /* consumed: grant as many credits back */
          unacked += n;
          if (unacked >= ACK_EVERY) { send('a', new Uint8Array(u32(unacked))); unacked = 0; }
        });
      } else if (type === 'h') {
        const [id, who] = new TextDecoder().decode(body).split(' ');
        $('status').textContent = 'session ' + id + ' (' + who + ')';
        $('status').dataset.session = id;
      } else if (type === 'e') {
        finish(new TextDecoder().decode(body));
      }
    };
    ws.onclose = (ev) => finish(ev.reason || 'connection closed');
    term.onData((s) => send('i', enc.encode(s)));
    term.onBinary((s) => send('i', Uint8Array.from(s, (ch) => ch.charCodeAt(0) & 255)));
    term.onResize(resize);
    window.addEventListener('resize', () => fit.fit());
    /* a paste is its own message: the gateway brackets it for the shell */
    term.textarea.addEventListener('paste', (ev) => {
      ev.preventDefault();
      ev.stopImmediatePropagation();
      const text = enc.encode((ev.clipboardData.getData('text/plain') || '').replace(/\r?\n/g, '\r'));
      for (let i = 0; i < text.length; i += 4096) send('p', text.subarray(i, i + 4096));
    }, true);
  }

  /* passkeys: the gateway passes challenges and responses to the session
   * manager, which verifies them (RP ID localhost, user verification required) */
  const b64u = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const unb64u = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
  async function post(path, fields) {
    const r = await fetch(path, { method: 'POST', body: new URLSearchParams(fields || {}), credentials: 'same-origin' });
    return { ok: r.ok, j: await r.json() };
  }
  $('passkey-login').addEventListener('click', async () => {
    $('error').textContent = '';
    try {
      const o = await post('/passkey/login-options');
      if (!o.ok) throw new Error(o.j.error);
      const c = await navigator.credentials.get({ publicKey: { challenge: unb64u(o.j.challenge), rpId: o.j.rpId,
        userVerification: 'required', timeout: 60000 } });
      const r = await post('/passkey/login', { id: b64u(c.rawId), clientData: b64u(c.response.clientDataJSON),
        authData: b64u(c.response.authenticatorData), signature: b64u(c.response.signature) });
      if (r.ok) startTerminal(r.j);
      else $('error').textContent = 'passkey login refused: ' + r.j.error;
    } catch (e) {
      $('error').textContent = 'passkey login failed: ' + (e.message || e);
    }
  });
  $('passkey-add').addEventListener('click', async () => {
    $('passkey-status').textContent = '';
    try {
      const o = await post('/passkey/register-options');
      if (!o.ok) throw new Error(o.j.error);
      const c = await navigator.credentials.create({ publicKey: {
        challenge: unb64u(o.j.challenge), rp: { id: o.j.rpId, name: 'capOS' },
        user: { id: enc.encode(o.j.user), name: o.j.user, displayName: o.j.user },
        pubKeyCredParams: [{ type: 'public-key', alg: -7 }, { type: 'public-key', alg: -8 }],
        authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
        attestation: 'none', timeout: 60000 } });
      const r = await post('/passkey/register', { clientData: b64u(c.response.clientDataJSON),
        attestation: b64u(c.response.attestationObject) });
      $('passkey-status').textContent = r.ok ? 'passkey added' : 'passkey refused: ' + r.j.error;
    } catch (e) {
      $('passkey-status').textContent = 'passkey failed: ' + (e.message || e);
    }
    if (term) term.focus();
  });

  $('login').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('error').textContent = '';
    $('submit').disabled = true;
    try {
      const body = new URLSearchParams({ user: $('user').value, password: $('password').value });
      $('password').value = '';
      const r = await fetch('/login', { method: 'POST', body, credentials: 'same-origin' });
      const j = await r.json();
      if (r.ok) startTerminal(j);
      else $('error').textContent = j.error === 'login.backoff'
        ? 'too many failures: try again in ' + Math.ceil(j.retryAfterMs / 1000) + ' s'
        : j.error === 'login.denied' ? 'login incorrect' : 'login failed: ' + j.error;
    } catch (e) {
      $('error').textContent = 'login failed: ' + e;
    }
    $('submit').disabled = false;
  });
  $('cancel').addEventListener('click', () => { send('c'); if (term) term.focus(); });
  $('logout').addEventListener('click', async () => {
    send('x');
    try { await fetch('/logout', { method: 'POST', credentials: 'same-origin' }); } catch (e) { /* the session ended anyway */ }
    finish('logout');
  });
})();
