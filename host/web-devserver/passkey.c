/* host/web-devserver: passkey registration and login over lib/webauthn.
 *
 *   POST /api/passkey/register/begin   user=NAME
 *        -> {"challenge","rpId","userId"}         (a WA_CREATE challenge bound to the account)
 *   POST /api/passkey/register/finish  clientDataJSON=B64&attestationObject=B64
 *        -> {"ok":true,"user","credential"}
 *   POST /api/passkey/login/begin      user=NAME (or empty: any discoverable credential)
 *        -> {"challenge","rpId","allow":[ids]}   (a WA_GET challenge bound to the account or 0)
 *   POST /api/passkey/login/finish     id=B64&clientDataJSON=B64&authenticatorData=B64&signature=B64
 *        -> {"ok":true,"user","signCount"}
 * Bodies are form-encoded with base64url values (no percent escapes are
 * needed or accepted); user names are 1..32 of [A-Za-z0-9._-].  Every
 * refusal is 400 (403 when rate-limited) with {"error":"<reason>"}: lib/webauthn's
 * reason names, or this file's ("request.*", "account.*", "credential.*").
 * Every call is rate-limited per source address; logins also per credential. */
#include "passkey.h"
#include "webauthn.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#define USERS_MAX        16
#define CREDS_PER_USER   4
#define NAME_MAX_LEN     32
#define USER_HANDLE_LEN  16
#define CHALLENGE_TTL_MS 120000u

struct account {
    int used;
    char name[NAME_MAX_LEN + 1];
    uint8_t handle[USER_HANDLE_LEN];
    unsigned ncred;
    struct wa_credential cred[CREDS_PER_USER];
};

static struct account accounts[USERS_MAX];
static struct wa_rp rp;
static struct wa_challenges challenges;
static struct wa_ratelimit by_source, by_cred;

void passkey_init(const struct passkey_config *cfg)
{
    rp.rp_id = cfg->rp_id;
    rp.origins = cfg->origins;
    rp.require_uv = 1;
    wa_challenges_init(&challenges, CHALLENGE_TTL_MS);
    wa_rate_init(&by_source, cfg->source_burst, cfg->source_refill_ms);
    wa_rate_init(&by_cred, cfg->cred_burst, cfg->cred_refill_ms);
    memset(accounts, 0, sizeof accounts);
}

static int path_is(const uint8_t *t, size_t n, const char *s)
{
    return strlen(s) == n && memcmp(t, s, n) == 0;
}

int passkey_path(const uint8_t *target, size_t len)
{
    return len > 13 && memcmp(target, "/api/passkey/", 13) == 0;
}

/* A field of a form body: its value (not NUL-terminated), or NULL. */
static const uint8_t *field(const uint8_t *body, size_t n, const char *name, size_t *len)
{
    size_t nl = strlen(name), i = 0;
    while (i < n) {
        size_t end = i;
        while (end < n && body[end] != '&')
            end++;
        if (end - i > nl && body[i + nl] == '=' && memcmp(body + i, name, nl) == 0) {
            *len = end - i - nl - 1;
            return body + i + nl + 1;
        }
        i = end + 1;
    }
    return NULL;
}

/* A base64url field decoded into out. */
static int field_b64(const uint8_t *body, size_t n, const char *name, uint8_t *out, size_t cap, size_t *len)
{
    size_t vl;
    const uint8_t *v = field(body, n, name, &vl);
    if (!v)
        return -1;
    *len = wa_b64url_decode(out, cap, (const char *)v, vl);
    return *len == (size_t)-1 ? -1 : 0;
}

static int name_ok(const uint8_t *s, size_t n)
{
    if (n == 0 || n > NAME_MAX_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = s[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
              ch == '_' || ch == '-'))
            return 0;
    }
    return 1;
}

static struct account *find_account(const uint8_t *name, size_t n)
{
    for (unsigned i = 0; i < USERS_MAX; i++)
        if (accounts[i].used && strlen(accounts[i].name) == n && memcmp(accounts[i].name, name, n) == 0)
            return &accounts[i];
    return NULL;
}

static struct wa_credential *find_credential(const uint8_t *id, size_t n, struct account **owner)
{
    for (unsigned i = 0; i < USERS_MAX; i++)
        for (unsigned j = 0; accounts[i].used && j < accounts[i].ncred; j++) {
            struct wa_credential *c = &accounts[i].cred[j];
            if (c->id_len == n && memcmp(c->id, id, n) == 0) {
                *owner = &accounts[i];
                return c;
            }
        }
    return NULL;
}

