/*
 * cv_csv: shelfline-clv's summary-file reader (see cv_csv.h), moved out of
 * the tool unchanged in behaviour so that tests and fuzzers can call it.
 */
#include "cv_csv.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sl_arena.h"

/* Fields a line may have. */
#define MAX_COLUMNS 32

static const char *const x_names[] = {"x", "frequency", NULL};
static const char *const tx_names[] = {"t_x", "recency", NULL};
static const char *const t_names[] = {"T", NULL};
static const char *const m_names[] = {"monetary", "zbar", "monetary_value", NULL};
static const char *const id_names[] = {"customer_id", "id", NULL};

int cv_csv_split(char *line, char **cols, int max)
{
    int n = 0;
    for (char *p = line;;) {
        if (n == max)
            return max + 1;
        cols[n++] = p;
        char *comma = strchr(p, ',');
        if (comma == NULL)
            return n;
        *comma = '\0';
        p = comma + 1;
    }
}

static int column_of(char **cols, int n, const char *const *names)
{
    for (int i = 0; i < n; i++)
        for (const char *const *nm = names; *nm != NULL; nm++)
            if (strcmp(cols[i], *nm) == 0)
                return i;
    return -1;
}

/* A finite number spanning all of s (strtod's grammar). */
static int parse_double(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || errno != 0 || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

void cv_summary_rows_free(cv_summary_rows *r)
{
    if (r->ids != NULL)
        for (size_t i = 0; i < r->n; i++)
            free(r->ids[i]);
    free(r->ids);
    free(r->rows);
    memset(r, 0, sizeof *r);
}

sl_status cv_csv_read_summaries(FILE *f, const char *name, cv_summary_rows *out, sl_err *err)
{
    char *line = NULL, *cols[MAX_COLUMNS];
    size_t cap = 0, lineno = 0, alloc = 0;
    ssize_t len;
    int ix = -1, itx = -1, it = -1, im = -1, iid = -1, ncols = 0;
    sl_status st = SL_OK;
    cv_summary_rows r = {0};
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if ((size_t)len != strlen(line)) {
            /* Not text: the rest of the line after the NUL would be
             * dropped. */
            st = sl_err_set(err, SL_INVALID_ARGUMENT, "%s:%zu: NUL byte in a text line", name,
                            lineno);
            goto done;
        }
        if (len == 0)
            continue;
        int n = cv_csv_split(line, cols, MAX_COLUMNS);
        if (n > MAX_COLUMNS) {
            /* Splitting used to stop at MAX_COLUMNS and drop the rest, so a
             * row longer than a 32-column header passed as a match. */
            st = sl_err_set(err, SL_INVALID_ARGUMENT, "%s:%zu: more than %d fields", name, lineno,
                            MAX_COLUMNS);
            goto done;
        }
        if (ncols == 0) {
            ncols = n;
            ix = column_of(cols, n, x_names);
            itx = column_of(cols, n, tx_names);
            it = column_of(cols, n, t_names);
            im = column_of(cols, n, m_names);
            iid = column_of(cols, n, id_names);
            if (ix < 0 || itx < 0 || it < 0) {
                st = sl_err_set(err, SL_INVALID_ARGUMENT,
                                "%s:%zu: the header must name x, t_x and T columns", name, lineno);
                goto done;
            }
            continue;
        }
        if (n != ncols) {
            st = sl_err_set(err, SL_INVALID_ARGUMENT, "%s:%zu: expected %d fields, got %d", name,
                            lineno, ncols, n);
            goto done;
        }
        double x, v[3] = {0.0, 0.0, 0.0};
        int idx[3] = {itx, it, im};
        int bad = parse_double(cols[ix], &x) != 0 || x < 0 || x > 4e9 || x != floor(x);
        for (int k = 0; k < 3 && !bad; k++)
            bad = idx[k] >= 0 && parse_double(cols[idx[k]], &v[k]) != 0;
        if (bad) {
            st = sl_err_set(err, SL_INVALID_ARGUMENT,
                            "%s:%zu: x, t_x, T and monetary must be "
                            "numbers (x a whole one)",
                            name, lineno);
            goto done;
        }
        if (r.n == alloc) {
            alloc = alloc ? 2 * alloc : 1024;
            cv_summary *nr = sl_realloc(r.rows, alloc * sizeof *nr);
            if (nr != NULL)
                r.rows = nr;
            char **ni = nr != NULL ? sl_realloc(r.ids, alloc * sizeof *ni) : NULL;
            if (ni == NULL) {
                st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
                goto done;
            }
            r.ids = ni;
        }
        cv_summary row = {(uint32_t)x, v[0], v[1], x > 0 ? v[2] : 0.0};
        if ((st = cv_summary_check(&row, err)) != SL_OK) {
            sl_err_wrap(err, "%s:%zu", name, lineno);
            goto done;
        }
        r.rows[r.n] = row;
        r.ids[r.n] = NULL;
        if (iid >= 0 && (r.ids[r.n] = sl_strdup(cols[iid])) == NULL) {
            st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory");
            goto done;
        }
        r.n++;
    }
    if (ferror(f))
        st = sl_err_set(err, SL_UNAVAILABLE, "could not read \"%s\": %s", name, strerror(errno));
    else if (r.n == 0)
        st = sl_err_set(err, SL_INVALID_ARGUMENT, "\"%s\" holds no customers", name);
done:
    free(line);
    if (st != SL_OK)
        cv_summary_rows_free(&r);
    else
        *out = r;
    return st;
}
