/*
 * sl_tls: see sl_tls.h.
 *
 * Files are checked with OpenSSL's libcrypto (the library gRPC core itself
 * uses on Debian): a certificate file holds at least one PEM certificate,
 * a key file a PEM private key that is the first certificate's key, a CA
 * file at least one certificate.  gRPC would only find a bad file at the
 * first handshake, long after the service said it was ready.
 *
 * Reloading.  gRPC core calls the certificate-config fetcher before every
 * TLS handshake it serves.  The fetcher stats the files (following
 * symlinks: a Kubernetes Secret volume swaps its ..data link, so the inode
 * changes) and only when the identity, size or mtime of one of them moved
 * does it read them; it hands gRPC a new config only when the contents
 * differ and pass the same checks as at start-up.  Files caught half
 * written (a new certificate beside the old key) fail the check: gRPC then
 * keeps serving the previous config and the next handshake tries again.
 * The HTTP port (sl_http) follows the same files through
 * sl_tls_server_refresh before each of its handshakes: both ports move to
 * a rotated certificate together, without a restart.
 */
#include "sl_tls.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sl_arena.h"
#include "sl_config.h"
#include "sl_log.h"
#include "sl_tls_int.h"

#define MAX_PEM_BYTES (1024 * 1024)

sl_status sl_tls_read_file(const char *var, const char *path, char **out, sl_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "invalid %s \"%s\": could not read it: %s", var,
                          path, strerror(errno));
    char *buf = sl_malloc(MAX_PEM_BYTES + 1);
    if (buf == NULL) {
        fclose(f);
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    size_t n = fread(buf, 1, MAX_PEM_BYTES + 1, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return sl_err_set(err, SL_INVALID_ARGUMENT, "invalid %s \"%s\": could not read it", var,
                          path);
    }
    if (n > MAX_PEM_BYTES) {
        free(buf);
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "invalid %s \"%s\": larger than %d bytes, not a PEM file", var, path,
                          MAX_PEM_BYTES);
    }
    buf[n] = '\0';
    *out = buf;
    return SL_OK;
}

static X509 *first_cert(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    if (b == NULL)
        return NULL;
    X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
    BIO_free(b);
    return x;
}

static EVP_PKEY *private_key(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    if (b == NULL)
        return NULL;
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
    BIO_free(b);
    return k;
}

/* Checks that cert_pem holds a certificate and key_pem its private key;
 * the message names the variables and files. */
static sl_status check_pair(const char *cert_var, const char *cert_file, const char *cert_pem,
                            const char *key_var, const char *key_file, const char *key_pem,
                            sl_err *err)
{
    sl_status st = SL_OK;
    X509 *x = first_cert(cert_pem);
    EVP_PKEY *k = NULL;
    if (x == NULL) {
        st = sl_err_set(err, SL_INVALID_ARGUMENT, "invalid %s \"%s\": no PEM certificate in it",
                        cert_var, cert_file);
        goto out;
    }
    k = private_key(key_pem);
    if (k == NULL) {
        st = sl_err_set(err, SL_INVALID_ARGUMENT, "invalid %s \"%s\": no PEM private key in it",
                        key_var, key_file);
        goto out;
    }
    if (X509_check_private_key(x, k) != 1)
        st = sl_err_set(err, SL_INVALID_ARGUMENT,
                        "invalid %s \"%s\": not the private key of the certificate in %s \"%s\"",
                        key_var, key_file, cert_var, cert_file);
out:
    EVP_PKEY_free(k);
    X509_free(x);
    ERR_clear_error();
    return st;
}

static sl_status check_ca(const char *var, const char *file, const char *pem, sl_err *err)
{
    X509 *x = first_cert(pem);
    ERR_clear_error();
    if (x == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "invalid %s \"%s\": no PEM certificate in it",
                          var, file);
    X509_free(x);
    return SL_OK;
}

/* Reads and checks a certificate and its key. */
static sl_status load_pair(const char *cert_var, const char *cert_file, const char *key_var,
                           const char *key_file, char **cert_pem, char **key_pem, sl_err *err)
{
    *cert_pem = *key_pem = NULL;
    sl_status st = sl_tls_read_file(cert_var, cert_file, cert_pem, err);
    if (st == SL_OK)
        st = sl_tls_read_file(key_var, key_file, key_pem, err);
    if (st == SL_OK)
        st = check_pair(cert_var, cert_file, *cert_pem, key_var, key_file, *key_pem, err);
    if (st != SL_OK) {
        free(*cert_pem);
        free(*key_pem);
        *cert_pem = *key_pem = NULL;
    }
    return st;
}

