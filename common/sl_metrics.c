/*
 * sl_metrics: see sl_metrics.h.
 *
 * Families live in one list under the registry lock; each family's
 * children hang in a fixed table of atomic chain heads, so a lookup walks
 * a short chain without a lock, and an insertion (under the family's lock)
 * publishes a fully built child with a release store.  Nothing is ever
 * freed: metrics live as long as the process.  Values are doubles kept as
 * their bit patterns in atomic 64-bit words; adding is a compare-and-swap
 * loop.
 */
#include "sl_metrics.h"

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "sl_arena.h"

typedef enum { K_COUNTER, K_GAUGE, K_HISTOGRAM } kind;

/* Chains per family: the largest family (handled calls by method and
 * code) has a few hundred children. */
#define CHAINS 256
#define MAX_COLLECTORS 32

struct sl_metric_child {
    sl_metric *fam;
    char *values[SL_METRIC_MAX_LABELS];
    _Atomic uint64_t bits; /* counter, gauge: the value */
    /* Histogram: per-bucket counts (not cumulative; the last is +Inf),
     * the sum's bits and the count. */
    _Atomic uint64_t *buckets;
    _Atomic uint64_t sum_bits;
    _Atomic uint64_t count;
    atomic_bool hidden;               /* gauge: sl_metric_unset until set */
    _Atomic(sl_metric_child *) chain; /* next in the same chain */
    sl_metric_child *next;            /* creation order, under fam->mu */
};

struct sl_metric {
    char *name;
    char *help;
    kind k;
    size_t nlabels;
    char *labels[SL_METRIC_MAX_LABELS];
    double *bounds;
    size_t nbounds;
    pthread_mutex_t mu;
    _Atomic(sl_metric_child *) chains[CHAINS];
    sl_metric_child *first, *last;
    sl_metric *next;
};

static struct {
    pthread_mutex_t mu; /* families and collectors */
    sl_metric *families;
    struct {
        sl_metrics_collect_fn fn;
        void *ctx;
    } collectors[MAX_COLLECTORS];
    size_t ncollectors;
    pthread_mutex_t render_mu; /* one render at a time (collectors) */
} reg = {.mu = PTHREAD_MUTEX_INITIALIZER, .render_mu = PTHREAD_MUTEX_INITIALIZER};

const double sl_metrics_latency_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                             0.1,    0.25,  0.5,    1,     2.5,  5,     10};
const size_t sl_metrics_latency_nbuckets =
    sizeof sl_metrics_latency_buckets / sizeof sl_metrics_latency_buckets[0];

/* ---- doubles in atomic words ---- */

static uint64_t to_bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof b);
    return b;
}

static double from_bits(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof v);
    return v;
}

