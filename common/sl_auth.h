/*
 * sl_auth: who is calling and what they may do.
 *
 *  - Roles: the suite's five roles, one X-macro list with their names.  A
 *    set of roles is a bitmask (unsigned); each method table row names the
 *    roles that may call it (sl_method.roles) and the dispatcher checks the
 *    caller's roles against it before the handler (sl_server).
 *  - Identity: a subject and its roles, whatever proved them.  A bearer JWT
 *    (sl_jwt_verify) is one source; a client certificate mapped to roles
 *    (mTLS) is meant to be another that fills the same sl_identity.  The
 *    interceptor sets it on the call (sl_call_set_identity) and handlers
 *    read it (sl_call_identity) to record who changed what.
 *  - Tokens: RS256 and ES256 JWTs verified with libjwt against one public
 *    key (PEM).  exp and sub are required, nbf is honoured, aud must be or
 *    contain "shelfline"; roles come from the "roles" claim (an array of
 *    role names; names the suite does not know are ignored, so a token
 *    issued for a newer release still works for the roles this one knows).
 *    Verified tokens are cached until they expire, so a peer presenting the
 *    same token on every call pays one signature check.
 *  - Peer tokens: a service presents a token issued to it (role "service")
 *    from a file, re-read when the file changes (sl_token_file).
 */
#ifndef SL_AUTH_H
#define SL_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sl_status.h"

/* The suite's roles: enum suffix and the name tokens carry. */
#define SL_ROLE_LIST(X)                                                                            \
    X(STOREFRONT, "storefront")                                                                    \
    X(CS_AGENT, "cs-agent")                                                                        \
    X(PLANNER, "planner")                                                                          \
    X(STOCK_ADMIN, "stock-admin")                                                                  \
    X(SERVICE, "service")

typedef enum sl_role_index {
#define SL__ROLE_INDEX(id, name) SL_ROLE_INDEX_##id,
    SL_ROLE_LIST(SL__ROLE_INDEX)
#undef SL__ROLE_INDEX
        SL_ROLE_COUNT
} sl_role_index;

/* One bit per role, for the method tables' roles column. */
#define SL_ROLE_STOREFRONT (1u << SL_ROLE_INDEX_STOREFRONT)
#define SL_ROLE_CS_AGENT (1u << SL_ROLE_INDEX_CS_AGENT)
#define SL_ROLE_PLANNER (1u << SL_ROLE_INDEX_PLANNER)
#define SL_ROLE_STOCK_ADMIN (1u << SL_ROLE_INDEX_STOCK_ADMIN)
#define SL_ROLE_SERVICE (1u << SL_ROLE_INDEX_SERVICE)
/* Every role: any authenticated caller (server reflection). */
#define SL_ROLES_ANY ((1u << SL_ROLE_COUNT) - 1u)

/* The name of role bit (exactly one bit set), or NULL. */
const char *sl_role_name(unsigned bit);

/* The bit of the role named by the len bytes at name; 0 when it is no role. */
unsigned sl_role_parse(const char *name, size_t len);

/* Writes the names of roles, separated by sep, into buf (cap bytes,
 * truncated, always terminated); "(none)" for an empty set.  Returns buf. */
char *sl_roles_format(unsigned roles, const char *sep, char *buf, size_t cap);

#define SL_AUTH_SUBJECT_MAX 128

/* Who is calling: the token's sub (or a certificate's identity) and its
 * roles. */
typedef struct sl_identity {
    char subject[SL_AUTH_SUBJECT_MAX];
    unsigned roles;
} sl_identity;

/* Who made a change, as audited rows record it: the caller's subject (or
 * the background work's name), the request id and the trace id it came
 * with ("" when none).  The strings belong to whoever filled it (the
 * call, or the thread's trace context) and live as long as it. */
typedef struct sl_audit {
    const char *actor;
    const char *request_id;
    const char *trace_id;
} sl_audit;