static sl_status load_ca(const char *var, const char *file, char **pem, sl_err *err)
{
    sl_status st = sl_tls_read_file(var, file, pem, err);
    if (st == SL_OK && (st = check_ca(var, file, *pem, err)) != SL_OK) {
        free(*pem);
        *pem = NULL;
    }
    return st;
}

/* Both or neither of a certificate and its key. */
static sl_status check_both(const char *a_var, const char *a, const char *b_var, const char *b,
                            sl_err *err)
{
    if ((a == NULL) == (b == NULL))
        return SL_OK;
    return sl_err_set(err, SL_INVALID_ARGUMENT, "invalid %s: set, but %s is not (set both)",
                      a != NULL ? a_var : b_var, a != NULL ? b_var : a_var);
}

sl_status sl_tls_check_files(const sl_tls_config *cfg, sl_err *err)
{
    sl_status st;
    if ((st = check_both("SHELFLINE_TLS_CERT_FILE", cfg->cert_file, "SHELFLINE_TLS_KEY_FILE",
                         cfg->key_file, err)) != SL_OK ||
        (st = check_both("SHELFLINE_TLS_CLIENT_CERT_FILE", cfg->client_cert_file,
                         "SHELFLINE_TLS_CLIENT_KEY_FILE", cfg->client_key_file, err)) != SL_OK)
        return st;
    if (cfg->client_ca_file != NULL && cfg->cert_file == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "invalid SHELFLINE_TLS_CLIENT_CA_FILE: client certificates need TLS "
                          "(set SHELFLINE_TLS_CERT_FILE and SHELFLINE_TLS_KEY_FILE)");
    if (cfg->client_cert_file != NULL && cfg->ca_file == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "invalid SHELFLINE_TLS_CLIENT_CERT_FILE: a client certificate needs "
                          "SHELFLINE_TLS_CA_FILE to verify the peers with");
    char *a = NULL, *b = NULL;
    if (cfg->cert_file != NULL) {
        st = load_pair("SHELFLINE_TLS_CERT_FILE", cfg->cert_file, "SHELFLINE_TLS_KEY_FILE",
                       cfg->key_file, &a, &b, err);
        free(a);
        free(b);
        if (st != SL_OK)
            return st;
    }
    if (cfg->client_ca_file != NULL) {
        st = load_ca("SHELFLINE_TLS_CLIENT_CA_FILE", cfg->client_ca_file, &a, err);
        free(a);
        if (st != SL_OK)
            return st;
    }
    if (cfg->ca_file != NULL) {
        st = load_ca("SHELFLINE_TLS_CA_FILE", cfg->ca_file, &a, err);
        free(a);
        if (st != SL_OK)
            return st;
    }
    if (cfg->client_cert_file != NULL) {
        st = load_pair("SHELFLINE_TLS_CLIENT_CERT_FILE", cfg->client_cert_file,
                       "SHELFLINE_TLS_CLIENT_KEY_FILE", cfg->client_key_file, &a, &b, err);
        free(a);
        free(b);
        if (st != SL_OK)
            return st;
    }
    return SL_OK;
}

sl_status sl_tls_config_load(sl_tls_config *cfg, sl_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    /* sl_config_string never fails. */
    sl_config_string("SHELFLINE_TLS_CERT_FILE", NULL, &cfg->cert_file, err);
    sl_config_string("SHELFLINE_TLS_KEY_FILE", NULL, &cfg->key_file, err);
    sl_config_string("SHELFLINE_TLS_CLIENT_CA_FILE", NULL, &cfg->client_ca_file, err);
    sl_config_string("SHELFLINE_TLS_CA_FILE", NULL, &cfg->ca_file, err);
    sl_config_string("SHELFLINE_TLS_CLIENT_CERT_FILE", NULL, &cfg->client_cert_file, err);
    sl_config_string("SHELFLINE_TLS_CLIENT_KEY_FILE", NULL, &cfg->client_key_file, err);
    return sl_tls_check_files(cfg, err);
}

/* ------------------------------------------------------------ server -- */

/* What stat says of a file: a change of any field means "read it again". */
typedef struct file_sig {
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
} file_sig;

enum { F_CERT, F_KEY, F_CA, N_FILES };

static const char *const file_var[N_FILES] = {"SHELFLINE_TLS_CERT_FILE", "SHELFLINE_TLS_KEY_FILE",
                                              "SHELFLINE_TLS_CLIENT_CA_FILE"};

struct sl_tls_server {
    char *path[N_FILES]; /* path[F_CA] NULL: no client certificates */
    pthread_mutex_t mu;
    file_sig sig[N_FILES]; /* of the files last read */
    char *pem[N_FILES];    /* what gRPC serves now (or will at the first fetch) */
    bool fetched;          /* gRPC has the first config */
    unsigned reloads;      /* the version of pem[] */
    unsigned grpc_version; /* the version gRPC serves */
};

