/*
 * sl_testpg: locating the test PostgreSQL and making throwaway databases
 * and clusters (see sl_testpg.h).  Test code: it may print and use
 * system(), which the library never does.
 */
#include "sl_testpg.h"
#include "sl_test.h"

#include <libpq-fe.h>
#include <sys/wait.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static const char *pg_user(void)
{
    if (getuid() == 0)
        return "postgres";
    struct passwd *pw = getpwuid(getuid());
    return pw != NULL ? pw->pw_name : "postgres";
}

const char *sl_testpg_admin_url(void)
{
    static char url[512];
    if (url[0] != '\0')
        return url;
    const char *env = getenv("SHELFLINE_DATABASE_URL");
    if (env != NULL && env[0] != '\0') {
        snprintf(url, sizeof url, "%s", env);
        return url;
    }
    const char *dir = getenv("SHELFLINE_TEST_PG_DIR");
    if (dir == NULL || dir[0] == '\0') {
        fprintf(stderr, "sl_testpg: neither SHELFLINE_DATABASE_URL nor SHELFLINE_TEST_PG_DIR "
                        "is set (run the test through ctest)\n");
        return NULL;
    }
    char path[1024];
    snprintf(path, sizeof path, "%s/port", dir);
    FILE *f = fopen(path, "r");
    int port = 0;
    if (f == NULL || fscanf(f, "%d", &port) != 1 || port <= 0) {
        fprintf(stderr, "sl_testpg: could not read the test server's port from \"%s\"\n", path);
        if (f != NULL)
            fclose(f);
        return NULL;
    }
    fclose(f);
    snprintf(url, sizeof url, "postgresql://%s@127.0.0.1:%d/shelfline", pg_user(), port);
    return url;
}

/* conninfo with key's value replaced (or added), as key='value' pairs
 * (works for URL and key=value inputs alike). */
int sl_testpg_conninfo_with(const char *base, const char *key, const char *value, char *out,
                            size_t cap)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(base, &perr);
    if (opts == NULL) {
        fprintf(stderr, "sl_testpg: bad conninfo: %s\n", perr != NULL ? perr : "out of memory");
        PQfreemem(perr);
        return -1;
    }
    size_t n = 0;
    out[0] = '\0';
    for (PQconninfoOption *o = opts; o->keyword != NULL; o++) {
        const char *val = strcmp(o->keyword, key) == 0 ? value : o->val;
        if (val == NULL)
            continue;
        n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%s%s='", n ? " " : "", o->keyword);
        for (const char *p = val; *p != '\0'; p++) {
            if (*p == '\'' || *p == '\\')
                n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "\\");
            n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%c", *p);
        }
        n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "'");
    }
    PQconninfoFree(opts);
    if (n >= cap) {
        fprintf(stderr, "sl_testpg: conninfo does not fit in %zu bytes\n", cap);
        return -1;
    }
    return 0;
}

/* "database does not exist, skipping" and the like are expected here. */
static void quiet_notice(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

static int admin_exec(const char *sql)
{
    const char *url = sl_testpg_admin_url();
    if (url == NULL)
        return -1;
    PGconn *pg = PQconnectdb(url);
    PQsetNoticeProcessor(pg, quiet_notice, NULL);
    int rc = 0;
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "sl_testpg: could not connect to the test server: %s", PQerrorMessage(pg));
        rc = -1;
    } else {
        PGresult *res = PQexec(pg, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            fprintf(stderr, "sl_testpg: %s: %s", sql, PQerrorMessage(pg));
            rc = -1;
        }
        PQclear(res);
    }
    PQfinish(pg);
    return rc;
}

static int db_name(const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s_%ld", name, (long)getpid());
    return n > 0 && (size_t)n < cap && n < 60 ? 0 : -1;
}

int sl_testpg_runtime_url(const char *conninfo, const char *service, char *out, size_t cap)
{
    char role[64], bin_name[64], sql[512];
    snprintf(bin_name, sizeof bin_name, "shelfline-%s", service);
    int n = snprintf(role, sizeof role, "shelfline_%s_rt", service);
    if (n <= 0 || (size_t)n >= sizeof role)
        return -1;
    for (char *p = role; *p != '\0'; p++)
        if (*p == '-')
            *p = '_';
    /* Roles are the cluster's: tests running side by side share them, and
     * may race to create one. */
    snprintf(sql, sizeof sql,
             "DO $$ BEGIN CREATE ROLE %s LOGIN; "
             "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$",
             role);
    if (sl_testpg_exec(conninfo, sql) != 0)
        return -1;
    char url[1024], grant_role[80];
    snprintf(url, sizeof url, "SHELFLINE_DATABASE_URL=%s", conninfo);
    snprintf(grant_role, sizeof grant_role, "%s", role);
    char *bin = sl_test_bin(bin_name);
    char *argv[] = {bin, "migrate", "--grant", grant_role, NULL};
    char *env[] = {url, "SHELFLINE_LOG_LEVEL=error", NULL};
    pid_t pid = sl_test_spawn(argv, env);
    free(bin);
    int ws = 0;
    if (pid <= 0 || waitpid(pid, &ws, 0) != pid || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
        fprintf(stderr, "sl_testpg: %s migrate --grant %s failed (status %d)\n", bin_name, role,
                ws);
        return -1;
    }
    return sl_testpg_conninfo_with(conninfo, "user", role, out, cap);
}

