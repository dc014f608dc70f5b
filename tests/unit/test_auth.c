/*
 * sl_auth: what a bearer token must be to be believed (signature with the
 * configured key, RS256 or ES256 only, exp, nbf, aud, sub), the roles it
 * carries, and the peer token file re-read when it changes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sl_auth.h"

typedef struct keys {
    char dir[64];
    char priv[128], pub[128], rsa_priv[128], rsa_pub[128];
    unsigned char key[8192], rsa_key[8192], pub_pem[4096];
    size_t key_len, rsa_key_len, pub_len;
    sl_jwt_verifier *ec, *rsa;
} keys;

static int sh(const char *cmd)
{
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    int status;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static size_t slurp(const char *path, unsigned char *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
    return n;
}

static int setup(void **state)
{
    keys *k = calloc(1, sizeof *k);
    snprintf(k->dir, sizeof k->dir, "/tmp/sl-auth-XXXXXX");
    if (mkdtemp(k->dir) == NULL)
        return -1;
    snprintf(k->priv, sizeof k->priv, "%s/ec.key", k->dir);
    snprintf(k->pub, sizeof k->pub, "%s/ec.pub", k->dir);
    snprintf(k->rsa_priv, sizeof k->rsa_priv, "%s/rsa.key", k->dir);
    snprintf(k->rsa_pub, sizeof k->rsa_pub, "%s/rsa.pub", k->dir);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "openssl ecparam -name prime256v1 -genkey -noout -out %s 2>/dev/null && "
             "openssl ec -in %s -pubout -out %s 2>/dev/null && "
             "openssl genrsa -out %s 2048 2>/dev/null && "
             "openssl rsa -in %s -pubout -out %s 2>/dev/null",
             k->priv, k->priv, k->pub, k->rsa_priv, k->rsa_priv, k->rsa_pub);
    if (sh(cmd) != 0)
        return -1;
    k->key_len = slurp(k->priv, k->key, sizeof k->key);
    k->rsa_key_len = slurp(k->rsa_priv, k->rsa_key, sizeof k->rsa_key);
    k->pub_len = slurp(k->pub, k->pub_pem, sizeof k->pub_pem);
    sl_err err;
    if (sl_jwt_verifier_create(k->pub, &k->ec, &err) != SL_OK ||
        sl_jwt_verifier_create(k->rsa_pub, &k->rsa, &err) != SL_OK)
        return -1;
    *state = k;
    return 0;
}

static int teardown(void **state)
{
    keys *k = *state;
    sl_jwt_verifier_destroy(k->ec);
    sl_jwt_verifier_destroy(k->rsa);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", k->dir);
    sh(cmd);
    free(k);
    return 0;
}

static char *sign(keys *k, const char *alg, const char *sub, const char *roles, const char *aud,
                  int64_t nbf, int64_t exp)
{
    bool rsa = strcmp(alg, "RS256") == 0;
    char *tok = NULL;
    sl_err err;
    sl_status st = sl_jwt_sign(alg, rsa ? k->rsa_key : k->key, rsa ? k->rsa_key_len : k->key_len,
                               sub, roles, aud, (int64_t)time(NULL), nbf, exp, &tok, &err);
    if (st != SL_OK)
        fail_msg("sign: %s", err.msg);
    return tok;
}

static void expect_refused(sl_jwt_verifier *v, const char *tok, const char *why)
{
    sl_identity id;
    sl_err err;
    sl_err_clear(&err);
    assert_int_equal(sl_jwt_verify(v, tok, (int64_t)time(NULL), &id, &err), SL_UNAUTHENTICATED);
    if (strstr(err.msg, why) == NULL)
        fail_msg("\"%s\" does not say \"%s\"", err.msg, why);
}

static void test_es256_and_rs256_tokens_give_subject_and_roles(void **state)
{
    keys *k = *state;
    int64_t now = (int64_t)time(NULL);
    char *es = sign(k, "ES256", "ann", "cs-agent,planner", NULL, 0, now + 60);
    char *rs = sign(k, "RS256", "bo", "stock-admin", NULL, now - 5, now + 60);
    sl_identity id;
    sl_err err;
    assert_int_equal(sl_jwt_verify(k->ec, es, now, &id, &err), SL_OK);
    assert_string_equal(id.subject, "ann");
    assert_int_equal(id.roles, SL_ROLE_CS_AGENT | SL_ROLE_PLANNER);
    assert_int_equal(sl_jwt_verify(k->rsa, rs, now, &id, &err), SL_OK);
    assert_string_equal(id.subject, "bo");
    assert_int_equal(id.roles, SL_ROLE_STOCK_ADMIN);
    /* A second time from the cache: the same identity. */
    assert_int_equal(sl_jwt_verify(k->ec, es, now, &id, &err), SL_OK);
    assert_string_equal(id.subject, "ann");
    /* Each key verifies its own tokens only. */
    expect_refused(k->rsa, es, "signature does not verify");
    expect_refused(k->ec, rs, "signature does not verify");
    free(es);
    free(rs);
}

