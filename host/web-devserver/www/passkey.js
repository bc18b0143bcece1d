// Passkey registration and login against the dev server's /api/passkey/
// endpoints (host/web-devserver/passkey.c checks everything through
// lib/webauthn).  passkeyRegister() and passkeyLogin() resolve to the
// server's JSON answer: {ok:true,...} or {error:"<reason>"}; the browser
// test calls them directly.  Options (for tests): rpId overrides the RP ID
// the server named, attestation asks for one ("none" by default), replay
// sends the same login response a second time.
'use strict';

const b64e = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
  .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const b64d = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

async function post(path, fields) {
  const body = Object.entries(fields).map(([k, v]) => k + '=' + v).join('&');
  const r = await fetch(path, { method: 'POST', body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
  return r.json();
}

async function passkeyRegister(user, opts = {}) {
  const b = await post('/api/passkey/register/begin', { user });
  if (b.error) return b;
  let cred;
  try {
    cred = await navigator.credentials.create({ publicKey: {
      challenge: b64d(b.challenge),
      rp: { id: opts.rpId || b.rpId, name: 'capOS development' },
      user: { id: b64d(b.userId), name: user, displayName: user },
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }, { type: 'public-key', alg: -8 }],
      excludeCredentials: b.exclude.map((id) => ({ type: 'public-key', id: b64d(id) })),
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      attestation: opts.attestation || 'none',
      timeout: 60000,
    } });
  } catch (e) {
    return { error: 'browser:' + e.name };
  }
  return post('/api/passkey/register/finish', {
    clientDataJSON: b64e(cred.response.clientDataJSON),
    attestationObject: b64e(cred.response.attestationObject),
  });
}

async function passkeyLogin(user, opts = {}) {
  const b = await post('/api/passkey/login/begin', { user: user || '' });
  if (b.error) return b;
  let a;
  try {
    a = await navigator.credentials.get({ publicKey: {
      challenge: b64d(b.challenge),
      rpId: opts.rpId || b.rpId,
      allowCredentials: b.allow.map((id) => ({ type: 'public-key', id: b64d(id) })),
      userVerification: 'required',
      timeout: 60000,
    } });
  } catch (e) {
    return { error: 'browser:' + e.name };
  }
  const fields = {
    id: b64e(a.rawId),
    clientDataJSON: b64e(a.response.clientDataJSON),
    authenticatorData: b64e(a.response.authenticatorData),
    signature: b64e(a.response.signature),
  };
  const first = await post('/api/passkey/login/finish', fields);
  if (!opts.replay) return first;
  return { first, replay: await post('/api/passkey/login/finish', fields) };
}

// The page's own buttons (a person trying it in a browser).
window.addEventListener('DOMContentLoaded', () => {
  const out = document.getElementById('out');
  const name = () => document.getElementById('user').value;
  const show = (what, r) => { out.textContent = what + ': ' + JSON.stringify(r) + '\n' + out.textContent; };
  document.getElementById('register').onclick = async () => show('register', await passkeyRegister(name()));
  document.getElementById('login').onclick = async () => show('login', await passkeyLogin(name()));
  document.getElementById('login-any').onclick = async () => show('login (any passkey)', await passkeyLogin(''));
  document.title = 'passkey: ready';
});
