/*
 * sl_test_auth: keys and tokens for tests of authentication (see
 * sl_test_auth.h).
 */
#include "sl_test_auth.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sl_auth.h"

/* Runs argv to completion with its output discarded; true when it exited 0. */
static bool run(char *const argv[])
{
    pid_t pid = fork();
    if (pid == 0) {
        FILE *null = freopen("/dev/null", "w", stdout);
        (void)null;
        execvp(argv[0], argv);
        _exit(127);
    }
    int status;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

int sl_test_keys_make(sl_test_keys *k)
{
    memset(k, 0, sizeof *k);
    snprintf(k->dir, sizeof k->dir, "/tmp/shelfline-keys-XXXXXX");
    if (mkdtemp(k->dir) == NULL) {
        perror("sl_test_keys_make: mkdtemp");
        return -1;
    }
    snprintf(k->private_key, sizeof k->private_key, "%s/jwt.key", k->dir);
    snprintf(k->public_key, sizeof k->public_key, "%s/jwt.pub", k->dir);
    snprintf(k->public_env, sizeof k->public_env, "SHELFLINE_JWT_PUBLIC_KEY_FILE=%s",
             k->public_key);
    char *gen[] = {"openssl", "ecparam", "-name",        "prime256v1", "-genkey",
                   "-noout",  "-out",    k->private_key, NULL};
    char *pub[] = {"openssl", "ec", "-in", k->private_key, "-pubout", "-out", k->public_key, NULL};
    if (!run(gen) || !run(pub)) {
        fprintf(stderr, "sl_test_keys_make: openssl could not make a key pair in %s\n", k->dir);
        return -1;
    }
    return 0;
}

void sl_test_keys_remove(const sl_test_keys *k)
{
    unlink(k->private_key);
    unlink(k->public_key);
    rmdir(k->dir);
}

char *sl_test_bearer_at(const sl_test_keys *k, const char *subject, const char *roles,
                        const char *aud, int64_t nbf_s, int64_t exp_s)
{
    FILE *f = fopen(k->private_key, "rb");
    if (f == NULL) {
        fprintf(stderr, "sl_test_bearer: no key at %s\n", k->private_key);
        return NULL;
    }
    unsigned char key[8192];
    size_t len = fread(key, 1, sizeof key, f);
    fclose(f);
    char *token = NULL;
    sl_err err;
    if (sl_jwt_sign("ES256", key, len, subject, roles, aud, (int64_t)time(NULL), nbf_s, exp_s,
                    &token, &err) != SL_OK) {
        fprintf(stderr, "sl_test_bearer: %s\n", err.msg);
        return NULL;
    }
    size_t n = strlen(token) + 8;
    char *bearer = malloc(n);
    if (bearer != NULL)
        snprintf(bearer, n, "Bearer %s", token);
    free(token);
    return bearer;
}

char *sl_test_bearer(const sl_test_keys *k, const char *subject, const char *roles)
{
    return sl_test_bearer_at(k, subject, roles, NULL, 0, (int64_t)time(NULL) + 3600);
}

int sl_test_write_token(const char *path, const char *bearer)
{
    const char *token = strncmp(bearer, "Bearer ", 7) == 0 ? bearer + 7 : bearer;
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return -1;
    fprintf(f, "%s\n", token);
    if (fclose(f) != 0)
        return -1;
    /* A rename, as a Secret's mount swaps its files: a reader never sees
     * half a token. */
    return rename(tmp, path);
}