static void test_claims_are_checked(void **state)
{
    keys *k = *state;
    int64_t now = (int64_t)time(NULL);
    char *expired = sign(k, "ES256", "ann", "cs-agent", NULL, 0, now - 120);
    char *early = sign(k, "ES256", "ann", "cs-agent", NULL, now + 600, now + 1200);
    char *aud = sign(k, "ES256", "ann", "cs-agent", "someone-else", 0, now + 60);
    expect_refused(k->ec, expired, "expired");
    expect_refused(k->ec, early, "not valid for");
    expect_refused(k->ec, aud, "audience is not \"shelfline\"");
    expect_refused(k->ec, "", "missing bearer token");
    expect_refused(k->ec, "not-a-jwt", "malformed");
    /* A cached token still expires: verified now, refused two minutes
     * after its exp (30 s of skew allowed). */
    char *soon = sign(k, "ES256", "ann", "cs-agent", NULL, 0, now + 10);
    sl_identity id;
    sl_err err;
    assert_int_equal(sl_jwt_verify(k->ec, soon, now, &id, &err), SL_OK);
    assert_int_equal(sl_jwt_verify(k->ec, soon, now + 120, &id, &err), SL_UNAUTHENTICATED);
    free(expired);
    free(early);
    free(aud);
    free(soon);
}

/* The classic confusions: a token "signed" HS256 with the public key's
 * PEM as the HMAC secret, and an unsigned "alg": "none" token, both
 * claiming every role.  libjwt alone would accept the first. */
static void test_hs256_with_the_public_key_and_alg_none_are_refused(void **state)
{
    keys *k = *state;
    int64_t now = (int64_t)time(NULL);
    jwt_t *j;
    assert_int_equal(jwt_new(&j), 0);
    char grants[256];
    snprintf(grants, sizeof grants,
             "{\"sub\":\"mallory\",\"aud\":\"shelfline\",\"exp\":%lld,"
             "\"roles\":[\"stock-admin\",\"service\"]}",
             (long long)(now + 60));
    assert_int_equal(jwt_add_grants_json(j, grants), 0);
    assert_int_equal(jwt_set_alg(j, JWT_ALG_HS256, k->pub_pem, (int)k->pub_len), 0);
    char *hs = jwt_encode_str(j);
    assert_non_null(hs);
    expect_refused(k->ec, hs, "only RS256 and ES256");
    assert_int_equal(jwt_set_alg(j, JWT_ALG_NONE, NULL, 0), 0);
    char *none = jwt_encode_str(j);
    assert_non_null(none);
    sl_identity id;
    sl_err err;
    assert_int_equal(sl_jwt_verify(k->ec, none, now, &id, &err), SL_UNAUTHENTICATED);
    free(hs);
    free(none);
    jwt_free(j);
}

