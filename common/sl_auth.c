/*
 * sl_auth: roles, identities, JWT verification (libjwt, with jansson to
 * read the claims) and the peer token file.
 *
 * libjwt 1.10 (Debian 12) verifies whatever algorithm the token's header
 * names with the key it is given: an HS256 token "signed" with the public
 * key's PEM text as the HMAC secret, or an "alg": "none" token, passes
 * jwt_decode.  So the algorithm is checked after decoding and only RS256
 * and ES256 are accepted; the claims are read only from a token whose
 * signature held.
 */
#include "sl_auth.h"

#include <errno.h>
#include <jansson.h>
#include <jwt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sl_arena.h"
#include "sl_trace.h"

static const char *const role_names[SL_ROLE_COUNT] = {
#define SL__ROLE_NAME(id, name) [SL_ROLE_INDEX_##id] = name,
    SL_ROLE_LIST(SL__ROLE_NAME)
#undef SL__ROLE_NAME
};

const char *sl_role_name(unsigned bit)
{
    for (int i = 0; i < SL_ROLE_COUNT; i++)
        if (bit == 1u << i)
            return role_names[i];
    return NULL;
}

unsigned sl_role_parse(const char *name, size_t len)
{
    for (int i = 0; i < SL_ROLE_COUNT; i++)
        if (strlen(role_names[i]) == len && memcmp(role_names[i], name, len) == 0)
            return 1u << i;
    return 0;
}

char *sl_roles_format(unsigned roles, const char *sep, char *buf, size_t cap)
{
    if (cap == 0)
        return buf;
    buf[0] = '\0';
    size_t used = 0;
    for (int i = 0; i < SL_ROLE_COUNT; i++) {
        if ((roles & (1u << i)) == 0)
            continue;
        int n = snprintf(buf + used, cap - used, "%s%s", used > 0 ? sep : "", role_names[i]);
        if (n < 0 || (size_t)n >= cap - used)
            return buf;
        used += (size_t)n;
    }
    if (used == 0)
        snprintf(buf, cap, "(none)");
    return buf;
}

sl_audit sl_audit_background(const char *actor)
{
    const sl_trace *t = sl_trace_current();
    return (sl_audit){.actor = actor,
                      .request_id = t != NULL ? t->request_id : "",
                      .trace_id = t != NULL ? t->trace_id : ""};
}

/* ---- verification ---- */

/* Verified tokens by hash of their text: a hit skips the signature check
 * until the token expires.  Direct-mapped; a collision just verifies
 * again. */
#define CACHE_SLOTS 256

typedef struct cache_entry {
    uint64_t hash;
    char *token; /* NULL: empty slot */
    sl_identity id;
    int64_t nbf_s, exp_s;
} cache_entry;

