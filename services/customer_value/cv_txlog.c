/*
 * cv_txlog: transaction logs, their text formats and the cohort summaries
 * (see cv_txlog.h).
 */
#include "cv_txlog.h"
#include "sl_date.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sl_arena.h"

typedef struct tx {
    uint32_t cust;
    int32_t day;
    double amount;
} tx;

struct cv_txlog {
    /* Customer ids, interned: id i is ids + id_off[i]; slots is an open-
     * addressing table of id index + 1 (0 = empty). */
    char *ids;
    size_t ids_len, ids_cap;
    size_t *id_off;
    size_t n_cust, cust_cap;
    uint32_t *slots;
    size_t n_slots;
    tx *txs;
    size_t n_tx, tx_cap;
    int32_t first_day;
};

struct cv_cohort {
    size_t n;
    cv_summary *sum;
    char **id;
    char *id_buf;
    int32_t *first;
    uint32_t *hx;
    double *hvalue;
    double holdout_length;
};

/* ---- dates --------------------------------------------------------------- */

static int days_in_month(int y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return len[m - 1] + (m == 2 && leap);
}

static int digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

sl_status cv_date_parse(const char *s, size_t len, int32_t *day, sl_err *err)
{
    int y, m, d;
    int ok;
    if (len == 10 && s[4] == '-' && s[7] == '-')
        ok = digits(s, 4, &y) == 0 && digits(s + 5, 2, &m) == 0 && digits(s + 8, 2, &d) == 0;
    else if (len == 8)
        ok = digits(s, 4, &y) == 0 && digits(s + 4, 2, &m) == 0 && digits(s + 6, 2, &d) == 0;
    else
        ok = 0;
    if (!ok || y < 1 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "invalid date \"%.*s\" (want YYYY-MM-DD or YYYYMMDD)",
                          (int)(len > 40 ? 40 : len), s);
    *day = (int32_t)sl_days_from_civil(y, m, d);
    return SL_OK;
}

void cv_date_format(int32_t day, char buf[11])
{
    int y, m, d;
    sl_civil_from_days(day, &y, &m, &d);
    /* Years outside 0..9999 cannot come from cv_date_parse; wrap them rather
     * than overrun buf.  m and d are within 1..12 and 1..31 by construction. */
    y = ((y % 10000) + 10000) % 10000;
    buf[0] = (char)('0' + y / 1000);
    buf[1] = (char)('0' + y / 100 % 10);
    buf[2] = (char)('0' + y / 10 % 10);
    buf[3] = (char)('0' + y % 10);
    buf[4] = '-';
    buf[5] = (char)('0' + m / 10);
    buf[6] = (char)('0' + m % 10);
    buf[7] = '-';
    buf[8] = (char)('0' + d / 10);
    buf[9] = (char)('0' + d % 10);
    buf[10] = '\0';
}

/* ---- the log -------------------------------------------------------------- */

sl_status cv_txlog_create(cv_txlog **out, sl_err *err)
{
    cv_txlog *log = sl_calloc(1, sizeof *log);
    if (log == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    *out = log;
    return SL_OK;
}

void cv_txlog_destroy(cv_txlog *log)
{
    if (log == NULL)
        return;
    free(log->ids);
    free(log->id_off);
    free(log->slots);
    free(log->txs);
    free(log);
}

static uint64_t hash_id(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need)
        c *= 2;
    void *q = sl_realloc(*p, c * elem);
    if (q == NULL)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* Rebuilds the id table at twice the size; keeps it at most half full. */
static int rehash(cv_txlog *log)
{
    size_t n = log->n_slots ? log->n_slots * 2 : 1024;
    uint32_t *s = sl_calloc(n, sizeof *s);
    if (s == NULL)
        return -1;
    for (size_t i = 0; i < log->n_cust; i++) {
        const char *id = log->ids + log->id_off[i];
        size_t j = hash_id(id, strlen(id)) & (n - 1);
        while (s[j] != 0)
            j = (j + 1) & (n - 1);
        s[j] = (uint32_t)(i + 1);
    }
    free(log->slots);
    log->slots = s;
    log->n_slots = n;
    return 0;
}

/* The index of id (n bytes), interning it if new; -1 when out of memory. */
static long intern(cv_txlog *log, const char *id, size_t n)
{
    if (2 * (log->n_cust + 1) > log->n_slots && rehash(log) != 0)
        return -1;
    size_t j = hash_id(id, n) & (log->n_slots - 1);
    while (log->slots[j] != 0) {
        size_t k = log->slots[j] - 1;
        const char *s = log->ids + log->id_off[k];
        if (strncmp(s, id, n) == 0 && s[n] == '\0')
            return (long)k;
        j = (j + 1) & (log->n_slots - 1);
    }
    if (log->n_cust >= UINT32_MAX - 1 ||
        grow((void **)&log->ids, &log->ids_cap, log->ids_len + n + 1, 1) != 0 ||
        grow((void **)&log->id_off, &log->cust_cap, log->n_cust + 1, sizeof *log->id_off) != 0)
        return -1;
    memcpy(log->ids + log->ids_len, id, n);
    log->ids[log->ids_len + n] = '\0';
    log->id_off[log->n_cust] = log->ids_len;
    log->ids_len += n + 1;
    log->slots[j] = (uint32_t)(log->n_cust + 1);
    return (long)log->n_cust++;
}

static sl_status add_n(cv_txlog *log, const char *id, size_t n, int32_t day, double amount,
                       sl_err *err)
{
    if (n == 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "empty customer id");
    if (n > CV_CUSTOMER_ID_MAX)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "customer id longer than %d bytes",
                          CV_CUSTOMER_ID_MAX);
    if (!isfinite(amount) || amount < 0.0 || amount > CV_AMOUNT_MAX)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "amount must be a number from 0 to %g, got %g",
                          CV_AMOUNT_MAX, amount);
    long c = intern(log, id, n);
    if (c < 0 || grow((void **)&log->txs, &log->tx_cap, log->n_tx + 1, sizeof *log->txs) != 0)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    log->txs[log->n_tx++] = (tx){(uint32_t)c, day, amount};
    if (log->n_tx == 1 || day < log->first_day)
        log->first_day = day;
    return SL_OK;
}