static void sig_of(const char *path, file_sig *s)
{
    struct stat st;
    memset(s, 0, sizeof *s);
    if (path != NULL && stat(path, &st) == 0) {
        s->dev = st.st_dev;
        s->ino = st.st_ino;
        s->size = st.st_size;
        s->mtime = st.st_mtim;
    }
}

static bool sig_equal(const file_sig *a, const file_sig *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
           a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec;
}

/* Reads and checks the files into pem[] (freed by the caller). */
static sl_status load_all(const sl_tls_server *t, char *pem[N_FILES], sl_err *err)
{
    pem[F_CA] = NULL;
    sl_status st = load_pair(file_var[F_CERT], t->path[F_CERT], file_var[F_KEY], t->path[F_KEY],
                             &pem[F_CERT], &pem[F_KEY], err);
    if (st == SL_OK && t->path[F_CA] != NULL &&
        (st = load_ca(file_var[F_CA], t->path[F_CA], &pem[F_CA], err)) != SL_OK) {
        free(pem[F_CERT]);
        free(pem[F_KEY]);
        pem[F_CERT] = pem[F_KEY] = NULL;
    }
    return st;
}

sl_status sl_tls_server_create(const char *cert_file, const char *key_file,
                               const char *client_ca_file, sl_tls_server **out, sl_err *err)
{
    *out = NULL;
    if (cert_file == NULL || key_file == NULL)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "TLS needs SHELFLINE_TLS_CERT_FILE and SHELFLINE_TLS_KEY_FILE");
    sl_tls_server *t = sl_calloc(1, sizeof *t);
    if (t == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    pthread_mutex_init(&t->mu, NULL);
    const char *paths[N_FILES] = {cert_file, key_file, client_ca_file};
    sl_status st = SL_OK;
    for (int i = 0; i < N_FILES; i++) {
        if (paths[i] != NULL && (t->path[i] = sl_strdup(paths[i])) == NULL)
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
        sig_of(paths[i], &t->sig[i]);
    }
    if (st == SL_OK)
        st = load_all(t, t->pem, err);
    if (st != SL_OK) {
        sl_tls_server_destroy(t);
        return st;
    }
    *out = t;
    return SL_OK;
}

void sl_tls_server_destroy(sl_tls_server *t)
{
    if (t == NULL)
        return;
    for (int i = 0; i < N_FILES; i++) {
        free(t->path[i]);
        free(t->pem[i]);
    }
    pthread_mutex_destroy(&t->mu);
    free(t);
}

unsigned sl_tls_server_reloads(sl_tls_server *t)
{
    pthread_mutex_lock(&t->mu);
    unsigned n = t->reloads;
    pthread_mutex_unlock(&t->mu);
    return n;
}

sl_status sl_tls_server_pem(sl_tls_server *t, char **cert_pem, char **key_pem, sl_err *err)
{
    pthread_mutex_lock(&t->mu);
    *cert_pem = sl_strdup(t->pem[F_CERT]);
    *key_pem = sl_strdup(t->pem[F_KEY]);
    pthread_mutex_unlock(&t->mu);
    if (*cert_pem == NULL || *key_pem == NULL) {
        free(*cert_pem);
        free(*key_pem);
        *cert_pem = *key_pem = NULL;
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    }
    return SL_OK;
}

static grpc_ssl_server_certificate_config *config_of(char *const pem[N_FILES])
{
    grpc_ssl_pem_key_cert_pair pair = {.private_key = pem[F_KEY], .cert_chain = pem[F_CERT]};
    /* gRPC 1.51 asserts that a fetched config has roots even when no client
     * certificate is asked for: the server's own chain stands in, unused. */
    return grpc_ssl_server_certificate_config_create(pem[F_CA] != NULL ? pem[F_CA] : pem[F_CERT],
                                                     &pair, 1);
}

/* Looks at the files and, when one changed, re-reads and checks them:
 * a new certificate becomes t->pem with t->reloads one higher.  Files that
 * changed but are not usable yet (half written, a key not matching its
 * certificate) are logged and the current ones kept; their signatures are
 * not recorded, so the next look tries again.  false in that case. */