struct sl_jwt_verifier {
    unsigned char *key;
    size_t key_len;
    pthread_mutex_t mu;
    cache_entry cache[CACHE_SLOTS];
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Reads the whole file at path (at most max bytes) into a malloc'd,
 * NUL-terminated buffer. */
static sl_status read_file(const char *path, size_t max, char **out, size_t *len, sl_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "could not open \"%s\": %s", path,
                          strerror(errno));
    sl_status st = SL_OK;
    char *buf = sl_calloc(1, max + 1);
    if (buf == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    size_t n = fread(buf, 1, max + 1, f);
    if (ferror(f)) {
        st = sl_err_set(err, SL_INVALID_ARGUMENT, "could not read \"%s\"", path);
        goto out;
    }
    if (n > max) {
        st = sl_err_set(err, SL_INVALID_ARGUMENT, "\"%s\" is larger than %zu bytes", path, max);
        goto out;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    buf = NULL;
out:
    free(buf);
    fclose(f);
    return st;
}

sl_status sl_jwt_verifier_create(const char *path, sl_jwt_verifier **out, sl_err *err)
{
    *out = NULL;
    char *pem;
    size_t len;
    sl_status st = read_file(path, 64 * 1024, &pem, &len, err);
    if (st != SL_OK)
        return st;
    if (strstr(pem, "-----BEGIN PUBLIC KEY-----") == NULL &&
        strstr(pem, "-----BEGIN RSA PUBLIC KEY-----") == NULL) {
        free(pem);
        return sl_err_set(err, SL_INVALID_ARGUMENT, "\"%s\" holds no PEM public key", path);
    }
    sl_jwt_verifier *v = sl_calloc(1, sizeof *v);
    if (v == NULL) {
        free(pem);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    v->key = (unsigned char *)pem;
    v->key_len = len;
    pthread_mutex_init(&v->mu, NULL);
    *out = v;
    return SL_OK;
}

void sl_jwt_verifier_destroy(sl_jwt_verifier *v)
{
    if (v == NULL)
        return;
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        free(v->cache[i].token);
    pthread_mutex_destroy(&v->mu);
    free(v->key);
    free(v);
}

static bool cache_get(sl_jwt_verifier *v, const char *token, uint64_t h, int64_t now_s,
                      sl_identity *out)
{
    bool hit = false;
    pthread_mutex_lock(&v->mu);
    cache_entry *e = &v->cache[h % CACHE_SLOTS];
    if (e->token != NULL && e->hash == h && strcmp(e->token, token) == 0 &&
        now_s < e->exp_s + SL_JWT_LEEWAY_S && now_s >= e->nbf_s - SL_JWT_LEEWAY_S) {
        *out = e->id;
        hit = true;
    }
    pthread_mutex_unlock(&v->mu);
    return hit;
}

static void cache_put(sl_jwt_verifier *v, const char *token, uint64_t h, const sl_identity *id,
                      int64_t nbf_s, int64_t exp_s)
{
    char *copy = sl_strdup(token);
    if (copy == NULL)
        return; /* no cache entry: the next call verifies again */
    pthread_mutex_lock(&v->mu);
    cache_entry *e = &v->cache[h % CACHE_SLOTS];
    free(e->token);
    *e = (cache_entry){.hash = h, .token = copy, .id = *id, .nbf_s = nbf_s, .exp_s = exp_s};
    pthread_mutex_unlock(&v->mu);
}

static bool audience_ok(const json_t *aud)
{
    if (json_is_string(aud))
        return strcmp(json_string_value(aud), SL_JWT_AUDIENCE) == 0;
    if (!json_is_array(aud))
        return false;
    size_t i;
    const json_t *x;
    json_array_foreach(aud, i, x)
    {
        if (json_is_string(x) && strcmp(json_string_value(x), SL_JWT_AUDIENCE) == 0)
            return true;
    }
    return false;
}

/* The claims of a token whose signature held: exp, nbf, aud, sub, roles. */
static sl_status check_claims(const json_t *claims, int64_t now_s, sl_identity *out, int64_t *nbf_s,
                              int64_t *exp_s, sl_err *err)
{
    const json_t *exp = json_object_get(claims, "exp");
    if (!json_is_integer(exp))
        return sl_err_set(err, SL_UNAUTHENTICATED, "bearer token has no exp claim");
    *exp_s = (int64_t)json_integer_value(exp);
    if (now_s >= *exp_s + SL_JWT_LEEWAY_S)
        return sl_err_set(err, SL_UNAUTHENTICATED, "bearer token expired %lld s ago",
                          (long long)(now_s - *exp_s));
    const json_t *nbf = json_object_get(claims, "nbf");
    *nbf_s = 0;
    if (nbf != NULL) {
        if (!json_is_integer(nbf))
            return sl_err_set(err, SL_UNAUTHENTICATED, "bearer token's nbf is not a number");
        *nbf_s = (int64_t)json_integer_value(nbf);
        if (now_s < *nbf_s - SL_JWT_LEEWAY_S)
            return sl_err_set(err, SL_UNAUTHENTICATED, "bearer token not valid for %lld s yet",
                              (long long)(*nbf_s - now_s));
    }
    if (!audience_ok(json_object_get(claims, "aud")))
        return sl_err_set(err, SL_UNAUTHENTICATED,
                          "bearer token's audience is not \"" SL_JWT_AUDIENCE "\"");
    const json_t *sub = json_object_get(claims, "sub");
    if (!json_is_string(sub) || json_string_length(sub) == 0)
        return sl_err_set(err, SL_UNAUTHENTICATED, "bearer token has no sub claim");
    if (json_string_length(sub) >= sizeof out->subject)
        return sl_err_set(err, SL_UNAUTHENTICATED, "bearer token's sub is longer than %zu bytes",
                          sizeof out->subject - 1);
    memset(out, 0, sizeof *out);
    memcpy(out->subject, json_string_value(sub), json_string_length(sub));
    const json_t *roles = json_object_get(claims, "roles");
    if (roles != NULL && !json_is_array(roles))
        return sl_err_set(err, SL_UNAUTHENTICATED, "bearer token's roles claim is not an array");
    size_t i;
    const json_t *r;
    json_array_foreach(roles, i, r)
    {
        if (json_is_string(r))
            out->roles |= sl_role_parse(json_string_value(r), json_string_length(r));
    }
    return SL_OK;
}

/* Steps:
 *  1. The cache: a token verified before and still in its validity window
 *     is the same identity.
 *  2. The signature with the key, then the algorithm (see the file's
 *     comment on why after); on a failure, a parse without the key tells a
 *     malformed token from a bad signature.
 *  3. The claims, read with jansson from the verified body. */
sl_status sl_jwt_verify(sl_jwt_verifier *v, const char *token, int64_t now_s, sl_identity *out,
                        sl_err *err)
{
    if (token == NULL || token[0] == '\0')
        return sl_err_set(err, SL_UNAUTHENTICATED, "missing bearer token");
    if (strlen(token) > SL_JWT_MAX_BYTES)
        return sl_err_set(err, SL_UNAUTHENTICATED, "bearer token longer than %d bytes",
                          SL_JWT_MAX_BYTES);
    uint64_t h = fnv1a(token);
    if (cache_get(v, token, h, now_s, out))
        return SL_OK;

    jwt_t *j = NULL;
    char *body = NULL;
    json_t *claims = NULL;
    sl_status st = SL_OK;
    int rc = jwt_decode(&j, token, v->key, (int)v->key_len);
    if (rc == ENOMEM) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    if (rc != 0) {
        /* Without a key libjwt only parses: a token that parses there
         * failed on its signature. */
        jwt_t *parsed = NULL;
        bool well_formed = jwt_decode(&parsed, token, NULL, 0) == 0;
        jwt_free(parsed);
        st = sl_err_set(err, SL_UNAUTHENTICATED, "%s",
                        well_formed ? "bearer token's signature does not verify"
                                    : "malformed bearer token");
        goto out;
    }
    jwt_alg_t alg = jwt_get_alg(j);
    if (alg != JWT_ALG_RS256 && alg != JWT_ALG_ES256) {
        st = sl_err_set(err, SL_UNAUTHENTICATED,
                        "bearer token signed with %s: only RS256 and ES256 are accepted",
                        jwt_alg_str(alg) != NULL ? jwt_alg_str(alg) : "an unknown algorithm");
        goto out;
    }
    body = jwt_get_grants_json(j, NULL);
    if (body == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    claims = json_loads(body, JSON_REJECT_DUPLICATES, NULL);
    if (!json_is_object(claims)) {
        st = sl_err_set(err, SL_UNAUTHENTICATED, "bearer token's claims are not a JSON object");
        goto out;
    }
    int64_t nbf_s = 0, exp_s = 0;
    st = check_claims(claims, now_s, out, &nbf_s, &exp_s, err);
    if (st == SL_OK)
        cache_put(v, token, h, out, nbf_s, exp_s);
out:
    json_decref(claims);
    free(body);
    jwt_free(j);
    return st;
}

sl_status sl_auth_bearer(sl_jwt_verifier *v, const char *authorization, int64_t now_s,
                         sl_identity *out, sl_err *err)
{
    if (authorization == NULL || authorization[0] == '\0')
        return sl_err_set(err, SL_UNAUTHENTICATED,
                          "missing credentials: send \"authorization: Bearer <jwt>\"");
    if (strncmp(authorization, "Bearer ", 7) != 0)
        return sl_err_set(err, SL_UNAUTHENTICATED,
                          "authorization is not a bearer token (\"Bearer <jwt>\")");
    return sl_jwt_verify(v, authorization + 7, now_s, out, err);
}

sl_status sl_jwt_sign(const char *alg, const unsigned char *key, size_t key_len,
                      const char *subject, const char *roles, const char *aud, int64_t now_s,
                      int64_t nbf_s, int64_t exp_s, char **out, sl_err *err)
{
    *out = NULL;
    jwt_alg_t a = jwt_str_alg(alg);
    if (a != JWT_ALG_ES256 && a != JWT_ALG_RS256)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "algorithm \"%s\": expected ES256 or RS256",
                          alg);
    sl_status st = SL_OK;
    jwt_t *j = NULL;
    json_t *grants = json_pack("{s:s, s:s, s:I, s:I, s:[]}", "sub", subject, "aud",
                               aud != NULL ? aud : SL_JWT_AUDIENCE, "iat", (json_int_t)now_s, "exp",
                               (json_int_t)exp_s, "roles");
    char *text = NULL;
    if (grants == NULL || jwt_new(&j) != 0) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    if (nbf_s != 0)
        json_object_set_new(grants, "nbf", json_integer((json_int_t)nbf_s));
    json_t *arr = json_object_get(grants, "roles");
    for (const char *p = roles; p != NULL && *p != '\0';) {
        size_t n = strcspn(p, ",");
        if (sl_role_parse(p, n) == 0) {
            st = sl_err_set(err, SL_INVALID_ARGUMENT, "unknown role \"%.*s\"", (int)n, p);
            goto out;
        }
        json_array_append_new(arr, json_stringn(p, n));
        p += n;
        if (*p == ',')
            p++;
    }
    text = json_dumps(grants, JSON_COMPACT);
    if (text == NULL || jwt_add_grants_json(j, text) != 0) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        goto out;
    }
    if (jwt_set_alg(j, a, key, (int)key_len) != 0) {
        st = sl_err_set(err, SL_INVALID_ARGUMENT, "could not use the key for %s", alg);
        goto out;
    }
    *out = jwt_encode_str(j);
    if (*out == NULL)
        st = sl_err_set(err, SL_INVALID_ARGUMENT, "could not sign with the key (%s)", alg);
out:
    free(text);
    json_decref(grants);
    jwt_free(j);
    return st;
}

/* ---- the peer token file ---- */

typedef struct token_version {
    struct token_version *prev;
    char header[]; /* "Bearer <token>" */
} token_version;

struct sl_token_file {
    char *path;
    pthread_mutex_t mu;
    token_version *cur;
    int64_t checked_ms;
    struct timespec mtime;
    off_t size;
};

static int64_t now_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads the file into a new version (mu held, or before sharing). */
static sl_status load_token(sl_token_file *tf, sl_err *err)
{
    struct stat sb;
    if (stat(tf->path, &sb) != 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "could not stat \"%s\": %s", tf->path,
                          strerror(errno));
    char *text;
    size_t len;
    sl_status st = read_file(tf->path, SL_JWT_MAX_BYTES + 64, &text, &len, err);
    if (st != SL_OK)
        return st;
    const char *b = text;
    while (*b == ' ' || *b == '\t' || *b == '\n' || *b == '\r')
        b++;
    size_t n = strlen(b);
    while (n > 0 && (b[n - 1] == ' ' || b[n - 1] == '\t' || b[n - 1] == '\n' || b[n - 1] == '\r'))
        n--;
    if (n == 0) {
        free(text);
        return sl_err_set(err, SL_INVALID_ARGUMENT, "\"%s\" holds no token", tf->path);
    }
    token_version *v = sl_malloc(sizeof *v + n + 8);
    if (v == NULL) {
        free(text);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    snprintf(v->header, n + 8, "Bearer %.*s", (int)n, b);
    free(text);
    if (tf->cur != NULL && strcmp(tf->cur->header, v->header) == 0) {
        free(v);
    } else {
        v->prev = tf->cur;
        tf->cur = v;
    }
    tf->mtime = sb.st_mtim;
    tf->size = sb.st_size;
    return SL_OK;
}

sl_status sl_token_file_open(const char *path, sl_token_file **out, sl_err *err)
{
    *out = NULL;
    sl_token_file *tf = sl_calloc(1, sizeof *tf);
    if (tf == NULL || (tf->path = sl_strdup(path)) == NULL) {
        free(tf);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    pthread_mutex_init(&tf->mu, NULL);
    sl_status st = load_token(tf, err);
    if (st != SL_OK) {
        sl_token_file_destroy(tf);
        return st;
    }
    tf->checked_ms = now_mono_ms();
    *out = tf;
    return SL_OK;
}

const char *sl_token_file_authorization(sl_token_file *tf)
{
    pthread_mutex_lock(&tf->mu);
    int64_t now = now_mono_ms();
    if (now - tf->checked_ms >= 1000) {
        tf->checked_ms = now;
        struct stat sb;
        if (stat(tf->path, &sb) == 0 &&
            (sb.st_mtim.tv_sec != tf->mtime.tv_sec || sb.st_mtim.tv_nsec != tf->mtime.tv_nsec ||
             sb.st_size != tf->size))
            load_token(tf, NULL);
    }
    const char *h = tf->cur->header;
    pthread_mutex_unlock(&tf->mu);
    return h;
}

sl_status sl_token_file_from_env(const char *env, sl_token_file **out, sl_err *err)
{
    *out = NULL;
    const char *path = getenv(env);
    if (path == NULL || path[0] == '\0')
        return SL_OK;
    sl_status st = sl_token_file_open(path, out, err);
    if (st != SL_OK && err != NULL) {
        char msg[SL_ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err->msg);
        sl_err_set(err, st, "%s: %s", env, msg);
    }
    return st;
}

void sl_token_file_destroy(sl_token_file *tf)
{
    if (tf == NULL)
        return;
    while (tf->cur != NULL) {
        token_version *prev = tf->cur->prev;
        free(tf->cur);
        tf->cur = prev;
    }
    pthread_mutex_destroy(&tf->mu);
    free(tf->path);
    free(tf);
}
