/*
 * shelfline-token: signs a bearer token the suite accepts, for make run,
 * the demo loaders, tests and operators trying things out.  In production
 * an identity provider issues tokens; this tool signs with a private key
 * the operator holds (the public half is SHELFLINE_JWT_PUBLIC_KEY_FILE).
 *
 *   shelfline-token --key jwt.key --sub alice --roles cs-agent[,planner]
 *                   [--ttl 24h] [--alg ES256|RS256]
 *
 * Prints the token (no "Bearer ") and a newline.  Exit status 0, or 2 on
 * bad arguments naming the first.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sl_auth.h"
#include "sl_config.h"

static int usage(const char *why)
{
    if (why != NULL)
        fprintf(stderr, "shelfline-token: %s\n", why);
    fprintf(stderr, "usage: shelfline-token --key PRIVATE.pem --sub SUBJECT --roles ROLE[,ROLE...]"
                    " [--ttl 24h] [--alg ES256|RS256]\n"
                    "roles: storefront, cs-agent, planner, stock-admin, service\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *key_path = NULL, *sub = NULL, *roles = NULL, *ttl = "24h", *alg = "ES256";
    for (int i = 1; i < argc; i++) {
        const char **slot = strcmp(argv[i], "--key") == 0     ? &key_path
                            : strcmp(argv[i], "--sub") == 0   ? &sub
                            : strcmp(argv[i], "--roles") == 0 ? &roles
                            : strcmp(argv[i], "--ttl") == 0   ? &ttl
                            : strcmp(argv[i], "--alg") == 0   ? &alg
                                                              : NULL;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(NULL);
            return 0;
        }
        if (slot == NULL || i + 1 >= argc) {
            char why[256];
            snprintf(why, sizeof why, "unknown or incomplete argument \"%s\"", argv[i]);
            return usage(why);
        }
        *slot = argv[++i];
    }
    if (key_path == NULL || sub == NULL || roles == NULL)
        return usage("--key, --sub and --roles are required");
    sl_err err;
    int64_t ttl_ms;
    if (sl_config_parse_duration_ms("--ttl", ttl, 1000, (int64_t)3650 * 24 * 3600 * 1000, &ttl_ms,
                                    &err) != SL_OK)
        return usage(err.msg);
    FILE *f = fopen(key_path, "rb");
    if (f == NULL) {
        fprintf(stderr, "shelfline-token: could not open \"%s\"\n", key_path);
        return 2;
    }
    static unsigned char key[64 * 1024];
    size_t key_len = fread(key, 1, sizeof key - 1, f);
    fclose(f);
    int64_t now = (int64_t)time(NULL);
    char *token;
    if (sl_jwt_sign(alg, key, key_len, sub, roles, NULL, now, 0, now + ttl_ms / 1000, &token,
                    &err) != SL_OK) {
        fprintf(stderr, "shelfline-token: %s\n", err.msg);
        return 2;
    }
    printf("%s\n", token);
    free(token);
    return 0;
}