int sl_testpg_drop_db(const char *name)
{
    char db[64], sql[160];
    if (db_name(name, db, sizeof db) != 0)
        return -1;
    /* Test names are fixed identifiers; quoting keeps odd ones safe. */
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", db);
    return admin_exec(sql);
}

int sl_testpg_fresh_db(const char *name, char *conninfo, size_t cap)
{
    return sl_testpg_fresh_db_with(name, "", conninfo, cap);
}

int sl_testpg_fresh_db_with(const char *name, const char *options, char *conninfo, size_t cap)
{
    char db[64], sql[512];
    if (db_name(name, db, sizeof db) != 0) {
        fprintf(stderr, "sl_testpg: database name \"%s\" too long\n", name);
        return -1;
    }
    if (sl_testpg_drop_db(name) != 0)
        return -1;
    int n = snprintf(sql, sizeof sql, "CREATE DATABASE \"%s\" %s", db, options);
    if (n < 0 || (size_t)n >= sizeof sql || admin_exec(sql) != 0)
        return -1;
    return sl_testpg_conninfo_with(sl_testpg_admin_url(), "dbname", db, conninfo, cap);
}

/* ---- private clusters ---- */

static int run(const char *cmd)
{
    int rc = system(cmd);
    if (rc != 0)
        fprintf(stderr, "sl_testpg: command failed (%d): %s\n", rc, cmd);
    return rc == 0 ? 0 : -1;
}

/* deploy/local/pg.sh of the source tree under test. */
static void pg_sh(char *path, size_t cap)
{
    const char *src = getenv("SHELFLINE_SOURCE_DIR");
    snprintf(path, cap, "%s/deploy/local/pg.sh", src != NULL ? src : ".");
}

int sl_testpg_cluster_start(const char *dir, char *conninfo, size_t cap)
{
    char cmd[2048], sh[1024];
    pg_sh(sh, sizeof sh);
    snprintf(cmd, sizeof cmd, "'%s' start '%s'", sh, dir);
    FILE *p = popen(cmd, "r");
    if (p == NULL)
        return -1;
    char url[512] = "";
    if (fgets(url, sizeof url, p) == NULL)
        url[0] = '\0';
    int rc = pclose(p);
    url[strcspn(url, "\n")] = '\0';
    if (rc != 0 || url[0] == '\0') {
        fprintf(stderr, "sl_testpg: could not start a cluster in \"%s\"\n", dir);
        return -1;
    }
    snprintf(conninfo, cap, "%s", url);
    return 0;
}

int sl_testpg_cluster_stop(const char *dir)
{
    char cmd[2048], sh[1024];
    pg_sh(sh, sizeof sh);
    snprintf(cmd, sizeof cmd, "'%s' stop '%s'", sh, dir);
    return run(cmd);
}

int sl_testpg_cluster_start_again(const char *dir)
{
    /* pg.sh start would pick a new random port.  pg_ctl restart on a
     * stopped cluster starts it with the options of its last start (kept
     * in postmaster.opts), hence on the same port. */
    char cmd[2048];
    const char *bin =
        getenv("PG_BINDIR") != NULL ? getenv("PG_BINDIR") : "/usr/lib/postgresql/15/bin";
    snprintf(cmd, sizeof cmd,
             "%s'%s/pg_ctl' -D '%s/data' -l '%s/server.log' -w -t 60 restart "
             ">/dev/null 2>&1",
             getuid() == 0 ? "runuser -u postgres -- " : "", bin, dir, dir);
    return run(cmd);
}

int sl_testpg_cluster_destroy(const char *dir)
{
    char cmd[2048], sh[1024];
    pg_sh(sh, sizeof sh);
    snprintf(cmd, sizeof cmd, "'%s' destroy '%s'", sh, dir);
    return run(cmd);
}

int sl_testpg_exec(const char *conninfo, const char *sql)
{
    PGconn *pg = PQconnectdb(conninfo);
    int rc = 0;
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "sl_testpg: could not connect: %s", PQerrorMessage(pg));
        rc = -1;
    } else {
        PGresult *res = PQexec(pg, sql);
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            fprintf(stderr, "sl_testpg: %s: %s", sql, PQerrorMessage(pg));
            rc = -1;
        }
        PQclear(res);
    }
    PQfinish(pg);
    return rc;
}

sl_db *sl_testpg_open(const char *name, const char *schema, int pool_size, char *conninfo,
                      size_t cap)
{
    char ci[1024];
    if (sl_testpg_fresh_db(name, ci, sizeof ci) != 0)
        return NULL;
    if (conninfo != NULL)
        snprintf(conninfo, cap, "%s", ci);
    sl_db_options o = {
        .conninfo = ci, .schema = schema, .pool_size = pool_size, .application_name = name};
    sl_db *db = NULL;
    sl_err e;
    if (sl_db_open(&o, &db, &e) != SL_OK) {
        fprintf(stderr, "sl_testpg: sl_db_open: %s\n", e.msg);
        return NULL;
    }
    return db;
}