sl_status cv_txlog_add(cv_txlog *log, const char *customer_id, int32_t day, double amount,
                       sl_err *err)
{
    return add_n(log, customer_id, strlen(customer_id), day, amount, err);
}

size_t cv_txlog_size(const cv_txlog *log)
{
    return log->n_tx;
}

int32_t cv_txlog_first_day(const cv_txlog *log)
{
    return log->n_tx ? log->first_day : 0;
}

/* ---- text formats -------------------------------------------------------- */

#define MAX_FIELDS 64

typedef struct field {
    const char *s;
    size_t n;
} field;

typedef struct layout {
    char sep; /* ',' or ' ' (any run of blanks) */
    size_t n_fields;
    int id, date, amount;
} layout;

/* Splits line into at most MAX_FIELDS fields, trimming blanks and one pair
 * of double quotes; returns the count, or MAX_FIELDS + 1 when there are
 * more. */
static size_t split(char *line, char sep, field *f)
{
    size_t n = 0;
    char *p = line;
    if (sep != ',') {
        for (;;) {
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p == '\0')
                return n;
            if (n == MAX_FIELDS)
                return MAX_FIELDS + 1;
            f[n].s = p;
            while (*p != '\0' && *p != ' ' && *p != '\t')
                p++;
            f[n].n = (size_t)(p - f[n].s);
            n++;
        }
    }
    for (;;) {
        if (n == MAX_FIELDS)
            return MAX_FIELDS + 1;
        char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *s = p;
        while (len > 0 && (*s == ' ' || *s == '\t')) {
            s++;
            len--;
        }
        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
            len--;
        if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
            s++;
            len -= 2;
        }
        f[n].s = s;
        f[n].n = len;
        n++;
        if (end == NULL)
            return n;
        p = end + 1;
    }
}

static int name_is(const field *f, const char *const *names)
{
    for (; *names != NULL; names++)
        if (strlen(*names) == f->n && strncasecmp(f->s, *names, f->n) == 0)
            return 1;
    return 0;
}

static const char *const id_names[] = {"customer_id", "customer", "customerid", "masterid",
                                       "master_id",   "cust_id",  "id",         NULL};
static const char *const date_names[] = {"date", NULL};
static const char *const amount_names[] = {"amount",       "sales", "dollars",
                                           "dollar_value", "value", NULL};

/* Finds the three columns in a header; -1 when one is missing. */
static int header_layout(const field *f, size_t n, layout *l)
{
    l->id = l->date = l->amount = -1;
    for (size_t i = 0; i < n; i++) {
        if (l->id < 0 && name_is(&f[i], id_names))
            l->id = (int)i;
        else if (l->date < 0 && name_is(&f[i], date_names))
            l->date = (int)i;
        else if (l->amount < 0 && name_is(&f[i], amount_names))
            l->amount = (int)i;
    }
    l->n_fields = n;
    return l->id >= 0 && l->date >= 0 && l->amount >= 0 ? 0 : -1;
}