static bool refresh_locked(sl_tls_server *t)
{
    file_sig now[N_FILES];
    bool moved = false;
    for (int i = 0; i < N_FILES; i++) {
        sig_of(t->path[i], &now[i]);
        moved = moved || !sig_equal(&now[i], &t->sig[i]);
    }
    if (!moved)
        return true;
    char *pem[N_FILES];
    sl_err err;
    if (load_all(t, pem, &err) != SL_OK) {
        SL_LOG(SL_LOG_WARN, "tls", NULL, "certificate files changed but not usable yet: %s",
               err.msg);
        return false;
    }
    memcpy(t->sig, now, sizeof now);
    bool same = true;
    for (int i = 0; i < N_FILES; i++)
        same = same && (pem[i] == NULL ? t->pem[i] == NULL
                                       : t->pem[i] != NULL && strcmp(pem[i], t->pem[i]) == 0);
    if (same) {
        for (int i = 0; i < N_FILES; i++)
            free(pem[i]);
        return true;
    }
    for (int i = 0; i < N_FILES; i++) {
        free(t->pem[i]);
        t->pem[i] = pem[i];
    }
    t->reloads++;
    SL_LOG(SL_LOG_INFO, "tls", NULL, "certificate reloaded from \"%s\" (reload %u)",
           t->path[F_CERT], t->reloads);
    return true;
}

unsigned sl_tls_server_refresh(sl_tls_server *t)
{
    pthread_mutex_lock(&t->mu);
    refresh_locked(t);
    unsigned v = t->reloads;
    pthread_mutex_unlock(&t->mu);
    return v;
}

/* gRPC's fetcher, before every handshake: see the file comment.  The HTTP
 * port looks at the same files (sl_tls_server_refresh), so either may be
 * the first to see a change; gRPC gets a new config when the version it
 * has is not the current one. */
static grpc_ssl_certificate_config_reload_status
fetch_config(void *user_data, grpc_ssl_server_certificate_config **config)
{
    sl_tls_server *t = user_data;
    grpc_ssl_certificate_config_reload_status rc = GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_UNCHANGED;
    pthread_mutex_lock(&t->mu);
    bool usable = !t->fetched || refresh_locked(t);
    if (!t->fetched || t->grpc_version != t->reloads) {
        *config = config_of(t->pem);
        t->fetched = true;
        t->grpc_version = t->reloads;
        rc = GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_NEW;
    } else if (!usable) {
        rc = GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_FAIL;
    }
    pthread_mutex_unlock(&t->mu);
    return rc;
}

grpc_server_credentials *sl__tls_server_credentials(sl_tls_server *t)
{
    grpc_ssl_server_credentials_options *o =
        grpc_ssl_server_credentials_create_options_using_config_fetcher(
            t->path[F_CA] != NULL ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                  : GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
            fetch_config, t);
    return grpc_ssl_server_credentials_create_with_options(o);
}

grpc_channel_credentials *sl__tls_channel_credentials(const char *ca_path, const char *cert_path,
                                                      const char *key_path)
{
    grpc_tls_certificate_provider *p = grpc_tls_certificate_provider_file_watcher_create(
        cert_path != NULL ? key_path : NULL, cert_path, ca_path, SL_TLS_CLIENT_REFRESH_S);
    if (p == NULL)
        return NULL;
    grpc_tls_credentials_options *o = grpc_tls_credentials_options_create();
    grpc_tls_credentials_options_set_certificate_provider(o, p);
    grpc_tls_credentials_options_watch_root_certs(o);
    if (cert_path != NULL)
        grpc_tls_credentials_options_watch_identity_key_cert_pairs(o);
    /* The options hold their own reference. */
    grpc_tls_certificate_provider_release(p);
    return grpc_tls_credentials_create(o);
}

char *sl__tls_peer_identity(grpc_call *call, sl_arena *arena)
{
    grpc_auth_context *ctx = grpc_call_auth_context(call);
    if (ctx == NULL)
        return NULL;
    char *id = NULL;
    /* A SAN URI (a SPIFFE id, say) names a workload better than a DNS name,
     * which several workloads behind one Service may share. */
    static const char *const kinds[] = {GRPC_PEER_URI_PROPERTY_NAME, GRPC_PEER_DNS_PROPERTY_NAME};
    for (size_t k = 0; k < 2 && id == NULL; k++) {
        if (!grpc_auth_context_peer_is_authenticated(ctx))
            break;
        grpc_auth_property_iterator it = grpc_auth_context_find_properties_by_name(ctx, kinds[k]);
        const grpc_auth_property *p = grpc_auth_property_iterator_next(&it);
        if (p != NULL && p->value_length > 0) {
            id = sl_arena_alloc(arena, p->value_length + 1);
            if (id != NULL) {
                memcpy(id, p->value, p->value_length);
                id[p->value_length] = '\0';
            }
        }
    }
    grpc_auth_context_release(ctx);
    return id;
}