/* A JSON writer into the caller's buffer; a write that does not fit marks it failed. */
struct out { char *p; size_t cap, len; int failed; };

static void put(struct out *o, const char *s)
{
    size_t n = strlen(s);
    if (o->failed || n >= o->cap - o->len) {
        o->failed = 1;
        return;
    }
    memcpy(o->p + o->len, s, n + 1);
    o->len += n;
}

static void put_b64(struct out *o, const uint8_t *b, size_t n)
{
    char tmp[WA_B64URL_LEN(WA_CRED_ID_MAX) + 1];
    if (n > WA_CRED_ID_MAX || !wa_b64url_encode(tmp, sizeof tmp, b, n))
        o->failed = 1;
    else
        put(o, tmp);
}

static size_t refuse(struct out *o, int *status, int code, const char *reason, const char *src)
{
    fprintf(stderr, "web-devserver: passkey refused (%s): %s\n", src, reason);
    o->len = 0;
    o->failed = 0;
    put(o, "{\"error\":\"");
    put(o, reason);
    put(o, "\"}\n");
    *status = code;
    return o->len;
}

static size_t register_begin(const uint8_t *body, size_t n, uint64_t now, struct out *o, int *status, const char *src)
{
    size_t ul;
    const uint8_t *u = field(body, n, "user", &ul);
    if (!u || !name_ok(u, ul))
        return refuse(o, status, 400, "request.user", src);
    struct account *a = find_account(u, ul);
    for (unsigned i = 0; !a && i < USERS_MAX; i++)
        if (!accounts[i].used) {
            a = &accounts[i];
            memset(a, 0, sizeof *a);
            memcpy(a->name, u, ul);
            if (getrandom(a->handle, sizeof a->handle, 0) != (ssize_t)sizeof a->handle)
                return refuse(o, status, 400, "server.entropy", src);
            a->used = 1;
        }
    if (!a)
        return refuse(o, status, 400, "account.table-full", src);
    if (a->ncred >= CREDS_PER_USER)
        return refuse(o, status, 400, "account.credentials-full", src);
    uint8_t ch[WA_CHALLENGE_LEN];
    if (getrandom(ch, sizeof ch, 0) != (ssize_t)sizeof ch)
        return refuse(o, status, 400, "server.entropy", src);
    int r = wa_challenge_issue(&challenges, WA_CREATE, ch, (uint64_t)(a - accounts), now);
    if (r != WA_OK)
        return refuse(o, status, 400, webauthn_reason_str(r), src);
    put(o, "{\"challenge\":\"");
    put_b64(o, ch, sizeof ch);
    put(o, "\",\"rpId\":\"");
    put(o, rp.rp_id);
    put(o, "\",\"userId\":\"");
    put_b64(o, a->handle, sizeof a->handle);
    put(o, "\",\"exclude\":[");
    for (unsigned i = 0; i < a->ncred; i++) {
        put(o, i ? ",\"" : "\"");
        put_b64(o, a->cred[i].id, a->cred[i].id_len);
        put(o, "\"");
    }
    put(o, "]}\n");
    *status = 200;
    return o->len;
}

static uint8_t cd[WA_CLIENT_DATA_MAX], att[WA_ATTESTATION_MAX], ad[WA_AUTH_DATA_MAX], sig[WA_SIG_MAX];
static uint8_t cid[WA_CRED_ID_MAX];

static size_t register_finish(const uint8_t *body, size_t n, uint64_t now, struct out *o, int *status,
                              const char *src)
{
    size_t cdl, attl;
    if (field_b64(body, n, "clientDataJSON", cd, sizeof cd, &cdl) ||
        field_b64(body, n, "attestationObject", att, sizeof att, &attl))
        return refuse(o, status, 400, "request.fields", src);
    struct wa_credential c;
    struct wa_result res;
    int r = wa_verify_registration(&rp, &challenges, now, cd, cdl, att, attl, &c, &res);
    if (r != WA_OK)
        return refuse(o, status, 400, webauthn_reason_str(r), src);
    struct account *owner, *a = &accounts[res.binding];
    if (find_credential(c.id, c.id_len, &owner))
        return refuse(o, status, 400, "credential.exists", src);
    if (!a->used || a->ncred >= CREDS_PER_USER)
        return refuse(o, status, 400, "account.credentials-full", src);
    a->cred[a->ncred++] = c;
    fprintf(stderr, "web-devserver: passkey registered for %s (%s, alg %d)\n", a->name, src, c.alg);
    put(o, "{\"ok\":true,\"user\":\"");
    put(o, a->name);
    put(o, "\",\"credential\":\"");
    put_b64(o, c.id, c.id_len);
    put(o, "\"}\n");
    *status = 200;
    return o->len;
}

