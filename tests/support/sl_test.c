/*
 * sl_test: process and port helpers for integration tests.
 */
#include "sl_test.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "grpc/health/v1/health.pb-c.h"
#include "sl_arena.h"

extern char **environ;

/* Children started by sl_test_spawn, so a failed test can clean up. */
#define MAX_CHILDREN 256
static pid_t children[MAX_CHILDREN];
static size_t n_children;

int64_t sl_test_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int sl_test_free_port(void)
{
    /* Bind port 0 and read what the kernel chose; the small race with
     * another process taking it before we use it is acceptable in tests. */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    int port = -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

bool sl_test_wait_port(int port, int64_t timeout_ms)
{
    int64_t until = sl_test_now_ms() + timeout_ms;
    do {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0)
            return false;
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
        close(fd);
        if (ok)
            return true;
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    } while (sl_test_now_ms() < until);
    return false;
}

bool sl_test_wait_child_port(pid_t pid, int port, int64_t timeout_ms)
{
    int64_t until = sl_test_now_ms() + timeout_ms;
    while (sl_test_now_ms() < until) {
        if (sl_test_wait_port(port, 100))
            return true;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            fprintf(stderr, "sl_test: process %d exited (status %d) before listening on %d\n",
                    (int)pid, status, port);
            return false;
        }
    }
    return false;
}

void sl_test_kill_all(void)
{
    for (size_t i = 0; i < n_children; i++) {
        if (kill(children[i], SIGKILL) == 0)
            waitpid(children[i], NULL, 0);
    }
    n_children = 0;
}

char *sl_test_bin(const char *name)
{
    const char *dir = getenv("SHELFLINE_BIN_DIR");
    if (dir == NULL)
        dir = "./bin";
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

pid_t sl_test_spawn(char *const argv[], char *const env_extra[])
{
    pid_t pid = fork();
    if (pid > 0 && n_children < MAX_CHILDREN)
        children[n_children++] = pid;
    if (pid != 0)
        return pid;
    /* Tests run several replicas side by side: each HTTP face on a port
     * of its own, unless the test says otherwise. */
    putenv((char *)"SHELFLINE_HTTP_LISTEN=127.0.0.1:0");
    /* Services fail closed without authentication: tests of everything
     * else say SHELFLINE_AUTH=none in so many words; a test of
     * authentication passes its own SHELFLINE_AUTH or JWT key
     * (sl_test_auth.h). */
    bool auth_given = false;
    for (size_t i = 0; env_extra != NULL && env_extra[i] != NULL; i++)
        auth_given = auth_given || strncmp(env_extra[i], "SHELFLINE_AUTH=", 15) == 0 ||
                     strncmp(env_extra[i], "SHELFLINE_JWT_PUBLIC_KEY_FILE=", 30) == 0;
    if (!auth_given)
        putenv((char *)"SHELFLINE_AUTH=none");
    for (size_t i = 0; env_extra != NULL && env_extra[i] != NULL; i++)
        putenv(env_extra[i]);
    /* The child must not inherit the test's blocked signal mask. */
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(argv[0], argv, environ);
    fprintf(stderr, "sl_test_spawn: could not exec \"%s\": %s\n", argv[0], strerror(errno));
    _exit(127);
}

int sl_test_stop(pid_t pid, int sig, int64_t timeout_ms)
{
    kill(pid, sig);
    int64_t until = sl_test_now_ms() + timeout_ms;
    for (;;) {
        int status;
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0)
            return -1;
        if (sl_test_now_ms() >= until) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

sl_status sl_test_call(sl_channel *ch, const char *service, const char *method,
                       const ProtobufCMessage *req, const ProtobufCMessageDescriptor *rd,
                       sl_arena *a, void *out, int64_t timeout_ms, sl_err *err)
{
    char full[160];
    snprintf(full, sizeof full, "/shelfline.v1.%s/%s", service, method);
    sl_call_options o = {.timeout_ms = timeout_ms > 0 ? timeout_ms : 30000};
    ProtobufCMessage *resp = NULL;
    sl_status st = sl_client_unary(ch, full, req, rd, a, &resp, &o, err);
    if (out != NULL)
        *(ProtobufCMessage **)out = st == SL_OK ? resp : NULL;
    return st;
}

pid_t sl_test_spawn_bin(const char *name, char *const env_extra[])
{
    char *bin = sl_test_bin(name);
    char *argv[] = {bin, NULL};
    pid_t pid = sl_test_spawn(argv, env_extra);
    free(bin);
    return pid;
}

sl_channel *sl_test_channel(int port)
{
    char target[64];
    snprintf(target, sizeof target, "127.0.0.1:%d", port);
    sl_channel *ch = NULL;
    return sl_channel_create(target, NULL, &ch, NULL) == SL_OK ? ch : NULL;
}

bool sl_test_wait_serving(sl_channel *ch, int64_t timeout_ms)
{
    int64_t end = sl_test_now_ms() + timeout_ms;
    for (;;) {
        int64_t left = end - sl_test_now_ms();
        if (left <= 0)
            return false;
        sl_arena *a = sl_arena_create(0);
        Grpc__Health__V1__HealthCheckRequest req = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
        ProtobufCMessage *resp = NULL;
        sl_call_options o = {.timeout_ms = left, .wait_for_ready = true};
        bool ok = sl_client_unary(ch, "/grpc.health.v1.Health/Check", &req.base,
                                  &grpc__health__v1__health_check_response__descriptor, a, &resp,
                                  &o, NULL) == SL_OK &&
                  ((Grpc__Health__V1__HealthCheckResponse *)resp)->status ==
                      GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
        sl_arena_destroy(a);
        if (ok)
            return true;
        struct timespec ts = {0, 50 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

char *sl_test_http_get(int port, const char *path)
{
    char head[512];
    snprintf(head, sizeof head, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    return sl_test_http(port, head, NULL, 0);
}

double sl_test_metric(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = strstr(text, series); p != NULL; p = strstr(p + 1, series)) {
        if ((p == text || p[-1] == '\n') && p[n] == ' ') {
            char *end;
            double v = strtod(p + n + 1, &end);
            if (end != p + n + 1)
                return v;
        }
    }
    return NAN;
}

int sl_test_promtool_check(const char *response)
{
    const char *body = strstr(response, "\r\n\r\n");
    if (body == NULL)
        return -1;
    body += 4;
    char path[] = "/tmp/sl_scrape_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    size_t len = strlen(body);
    bool wrote = write(fd, body, len) == (ssize_t)len;
    close(fd);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "promtool check metrics < %s", path);
    int rc = wrote ? system(cmd) : -1;
    unlink(path);
    return rc;
}

char *sl_test_http(int port, const char *head, const char *body, size_t body_len)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return NULL;
    }
    size_t hl = strlen(head);
    if (write(fd, head, hl) != (ssize_t)hl) {
        close(fd);
        return NULL;
    }
    for (size_t off = 0; off < body_len;) {
        ssize_t w = write(fd, body + off, body_len - off);
        if (w <= 0)
            break; /* the server may answer (413) and close before the end */
        off += (size_t)w;
    }
    size_t cap = 1 << 20, len = 0;
    char *out = malloc(cap);
    if (out == NULL) {
        close(fd);
        return NULL;
    }
    for (ssize_t r; len < cap - 1 && (r = read(fd, out + len, cap - 1 - len)) > 0;)
        len += (size_t)r;
    out[len] = '\0';
    close(fd);
    return out;
}