static void test_roles_the_suite_does_not_know_are_ignored(void **state)
{
    keys *k = *state;
    int64_t now = (int64_t)time(NULL);
    jwt_t *j;
    assert_int_equal(jwt_new(&j), 0);
    char grants[256];
    snprintf(grants, sizeof grants,
             "{\"sub\":\"x\",\"aud\":[\"other\",\"shelfline\"],\"exp\":%lld,"
             "\"roles\":[\"superuser\",\"planner\",7]}",
             (long long)(now + 60));
    assert_int_equal(jwt_add_grants_json(j, grants), 0);
    assert_int_equal(jwt_set_alg(j, JWT_ALG_ES256, k->key, (int)k->key_len), 0);
    char *tok = jwt_encode_str(j);
    sl_identity id;
    sl_err err;
    assert_int_equal(sl_jwt_verify(k->ec, tok, now, &id, &err), SL_OK);
    assert_int_equal(id.roles, SL_ROLE_PLANNER);
    free(tok);
    jwt_free(j);
    /* sl_jwt_sign refuses a role name it does not know. */
    char *out;
    assert_int_equal(sl_jwt_sign("ES256", k->key, k->key_len, "x", "planner,root", NULL, now, 0,
                                 now + 60, &out, &err),
                     SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "unknown role \"root\"");
}

static void test_bearer_header(void **state)
{
    keys *k = *state;
    sl_identity id;
    sl_err err;
    assert_int_equal(sl_auth_bearer(k->ec, NULL, 0, &id, &err), SL_UNAUTHENTICATED);
    assert_non_null(strstr(err.msg, "missing credentials"));
    assert_int_equal(sl_auth_bearer(k->ec, "Basic YWxpY2U6", 0, &id, &err), SL_UNAUTHENTICATED);
    assert_non_null(strstr(err.msg, "not a bearer token"));
}

static void test_role_names(void **state)
{
    (void)state;
    char buf[128];
    assert_string_equal(
        sl_roles_format(SL_ROLE_STOCK_ADMIN | SL_ROLE_SERVICE, " or ", buf, sizeof buf),
        "stock-admin or service");
    assert_string_equal(sl_roles_format(0, ",", buf, sizeof buf), "(none)");
    assert_int_equal(sl_role_parse("cs-agent", 8), SL_ROLE_CS_AGENT);
    assert_int_equal(sl_role_parse("cs-agen", 7), 0);
    assert_string_equal(sl_role_name(SL_ROLE_STOREFRONT), "storefront");
    assert_null(sl_role_name(SL_ROLE_STOREFRONT | SL_ROLE_SERVICE));
}

/* The peer token: trimmed, and re-read (within a second) when the file is
 * replaced, as a rotated Secret is; the earlier string stays valid. */
static void test_token_file_is_re_read_when_it_changes(void **state)
{
    keys *k = *state;
    char path[128], tmp[140];
    snprintf(path, sizeof path, "%s/peer.token", k->dir);
    snprintf(tmp, sizeof tmp, "%s.new", path);
    FILE *f = fopen(path, "w");
    fputs("  first-token\n", f);
    fclose(f);
    sl_token_file *tf;
    sl_err err;
    assert_int_equal(sl_token_file_open(path, &tf, &err), SL_OK);
    const char *first = sl_token_file_authorization(tf);
    assert_string_equal(first, "Bearer first-token");
    f = fopen(tmp, "w");
    fputs("second-token-longer\n", f);
    fclose(f);
    assert_int_equal(rename(tmp, path), 0);
    const char *now = first;
    for (int i = 0; i < 30 && strcmp(now, "Bearer second-token-longer") != 0; i++) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
        now = sl_token_file_authorization(tf);
    }
    assert_string_equal(now, "Bearer second-token-longer");
    assert_string_equal(first, "Bearer first-token");
    sl_token_file_destroy(tf);
    unlink(path);
    assert_int_equal(sl_token_file_open(path, &tf, &err), SL_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_es256_and_rs256_tokens_give_subject_and_roles),
        cmocka_unit_test(test_claims_are_checked),
        cmocka_unit_test(test_hs256_with_the_public_key_and_alg_none_are_refused),
        cmocka_unit_test(test_roles_the_suite_does_not_know_are_ignored),
        cmocka_unit_test(test_bearer_header),
        cmocka_unit_test(test_role_names),
        cmocka_unit_test(test_token_file_is_re_read_when_it_changes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