static size_t login_begin(const uint8_t *body, size_t n, uint64_t now, struct out *o, int *status, const char *src)
{
    size_t ul;
    const uint8_t *u = field(body, n, "user", &ul);
    struct account *a = NULL;
    if (u && ul) {
        if (!name_ok(u, ul) || !(a = find_account(u, ul)) || a->ncred == 0)
            return refuse(o, status, 400, "account.unknown", src);
    }
    uint8_t ch[WA_CHALLENGE_LEN];
    if (getrandom(ch, sizeof ch, 0) != (ssize_t)sizeof ch)
        return refuse(o, status, 400, "server.entropy", src);
    /* binding: the account's index + 1, or 0 for any account */
    int r = wa_challenge_issue(&challenges, WA_GET, ch, a ? (uint64_t)(a - accounts) + 1 : 0, now);
    if (r != WA_OK)
        return refuse(o, status, 400, webauthn_reason_str(r), src);
    put(o, "{\"challenge\":\"");
    put_b64(o, ch, sizeof ch);
    put(o, "\",\"rpId\":\"");
    put(o, rp.rp_id);
    put(o, "\",\"allow\":[");
    for (unsigned i = 0; a && i < a->ncred; i++) {
        put(o, i ? ",\"" : "\"");
        put_b64(o, a->cred[i].id, a->cred[i].id_len);
        put(o, "\"");
    }
    put(o, "]}\n");
    *status = 200;
    return o->len;
}

static size_t login_finish(const uint8_t *body, size_t n, uint64_t now, struct out *o, int *status, const char *src)
{
    size_t idl, cdl, adl, sl;
    if (field_b64(body, n, "id", cid, sizeof cid, &idl) || field_b64(body, n, "clientDataJSON", cd, sizeof cd, &cdl) ||
        field_b64(body, n, "authenticatorData", ad, sizeof ad, &adl) ||
        field_b64(body, n, "signature", sig, sizeof sig, &sl))
        return refuse(o, status, 400, "request.fields", src);
    struct account *a;
    struct wa_credential *c = find_credential(cid, idl, &a);
    if (!c)
        return refuse(o, status, 400, "credential.unknown", src);
    int r = wa_rate_check(&by_cred, c->id, c->id_len, now);
    if (r != WA_OK)
        return refuse(o, status, 403, webauthn_reason_str(r), src);
    struct wa_result res;
    r = wa_verify_assertion(&rp, &challenges, now, cid, idl, cd, cdl, ad, adl, sig, sl, c, &res);
    if (r != WA_OK)
        return refuse(o, status, 400, webauthn_reason_str(r), src);
    if (res.binding != 0 && res.binding != (uint64_t)(a - accounts) + 1)
        return refuse(o, status, 400, "credential.other-account", src);
    fprintf(stderr, "web-devserver: passkey login for %s (%s, sign count %u)\n", a->name, src, res.sign_count);
    char num[16];
    snprintf(num, sizeof num, "%u", res.sign_count);
    put(o, "{\"ok\":true,\"user\":\"");
    put(o, a->name);
    put(o, "\",\"signCount\":");
    put(o, num);
    put(o, ",\"userVerified\":");
    put(o, res.flags & WA_FLAG_UV ? "true" : "false");
    put(o, "}\n");
    *status = 200;
    return o->len;
}

size_t passkey_handle(const uint8_t *target, size_t target_len, const uint8_t *body, size_t body_len,
                      const char *src, uint64_t now_ms, char *out, size_t cap, int *status)
{
    struct out o = { out, cap, 0, 0 };
    size_t n;
    int r = wa_rate_check(&by_source, (const uint8_t *)src, strlen(src), now_ms);
    if (r != WA_OK)
        n = refuse(&o, status, 403, webauthn_reason_str(r), src);
    else if (path_is(target, target_len, "/api/passkey/register/begin"))
        n = register_begin(body, body_len, now_ms, &o, status, src);
    else if (path_is(target, target_len, "/api/passkey/register/finish"))
        n = register_finish(body, body_len, now_ms, &o, status, src);
    else if (path_is(target, target_len, "/api/passkey/login/begin"))
        n = login_begin(body, body_len, now_ms, &o, status, src);
    else if (path_is(target, target_len, "/api/passkey/login/finish"))
        n = login_finish(body, body_len, now_ms, &o, status, src);
    else
        n = refuse(&o, status, 404, "request.endpoint", src);
    if (o.failed)
        n = refuse(&o, status, 400, "server.response-size", src);
    return n;
}
