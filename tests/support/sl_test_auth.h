/*
 * sl_test_auth: throwaway keys and signed tokens for tests of
 * authentication, so such a test stays two lines longer than any other:
 *
 *   sl_test_keys k;  sl_test_keys_make(&k);      // ES256 pair in a temp dir
 *   env: k.public_env ("SHELFLINE_JWT_PUBLIC_KEY_FILE=...")
 *   char *auth = sl_test_bearer(&k, "alice", "cs-agent");   // "Bearer ..."
 */
#ifndef SL_TEST_AUTH_H
#define SL_TEST_AUTH_H

#include <stdint.h>

typedef struct sl_test_keys {
    char dir[256];
    char private_key[320]; /* PEM, EC P-256 */
    char public_key[320];  /* PEM */
    char public_env[360];  /* "SHELFLINE_JWT_PUBLIC_KEY_FILE=<public_key>" */
} sl_test_keys;

/* Creates a fresh key pair under a new temporary directory (openssl CLI).
 * Returns 0 or -1 (message on stderr). */
int sl_test_keys_make(sl_test_keys *k);

/* Removes the directory and the files in it. */
void sl_test_keys_remove(const sl_test_keys *k);

/* A token for subject with roles ("cs-agent,planner"; "" none), valid for
 * an hour, signed with k's key: "Bearer <jwt>", malloc'd (free).  NULL on
 * failure (message on stderr). */
char *sl_test_bearer(const sl_test_keys *k, const char *subject, const char *roles);

/* The same with every claim given: aud (NULL: "shelfline"), nbf (0: none)
 * and exp in seconds since the epoch. */
char *sl_test_bearer_at(const sl_test_keys *k, const char *subject, const char *roles,
                        const char *aud, int64_t nbf_s, int64_t exp_s);

/* Writes a token ("Bearer " dropped) to path, as a peer token file is;
 * returns 0 or -1. */
int sl_test_write_token(const char *path, const char *bearer);

#endif