/* Decides the format from the first line.  *header is set when the line is
 * a header (consumed) rather than data. */
static sl_status detect(char *line, layout *l, int *header, sl_err *err)
{
    field f[MAX_FIELDS];
    l->sep = strchr(line, ',') != NULL ? ',' : ' ';
    char *copy = sl_strdup(line);
    if (copy == NULL)
        return sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
    size_t n = split(copy, l->sep, f);
    sl_status st = SL_OK;
    if (n > MAX_FIELDS) {
        st = sl_err_set(err, SL_INVALID_ARGUMENT, "more than %d fields", MAX_FIELDS);
    } else if (l->sep == ',' || header_layout(f, n, l) == 0) {
        /* CSV always starts with a header; a whitespace log has one when its
         * first line names the columns. */
        *header = 1;
        if (header_layout(f, n, l) != 0)
            st = sl_err_set(err, SL_INVALID_ARGUMENT,
                            "the header must name a customer_id, a date and an amount column");
    } else {
        *header = 0;
        l->n_fields = n;
        switch (n) {
        case 5: /* CDNOW_sample.txt: master id, sample id, date, CDs, dollars */
            *l = (layout){' ', 5, 0, 2, 4};
            break;
        case 4: /* CDNOW_master.txt without its header: id, date, CDs, dollars */
            *l = (layout){' ', 4, 0, 1, 3};
            break;
        case 3:
            *l = (layout){' ', 3, 0, 1, 2};
            break;
        default:
            st = sl_err_set(err, SL_INVALID_ARGUMENT,
                            "a whitespace-separated log without a header needs 3, 4 or 5 fields, "
                            "got %zu",
                            n);
        }
    }
    free(copy);
    return st;
}

static sl_status parse_record(cv_txlog *log, char *line, const layout *l, sl_err *err)
{
    field f[MAX_FIELDS];
    size_t n = split(line, l->sep, f);
    if (n != l->n_fields)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "expected %zu fields, got %zu", l->n_fields, n);
    int32_t day;
    sl_status st = cv_date_parse(f[l->date].s, f[l->date].n, &day, err);
    if (st != SL_OK)
        return st;
    const field *a = &f[l->amount];
    char buf[64];
    if (a->n == 0 || a->n >= sizeof buf)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "invalid amount \"%.*s\"",
                          (int)(a->n > 40 ? 40 : a->n), a->s);
    memcpy(buf, a->s, a->n);
    buf[a->n] = '\0';
    char *end;
    errno = 0;
    double amount = strtod(buf, &end);
    if (*end != '\0' || errno != 0 || !isfinite(amount))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "invalid amount \"%s\"", buf);
    if (amount < 0.0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "negative amount \"%s\"", buf);
    return add_n(log, f[l->id].s, f[l->id].n, day, amount, err);
}

sl_status cv_txlog_read(cv_txlog *log, FILE *in, const char *name, sl_err *err)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    size_t lineno = 0;
    layout l;
    int have_layout = 0;
    sl_status st = SL_OK;
    errno = 0;
    while ((len = getline(&line, &cap, in)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if ((size_t)len != strlen(line)) {
            st = sl_err_set(err, SL_INVALID_ARGUMENT, "%s:%zu: NUL byte in a text line", name,
                            lineno);
            goto done;
        }
        if (strspn(line, " \t") == (size_t)len)
            continue;
        if (!have_layout) {
            int header;
            st = detect(line, &l, &header, err);
            if (st != SL_OK) {
                sl_err_wrap(err, "%s:%zu", name, lineno);
                goto done;
            }
            have_layout = 1;
            if (header)
                continue;
        }
        st = parse_record(log, line, &l, err);
        if (st != SL_OK) {
            sl_err_wrap(err, "%s:%zu", name, lineno);
            goto done;
        }
    }
    if (ferror(in))
        st = sl_err_set(err, SL_UNAVAILABLE, "could not read \"%s\": %s", name, strerror(errno));
done:
    free(line);
    return st;
}

/* ---- cohorts -------------------------------------------------------------- */

void cv_cohort_destroy(cv_cohort *c)
{
    if (c == NULL)
        return;
    free(c->sum);
    free(c->id);
    free(c->id_buf);
    free(c->first);
    free(c->hx);
    free(c->hvalue);
    free(c);
}

static int cmp_day(const void *pa, const void *pb)
{
    const tx *a = pa, *b = pb;
    return (a->day > b->day) - (a->day < b->day);
}

