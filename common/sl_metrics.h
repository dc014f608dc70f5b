/*
 * sl_metrics: the process's metrics, written in the Prometheus text
 * exposition format 0.0.4 for an HTTP scrape (sl_http serves /metrics).
 *
 * One registry per process, like the process itself: any module registers
 * its families once (registering the same name again with the same type and
 * labels returns the same family, so code that runs per server or per test
 * may call it freely) and updates children by their label values.
 *
 *   static sl_metric *handled;
 *   handled = sl_metric_counter("grpc_server_handled_total", "RPCs completed",
 *                               (const char *[]){"grpc_method", "grpc_code", NULL});
 *   sl_metric_add(sl_metric_with(handled, (const char *[]){"Reserve", "OK"}), 1);
 *
 * Updates are lock-free (atomics); creating a child takes the family's
 * lock once.  A hot path keeps the child pointer: children live until the
 * process exits.  Values that are cheaper to read at scrape time (pool
 * sizes, consumer lag) come from collectors, called at every render.
 *
 * Names and label names are checked at registration against the format's
 * grammar ([a-zA-Z_:][a-zA-Z0-9_:]* and [a-zA-Z_][a-zA-Z0-9_]*); a bad one
 * is a programming error and returns NULL, as does running out of memory.
 * Every update function accepts NULL and does nothing, so a metric never
 * makes a call fail.
 */
#ifndef SL_METRICS_H
#define SL_METRICS_H

#include <stddef.h>

typedef struct sl_metric sl_metric;             /* a family */
typedef struct sl_metric_child sl_metric_child; /* one set of label values */

/* At most this many labels per family. */
#define SL_METRIC_MAX_LABELS 6

/* Families.  labels: NULL-terminated label names, or NULL for none. */
sl_metric *sl_metric_counter(const char *name, const char *help, const char *const *labels);
sl_metric *sl_metric_gauge(const char *name, const char *help, const char *const *labels);
/* bounds: the buckets' upper bounds, increasing (+Inf is added). */
sl_metric *sl_metric_histogram(const char *name, const char *help, const char *const *labels,
                               const double *bounds, size_t nbounds);

/* The child for values (one per label name; NULL entries read as "").
 * Created on first use.  NULL when m is NULL or out of memory. */
sl_metric_child *sl_metric_with(sl_metric *m, const char *const *values);

/* Counter: adds v (>= 0; a negative v is ignored).  Gauge: adds v. */
void sl_metric_add(sl_metric_child *c, double v);
/* Gauge: sets the value (and shows a child sl_metric_unset hid). */
void sl_metric_set(sl_metric_child *c, double v);
/* Gauge: leaves the child out of every render until its next
 * sl_metric_set.  For a gauge a collector fills from a snapshot whose rows
 * come and go (a promotion that ended): the row's series disappears
 * instead of showing its last value forever.  The child itself is kept
 * (children live until the process exits), so such a family is bounded by
 * the label values it has ever been set with. */
void sl_metric_unset(sl_metric_child *c);
/* Histogram: one observation. */
void sl_metric_observe(sl_metric_child *c, double v);
/* The current value of a counter or gauge, or a histogram's count (tests). */
double sl_metric_value(const sl_metric_child *c);

/* A collector runs at the start of every render (under the registry's
 * render lock, so never concurrently with itself) and sets gauges. */
typedef void (*sl_metrics_collect_fn)(void *ctx);
void sl_metrics_on_collect(sl_metrics_collect_fn fn, void *ctx);
/* Removes a collector registered with the same fn and ctx. */
void sl_metrics_remove_collector(sl_metrics_collect_fn fn, void *ctx);

/* Registers the standard process_* metrics (CPU seconds, resident and
 * virtual memory, open and maximum file descriptors, threads, start time)
 * and shelfline_build_info{service,version,commit} 1.  Idempotent. */
void sl_metrics_process(const char *service, const char *version, const char *commit);

/* The whole exposition, families sorted by name; malloc'd, NUL-terminated,
 * *len without the NUL.  NULL when out of memory. */
char *sl_metrics_render(size_t *len);

/* Suited to this suite's calls: 0.5 ms ... 10 s. */
extern const double sl_metrics_latency_buckets[];
extern const size_t sl_metrics_latency_nbuckets;

#endif
