/*
 * sl_health: the status registry behind grpc.health.v1.Health.
 *
 * Each service name ("" is the whole server) has a status set by its owner;
 * on top of that, a failing dependency (the database) or a shutdown makes
 * every name report NOT_SERVING until it clears.  Watchers block on a
 * version number that moves with every effective change.
 */
#ifndef SL_HEALTH_H
#define SL_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

/* Values of grpc.health.v1.HealthCheckResponse.ServingStatus. */
typedef enum sl_health_status {
    SL_HEALTH_UNKNOWN = 0,
    SL_HEALTH_SERVING = 1,
    SL_HEALTH_NOT_SERVING = 2,
    SL_HEALTH_SERVICE_UNKNOWN = 3,
} sl_health_status;

typedef struct sl_health sl_health;

/* Returns a registry knowing only "" (NOT_SERVING), or NULL when out of
 * memory.  The caller owns it (sl_health_destroy). */
sl_health *sl_health_create(void);
void sl_health_destroy(sl_health *h);

/* Sets the status of one service name (registering it). */
void sl_health_set(sl_health *h, const char *service, sl_health_status st);

/* The name whose status ignores dependencies: SERVING from start until
 * shutdown, even while the database is down.  Meant for liveness probes,
 * so an orchestrator restarts a wedged process but not every replica during
 * a database fail-over (readiness uses "" or the service's name). */
#define SL_HEALTH_LIVENESS "liveness"

/* Marks a dependency down (true) or back (false).  While any is down every
 * name except SL_HEALTH_LIVENESS reports NOT_SERVING. */
void sl_health_set_degraded(sl_health *h, bool degraded);

/* Permanently NOT_SERVING (used at shutdown); wakes all watchers. */
void sl_health_set_shutdown(sl_health *h);

/* The effective status of a name (SERVICE_UNKNOWN for names never set) and,
 * if version is not NULL, the current version number. */
sl_health_status sl_health_get(sl_health *h, const char *service, uint64_t *version);

/* Waits until the version differs from seen or timeout_ms passes.  Returns
 * true if it changed. */
bool sl_health_wait(sl_health *h, uint64_t seen, int64_t timeout_ms);

#endif