sl_status cv_cohort_build(const cv_txlog *log, const cv_period *period, cv_cohort **out,
                          sl_err *err)
{
    if (!(period->unit_days > 0.0) || !isfinite(period->unit_days))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "time unit must be > 0 days, got %g",
                          period->unit_days);
    sl_status st = SL_OK;
    size_t nc = log->n_cust;
    size_t *start = sl_calloc(nc + 1, sizeof *start);
    tx *sorted = sl_malloc((log->n_tx ? log->n_tx : 1) * sizeof *sorted);
    cv_cohort *c = sl_calloc(1, sizeof *c);
    if (start == NULL || sorted == NULL || c == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory building the cohort");
        goto fail;
    }
    /* Group the records by customer (a counting sort, stable), then order
     * each customer's few records by day. */
    for (size_t i = 0; i < log->n_tx; i++)
        start[log->txs[i].cust + 1]++;
    for (size_t i = 0; i < nc; i++)
        start[i + 1] += start[i];
    {
        size_t *pos = sl_malloc((nc ? nc : 1) * sizeof *pos);
        if (pos == NULL) {
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory building the cohort");
            goto fail;
        }
        memcpy(pos, start, nc * sizeof *pos);
        for (size_t i = 0; i < log->n_tx; i++)
            sorted[pos[log->txs[i].cust]++] = log->txs[i];
        free(pos);
    }
    c->sum = sl_malloc((nc ? nc : 1) * sizeof *c->sum);
    c->id = sl_malloc((nc ? nc : 1) * sizeof *c->id);
    c->id_buf = sl_malloc(log->ids_len ? log->ids_len : 1);
    c->first = sl_malloc((nc ? nc : 1) * sizeof *c->first);
    c->hx = sl_malloc((nc ? nc : 1) * sizeof *c->hx);
    c->hvalue = sl_malloc((nc ? nc : 1) * sizeof *c->hvalue);
    if (c->sum == NULL || c->id == NULL || c->id_buf == NULL || c->first == NULL || c->hx == NULL ||
        c->hvalue == NULL) {
        st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory building the cohort");
        goto fail;
    }
    if (log->ids_len)
        memcpy(c->id_buf, log->ids, log->ids_len);

    int32_t cal = period->calibration_end, hold = period->holdout_end;
    double unit = period->unit_days;
    for (size_t k = 0; k < nc; k++) {
        tx *t = sorted + start[k];
        size_t m = start[k + 1] - start[k];
        qsort(t, m, sizeof *t, cmp_day);
        int32_t d0 = t[0].day;
        if (d0 > cal)
            continue; /* first purchase after calibration: not in the cohort */
        uint32_t x = 0, hx = 0;
        int32_t last = d0, prev = d0;
        double spend = 0.0, hspend = 0.0;
        for (size_t i = 0; i < m; i++) {
            int32_t d = t[i].day;
            if (d == d0 || (hold > cal ? d > hold : d > cal))
                continue;
            int new_day = d != prev;
            prev = d;
            if (d <= cal) {
                x += new_day;
                last = d;
                spend += t[i].amount;
            } else {
                hx += new_day;
                hspend += t[i].amount;
            }
        }
        size_t i = c->n++;
        c->sum[i] =
            (cv_summary){x, x ? (last - d0) / unit : 0.0, (cal - d0) / unit, x ? spend / x : 0.0};
        c->id[i] = c->id_buf + log->id_off[k];
        c->first[i] = d0;
        c->hx[i] = hx;
        c->hvalue[i] = hspend;
    }
    if (c->n == 0) {
        st = sl_err_reason(err, SL_FAILED_PRECONDITION, "NOT_ENOUGH_DATA",
                           "no customer made a first purchase by the calibration end");
        goto fail;
    }
    c->holdout_length = hold > cal ? (hold - cal) / unit : 0.0;
    free(start);
    free(sorted);
    *out = c;
    return SL_OK;
fail:
    free(start);
    free(sorted);
    cv_cohort_destroy(c);
    return st;
}

size_t cv_cohort_size(const cv_cohort *c)
{
    return c->n;
}

const cv_summary *cv_cohort_summaries(const cv_cohort *c)
{
    return c->sum;
}

const char *cv_cohort_id(const cv_cohort *c, size_t i)
{
    return c->id[i];
}

int32_t cv_cohort_first_day(const cv_cohort *c, size_t i)
{
    return c->first[i];
}

uint32_t cv_cohort_holdout_x(const cv_cohort *c, size_t i)
{
    return c->hx[i];
}

double cv_cohort_holdout_value(const cv_cohort *c, size_t i)
{
    return c->hvalue[i];
}

double cv_cohort_holdout_length(const cv_cohort *c)
{
    return c->holdout_length;
}
