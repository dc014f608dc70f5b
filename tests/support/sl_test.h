/*
 * sl_test: helpers shared by the integration tests: free ports, child
 * processes of the built executables, waiting for a port to listen.
 */
#ifndef SL_TEST_H
#define SL_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sl_client.h"

/* A loopback TCP port nobody listens on right now. */
int sl_test_free_port(void);

/* True once 127.0.0.1:port accepts connections, waiting up to timeout_ms. */
bool sl_test_wait_port(int port, int64_t timeout_ms);

/* Like sl_test_wait_port, but gives up at once when process pid has
 * exited (a service that failed to start), reaping it. */
bool sl_test_wait_child_port(pid_t pid, int port, int64_t timeout_ms);

/* Kills (SIGKILL) and reaps every process started with sl_test_spawn that
 * is still running: for test teardown after a failed assertion. */
void sl_test_kill_all(void);

/* Path of a built executable: $SHELFLINE_BIN_DIR/name (static buffer per
 * call site is not used: the result is malloc'ed, caller frees). */
char *sl_test_bin(const char *name);

/* Starts argv[0] with extra environment entries ("K=V", NULL-terminated,
 * may be NULL); stdout/stderr go to the test's stderr.  Unless the entries
 * set SHELFLINE_AUTH or SHELFLINE_JWT_PUBLIC_KEY_FILE, the child runs with
 * SHELFLINE_AUTH=none (see sl_test_auth.h for tests with tokens).  Returns
 * the pid. */
pid_t sl_test_spawn(char *const argv[], char *const env_extra[]);

/* sl_test_spawn of the built executable name (sl_test_bin) without
 * arguments.  Returns the pid. */
pid_t sl_test_spawn_bin(const char *name, char *const env_extra[]);

/* A channel to 127.0.0.1:port, or NULL.  The caller owns it
 * (sl_channel_destroy). */
sl_channel *sl_test_channel(int port);

/* Sends sig and waits for the child; returns its exit status as from
 * waitpid (use WIFEXITED etc.), or -1 if it did not exit within timeout_ms
 * (then it is killed with SIGKILL). */
int sl_test_stop(pid_t pid, int sig, int64_t timeout_ms);

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t sl_test_now_ms(void);

/* One HTTP/1.1 exchange with 127.0.0.1:port over a fresh connection: head
 * (request line and headers, ending in an empty line) then body_len bytes
 * of body (body may be NULL).  Returns the whole response, malloc'd and
 * NUL-terminated, or NULL when nothing listens there. */
char *sl_test_http(int port, const char *head, const char *body, size_t body_len);

/* Calls "/shelfline.v1.<service>/<method>" on ch within timeout_ms (0:
 * 30 s); on OK *(ProtobufCMessage **)out (out may be NULL) is the response
 * in arena a, else NULL. */
sl_status sl_test_call(sl_channel *ch, const char *service, const char *method,
                       const ProtobufCMessage *req, const ProtobufCMessageDescriptor *rd,
                       sl_arena *a, void *out, int64_t timeout_ms, sl_err *err);

/* GET path from 127.0.0.1:port; the whole response (head and body),
 * malloc'd, or NULL when nothing answered. */
char *sl_test_http_get(int port, const char *path);

/* The value of one series in a Prometheus exposition (text), the series
 * spelt exactly as rendered, e.g. "grpc_server_started_total{grpc_type=...}";
 * NAN when absent. */
double sl_test_metric(const char *text, const char *series);

/* Runs promtool check metrics over a scrape response (head and body);
 * 0 when it passes, else promtool's exit status (or -1). */
int sl_test_promtool_check(const char *response);

/* Waits up to timeout_ms for ch's server to answer grpc.health.v1 Check
 * with SERVING, waiting for the channel to connect (wait-for-ready). A
 * test that restarts a server calls this before reusing a channel that saw
 * it go: such a channel sits in TRANSIENT_FAILURE, failing calls at once,
 * until its reconnect backoff (up to 2 s) lets it try again. */
bool sl_test_wait_serving(sl_channel *ch, int64_t timeout_ms);

/* Asserts that st is want and that err's message mentions what. */
#define EXPECT(st, want, err, what)                                                                \
    do {                                                                                           \
        sl_status st_ = (st);                                                                      \
        if (st_ != (want) || strstr((err).msg, (what)) == NULL)                                    \
            fail_msg("%s:%d: got %s \"%s\", want %s mentioning \"%s\"", __FILE__, __LINE__,        \
                     sl_status_name(st_), (err).msg, sl_status_name(want), (what));                \
    } while (0)

#endif