static void atomic_add_double(_Atomic uint64_t *w, double v)
{
    uint64_t old = atomic_load_explicit(w, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(w, &old, to_bits(from_bits(old) + v),
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

/* ---- registration ---- */

static bool name_ok(const char *s, bool colon)
{
    if (s == NULL || *s == '\0' || isdigit((unsigned char)*s))
        return false;
    for (; *s != '\0'; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_' || (colon && *s == ':')))
            return false;
    return true;
}

static bool same_shape(const sl_metric *m, kind k, const char *const *labels, const double *bounds,
                       size_t nbounds)
{
    size_t n = 0;
    while (labels != NULL && labels[n] != NULL)
        n++;
    if (m->k != k || m->nlabels != n || m->nbounds != nbounds)
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(m->labels[i], labels[i]) != 0)
            return false;
    for (size_t i = 0; i < nbounds; i++)
        if (m->bounds[i] != bounds[i])
            return false;
    return true;
}

static void family_free(sl_metric *m)
{
    for (size_t i = 0; i < m->nlabels; i++)
        free(m->labels[i]);
    free(m->bounds);
    free(m->help);
    free(m->name);
    free(m);
}

static sl_metric *family(const char *name, const char *help, kind k, const char *const *labels,
                         const double *bounds, size_t nbounds)
{
    size_t n = 0;
    while (labels != NULL && labels[n] != NULL) {
        if (n == SL_METRIC_MAX_LABELS || !name_ok(labels[n], false) ||
            strncmp(labels[n], "__", 2) == 0 || (k == K_HISTOGRAM && strcmp(labels[n], "le") == 0))
            return NULL;
        n++;
    }
    if (!name_ok(name, true))
        return NULL;
    for (size_t i = 1; i < nbounds; i++)
        if (!(bounds[i] > bounds[i - 1]))
            return NULL;

    pthread_mutex_lock(&reg.mu);
    for (sl_metric *m = reg.families; m != NULL; m = m->next) {
        if (strcmp(m->name, name) == 0) {
            pthread_mutex_unlock(&reg.mu);
            return same_shape(m, k, labels, bounds, nbounds) ? m : NULL;
        }
    }
    sl_metric *m = sl_calloc(1, sizeof *m);
    bool ok = m != NULL;
    if (ok) {
        m->k = k;
        m->name = sl_strdup(name);
        m->help = sl_strdup(help != NULL ? help : "");
        ok = m->name != NULL && m->help != NULL;
        for (size_t i = 0; ok && i < n; i++) {
            m->labels[i] = sl_strdup(labels[i]);
            ok = m->labels[i] != NULL;
            m->nlabels = i + 1;
        }
        if (ok && nbounds > 0) {
            m->bounds = sl_malloc(nbounds * sizeof *m->bounds);
            ok = m->bounds != NULL;
            if (ok)
                memcpy(m->bounds, bounds, nbounds * sizeof *m->bounds);
            m->nbounds = nbounds;
        }
    }
    if (!ok) {
        if (m != NULL)
            family_free(m);
        pthread_mutex_unlock(&reg.mu);
        return NULL;
    }
    pthread_mutex_init(&m->mu, NULL);
    m->next = reg.families;
    reg.families = m;
    pthread_mutex_unlock(&reg.mu);
    return m;
}

sl_metric *sl_metric_counter(const char *name, const char *help, const char *const *labels)
{
    return family(name, help, K_COUNTER, labels, NULL, 0);
}

sl_metric *sl_metric_gauge(const char *name, const char *help, const char *const *labels)
{
    return family(name, help, K_GAUGE, labels, NULL, 0);
}

sl_metric *sl_metric_histogram(const char *name, const char *help, const char *const *labels,
                               const double *bounds, size_t nbounds)
{
    return family(name, help, K_HISTOGRAM, labels, bounds, nbounds);
}

/* ---- children ---- */

static uint32_t values_hash(const sl_metric *m, const char *const *values)
{
    uint32_t h = 2166136261u; /* FNV-1a, with a separator between values */
    for (size_t i = 0; i < m->nlabels; i++) {
        for (const char *p = values[i] != NULL ? values[i] : ""; *p != '\0'; p++)
            h = (h ^ (uint8_t)*p) * 16777619u;
        h = (h ^ 0xffu) * 16777619u;
    }
    return h;
}

static bool values_equal(const sl_metric_child *c, const char *const *values)
{
    for (size_t i = 0; i < c->fam->nlabels; i++)
        if (strcmp(c->values[i], values[i] != NULL ? values[i] : "") != 0)
            return false;
    return true;
}

static sl_metric_child *find(sl_metric_child *c, const char *const *values)
{
    for (; c != NULL; c = atomic_load_explicit(&c->chain, memory_order_acquire))
        if (values_equal(c, values))
            return c;
    return NULL;
}

static sl_metric_child *child_new(sl_metric *m, const char *const *values)
{
    sl_metric_child *c = sl_calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->fam = m;
    bool ok = true;
    for (size_t i = 0; ok && i < m->nlabels; i++) {
        c->values[i] = sl_strdup(values[i] != NULL ? values[i] : "");
        ok = c->values[i] != NULL;
    }
    if (ok && m->k == K_HISTOGRAM) {
        c->buckets = sl_calloc(m->nbounds + 1, sizeof *c->buckets);
        ok = c->buckets != NULL;
    }
    if (!ok) {
        for (size_t i = 0; i < m->nlabels; i++)
            free(c->values[i]);
        free(c);
        return NULL;
    }
    return c;
}

sl_metric_child *sl_metric_with(sl_metric *m, const char *const *values)
{
    static const char *const none[SL_METRIC_MAX_LABELS] = {0};
    if (m == NULL)
        return NULL;
    if (values == NULL)
        values = none;
    _Atomic(sl_metric_child *) *head = &m->chains[values_hash(m, values) % CHAINS];
    sl_metric_child *c = find(atomic_load_explicit(head, memory_order_acquire), values);
    if (c != NULL)
        return c;
    pthread_mutex_lock(&m->mu);
    c = find(atomic_load_explicit(head, memory_order_acquire), values);
    if (c == NULL && (c = child_new(m, values)) != NULL) {
        atomic_store_explicit(&c->chain, atomic_load_explicit(head, memory_order_relaxed),
                              memory_order_relaxed);
        if (m->last != NULL)
            m->last->next = c;
        else
            m->first = c;
        m->last = c;
        atomic_store_explicit(head, c, memory_order_release);
    }
    pthread_mutex_unlock(&m->mu);
    return c;
}

void sl_metric_add(sl_metric_child *c, double v)
{
    if (c == NULL || c->fam->k == K_HISTOGRAM || (c->fam->k == K_COUNTER && !(v >= 0)))
        return;
    atomic_add_double(&c->bits, v);
}

void sl_metric_set(sl_metric_child *c, double v)
{
    if (c == NULL || c->fam->k != K_GAUGE)
        return;
    atomic_store_explicit(&c->bits, to_bits(v), memory_order_relaxed);
    atomic_store_explicit(&c->hidden, false, memory_order_relaxed);
}

void sl_metric_unset(sl_metric_child *c)
{
    if (c == NULL || c->fam->k != K_GAUGE)
        return;
    atomic_store_explicit(&c->hidden, true, memory_order_relaxed);
}

void sl_metric_observe(sl_metric_child *c, double v)
{
    if (c == NULL || c->fam->k != K_HISTOGRAM || isnan(v))
        return;
    const sl_metric *m = c->fam;
    size_t i = 0;
    while (i < m->nbounds && v > m->bounds[i])
        i++;
    atomic_fetch_add_explicit(&c->buckets[i], 1, memory_order_relaxed);
    atomic_add_double(&c->sum_bits, v);
    atomic_fetch_add_explicit(&c->count, 1, memory_order_relaxed);
}

double sl_metric_value(const sl_metric_child *c)
{
    if (c == NULL)
        return 0;
    if (c->fam->k == K_HISTOGRAM)
        return (double)atomic_load_explicit(&c->count, memory_order_relaxed);
    return from_bits(atomic_load_explicit(&c->bits, memory_order_relaxed));
}

/* ---- collectors ---- */

void sl_metrics_on_collect(sl_metrics_collect_fn fn, void *ctx)
{
    pthread_mutex_lock(&reg.mu);
    bool have = false;
    for (size_t i = 0; i < reg.ncollectors; i++)
        have = have || (reg.collectors[i].fn == fn && reg.collectors[i].ctx == ctx);
    if (!have && reg.ncollectors < MAX_COLLECTORS) {
        reg.collectors[reg.ncollectors].fn = fn;
        reg.collectors[reg.ncollectors].ctx = ctx;
        reg.ncollectors++;
    }
    pthread_mutex_unlock(&reg.mu);
}

void sl_metrics_remove_collector(sl_metrics_collect_fn fn, void *ctx)
{
    /* Under the render lock too: a render in progress may be calling it. */
    pthread_mutex_lock(&reg.render_mu);
    pthread_mutex_lock(&reg.mu);
    for (size_t i = 0; i < reg.ncollectors; i++) {
        if (reg.collectors[i].fn == fn && reg.collectors[i].ctx == ctx) {
            reg.collectors[i] = reg.collectors[--reg.ncollectors];
            break;
        }
    }
    pthread_mutex_unlock(&reg.mu);
    pthread_mutex_unlock(&reg.render_mu);
}

/* ---- process metrics ---- */

static struct {
    sl_metric_child *cpu, *rss, *vsz, *fds, *max_fds, *threads, *start;
} proc;

static double boot_time_s(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL)
        return 0;
    char line[256];
    double bt = 0;
    while (fgets(line, sizeof line, f) != NULL)
        if (strncmp(line, "btime ", 6) == 0)
            bt = strtod(line + 6, NULL);
    fclose(f);
    return bt;
}

static void collect_process(void *ctx)
{
    (void)ctx;
    char buf[1024];
    FILE *f = fopen("/proc/self/stat", "r");
    if (f != NULL) {
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        /* Fields after the command name, which is in parentheses and may
         * hold spaces: state is field 3. */
        char *p = strrchr(buf, ')');
        if (p != NULL) {
            double field[64] = {0};
            int i = 3;
            char *save = NULL;
            for (char *tok = strtok_r(p + 2, " ", &save); tok != NULL && i < 64;
                 tok = strtok_r(NULL, " ", &save), i++)
                field[i] = strtod(tok, NULL);
            double hz = (double)sysconf(_SC_CLK_TCK);
            double page = (double)sysconf(_SC_PAGESIZE);
            sl_metric_set(proc.threads, field[20]);
            sl_metric_set(proc.vsz, field[23]);
            sl_metric_set(proc.rss, field[24] * page);
            /* A counter that only ever grows; set it through its bits. */
            if (proc.cpu != NULL)
                atomic_store_explicit(&proc.cpu->bits, to_bits((field[14] + field[15]) / hz),
                                      memory_order_relaxed);
            static double start;
            if (start == 0)
                start = boot_time_s() + field[22] / hz;
            sl_metric_set(proc.start, start);
        }
    }
    DIR *d = opendir("/proc/self/fd");
    if (d != NULL) {
        int n = 0;
        for (struct dirent *e; (e = readdir(d)) != NULL;)
            if (e->d_name[0] != '.')
                n++;
        closedir(d);
        sl_metric_set(proc.fds, n - 1); /* not the directory's own */
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        sl_metric_set(proc.max_fds, rl.rlim_cur == RLIM_INFINITY ? INFINITY : (double)rl.rlim_cur);
}

void sl_metrics_process(const char *service, const char *version, const char *commit)
{
    proc.cpu = sl_metric_with(sl_metric_counter("process_cpu_seconds_total",
                                                "Total user and system CPU time spent in "
                                                "seconds.",
                                                NULL),
                              NULL);
    proc.rss = sl_metric_with(
        sl_metric_gauge("process_resident_memory_bytes", "Resident memory size in bytes.", NULL),
        NULL);
    proc.vsz = sl_metric_with(
        sl_metric_gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", NULL),
        NULL);
    proc.fds = sl_metric_with(
        sl_metric_gauge("process_open_fds", "Number of open file descriptors.", NULL), NULL);
    proc.max_fds = sl_metric_with(
        sl_metric_gauge("process_max_fds", "Maximum number of open file descriptors.", NULL), NULL);
    proc.threads = sl_metric_with(
        sl_metric_gauge("process_threads", "Number of OS threads in the process.", NULL), NULL);
    proc.start = sl_metric_with(sl_metric_gauge("process_start_time_seconds",
                                                "Start time of the process since unix epoch in "
                                                "seconds.",
                                                NULL),
                                NULL);
    sl_metric *info =
        sl_metric_gauge("shelfline_build_info",
                        "The running build: always 1, with the service, version and commit.",
                        (const char *[]){"service", "version", "commit", NULL});
    sl_metric_set(sl_metric_with(info, (const char *[]){service, version, commit}), 1);
    sl_metrics_on_collect(collect_process, NULL);
}

/* ---- rendering ---- */

static void put_number(FILE *f, double v)
{
    if (isnan(v))
        fputs("NaN", f);
    else if (isinf(v))
        fputs(v > 0 ? "+Inf" : "-Inf", f);
    else if (v == floor(v) && fabs(v) < 1e15)
        fprintf(f, "%.0f", v);
    else
        fprintf(f, "%.17g", v);
}

static void put_escaped(FILE *f, const char *s, bool quote)
{
    for (; *s != '\0'; s++) {
        if (*s == '\\')
            fputs("\\\\", f);
        else if (*s == '\n')
            fputs("\\n", f);
        else if (quote && *s == '"')
            fputs("\\\"", f);
        else
            fputc(*s, f);
    }
}

/* {a="x",b="y"} plus an optional le, or nothing without labels. */
static void put_labels(FILE *f, const sl_metric_child *c, const char *le)
{
    const sl_metric *m = c->fam;
    if (m->nlabels == 0 && le == NULL)
        return;
    fputc('{', f);
    for (size_t i = 0; i < m->nlabels; i++) {
        fprintf(f, "%s%s=\"", i > 0 ? "," : "", m->labels[i]);
        put_escaped(f, c->values[i], true);
        fputc('"', f);
    }
    if (le != NULL)
        fprintf(f, "%sle=\"%s\"", m->nlabels > 0 ? "," : "", le);
    fputc('}', f);
}

static void render_family(FILE *f, sl_metric *m)
{
    static const char *const type_name[] = {"counter", "gauge", "histogram"};
    pthread_mutex_lock(&m->mu);
    const sl_metric_child *shown = m->first;
    while (shown != NULL && atomic_load_explicit(&shown->hidden, memory_order_relaxed))
        shown = shown->next;
    if (shown == NULL) { /* no sample (yet or now): the family is left out */
        pthread_mutex_unlock(&m->mu);
        return;
    }
    fprintf(f, "# HELP %s ", m->name);
    put_escaped(f, m->help, false);
    fprintf(f, "\n# TYPE %s %s\n", m->name, type_name[m->k]);
    for (const sl_metric_child *c = m->first; c != NULL; c = c->next) {
        if (atomic_load_explicit(&c->hidden, memory_order_relaxed))
            continue;
        if (m->k != K_HISTOGRAM) {
            fputs(m->name, f);
            put_labels(f, c, NULL);
            fputc(' ', f);
            put_number(f, from_bits(atomic_load_explicit(&c->bits, memory_order_relaxed)));
            fputc('\n', f);
            continue;
        }
        /* Read the buckets first and derive the count from them, so that
         * the +Inf bucket and _count agree within one render. */
        uint64_t cum = 0;
        for (size_t i = 0; i <= m->nbounds; i++) {
            cum += atomic_load_explicit(&c->buckets[i], memory_order_relaxed);
            char le[32];
            if (i < m->nbounds)
                snprintf(le, sizeof le, "%g", m->bounds[i]);
            else
                snprintf(le, sizeof le, "+Inf");
            fprintf(f, "%s_bucket", m->name);
            put_labels(f, c, le);
            fprintf(f, " %llu\n", (unsigned long long)cum);
        }
        fprintf(f, "%s_sum", m->name);
        put_labels(f, c, NULL);
        fputc(' ', f);
        put_number(f, from_bits(atomic_load_explicit(&c->sum_bits, memory_order_relaxed)));
        fprintf(f, "\n%s_count", m->name);
        put_labels(f, c, NULL);
        fprintf(f, " %llu\n", (unsigned long long)cum);
    }
    pthread_mutex_unlock(&m->mu);
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(sl_metric *const *)a)->name, (*(sl_metric *const *)b)->name);
}

char *sl_metrics_render(size_t *len)
{
    pthread_mutex_lock(&reg.render_mu);
    pthread_mutex_lock(&reg.mu);
    size_t nc = reg.ncollectors;
    struct {
        sl_metrics_collect_fn fn;
        void *ctx;
    } cs[MAX_COLLECTORS];
    memcpy(cs, reg.collectors, nc * sizeof cs[0]);
    pthread_mutex_unlock(&reg.mu);
    for (size_t i = 0; i < nc; i++)
        cs[i].fn(cs[i].ctx);

    pthread_mutex_lock(&reg.mu);
    size_t n = 0;
    for (sl_metric *m = reg.families; m != NULL; m = m->next)
        n++;
    sl_metric **sorted = sl_malloc((n > 0 ? n : 1) * sizeof *sorted);
    if (sorted != NULL) {
        n = 0;
        for (sl_metric *m = reg.families; m != NULL; m = m->next)
            sorted[n++] = m;
    }
    pthread_mutex_unlock(&reg.mu);

    char *out = NULL;
    size_t outlen = 0;
    FILE *f = sorted != NULL ? open_memstream(&out, &outlen) : NULL;
    if (f != NULL) {
        qsort(sorted, n, sizeof *sorted, by_name);
        for (size_t i = 0; i < n; i++)
            render_family(f, sorted[i]);
        if (fclose(f) != 0) {
            free(out);
            out = NULL;
        }
    }
    free(sorted);
    pthread_mutex_unlock(&reg.render_mu);
    if (len != NULL)
        *len = out != NULL ? outlen : 0;
    return out;
}