/* The audit of background work (a reaper, a consumer applying an event):
 * actor is its name, e.g. "system:reaper" (a string that outlives the
 * work); request and trace ids come from the thread's current trace
 * context (sl_trace_current: an applied event's), or "". */
sl_audit sl_audit_background(const char *actor);

/* ---- JWT ---- */

/* The audience every token must name. */
#define SL_JWT_AUDIENCE "shelfline"
/* Clock skew tolerated on exp and nbf, in seconds. */
#define SL_JWT_LEEWAY_S 30
/* Longest token accepted (bytes), so a huge header costs no parsing. */
#define SL_JWT_MAX_BYTES 8192

typedef struct sl_jwt_verifier sl_jwt_verifier;

/* Reads the PEM public key (RSA or EC P-256) at path.  The caller owns
 * *out (sl_jwt_verifier_destroy).  INVALID_ARGUMENT naming the file when
 * it cannot be read or holds no PEM key. */
sl_status sl_jwt_verifier_create(const char *path, sl_jwt_verifier **out, sl_err *err);
void sl_jwt_verifier_destroy(sl_jwt_verifier *v);

/* Verifies token (the JWT itself, no "Bearer ") at now_s (seconds since the
 * epoch): signature with the verifier's key and RS256 or ES256 alone (a
 * token naming another algorithm, "none" and HS256 included, is refused),
 * then exp, nbf, aud and sub.  On OK *out is the identity.
 * UNAUTHENTICATED with a message saying why (malformed, bad signature,
 * expired, not yet valid, wrong audience ...); RESOURCE_EXHAUSTED when out
 * of memory.  Thread-safe. */
sl_status sl_jwt_verify(sl_jwt_verifier *v, const char *token, int64_t now_s, sl_identity *out,
                        sl_err *err);

/* sl_jwt_verify of an authorization header's value ("Bearer <jwt>");
 * UNAUTHENTICATED when it is missing (NULL) or not a bearer token. */
sl_status sl_auth_bearer(sl_jwt_verifier *v, const char *authorization, int64_t now_s,
                         sl_identity *out, sl_err *err);

/* Signs a token for subject with roles (their names, comma-separated, as
 * the "roles" claim), aud "shelfline", iat now_s, nbf nbf_s (0: none) and
 * exp exp_s, ES256 or RS256 by the PEM private key in key (key_len bytes);
 * aud replaces the audience when not NULL (tests of a wrong one).  For
 * shelfline-token and tests: the suite verifies tokens, an identity
 * provider issues them.  *out is malloc'd (free).  INVALID_ARGUMENT when the
 * key or a role name is bad. */
sl_status sl_jwt_sign(const char *alg, const unsigned char *key, size_t key_len,
                      const char *subject, const char *roles, const char *aud, int64_t now_s,
                      int64_t nbf_s, int64_t exp_s, char **out, sl_err *err);

/* ---- a token presented to peers ---- */

typedef struct sl_token_file sl_token_file;

/* Reads the token at path (surrounding white space trimmed).  The caller
 * owns *out (sl_token_file_destroy), which must outlive every call that
 * used its authorization.  INVALID_ARGUMENT naming the file when it cannot
 * be read or is empty. */
sl_status sl_token_file_open(const char *path, sl_token_file **out, sl_err *err);

/* "Bearer <token>" for the next call: the file's content, re-read when its
 * modification time or size changed (looked at most once a second; a file
 * that cannot be read keeps the previous token, so a rotation caught half
 * way costs nothing).  The string stays valid until sl_token_file_destroy:
 * earlier tokens are kept, not freed, since a call may still be sending
 * one (a rotation a day costs a kilobyte).  Thread-safe. */
const char *sl_token_file_authorization(sl_token_file *tf);

/* sl_token_file_open of the file the environment variable env names; *out
 * is NULL (and the status OK) when env is unset or empty.  For clients and
 * tools: SHELFLINE_TOKEN_FILE. */
sl_status sl_token_file_from_env(const char *env, sl_token_file **out, sl_err *err);
void sl_token_file_destroy(sl_token_file *tf);

#endif
