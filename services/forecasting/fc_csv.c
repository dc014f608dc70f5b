/*
 * fc_csv: shelfline-forecast's input reader (see fc_csv.h), moved out of
 * the tool unchanged in behaviour so that tests and fuzzers can call it.
 */
#include "fc_csv.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "sl_arena.h"

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        s[--n] = '\0';
    return s;
}

/* A value field: a finite number, or NA / empty for a missing day. */
static sl_status parse_value(const char *s, size_t line, double *out, sl_err *err)
{
    if (*s == '\0' || strcmp(s, "NA") == 0) {
        *out = NAN;
        return SL_OK;
    }
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "line %zu: \"%s\" is not a number", line, s);
    *out = v;
    return SL_OK;
}

static int push_value(fc_csv_series *s, double v)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 1024;
        double *nv = sl_realloc(s->v, cap * sizeof *nv);
        if (nv == NULL)
            return -1;
        s->v = nv;
        s->cap = cap;
    }
    s->v[s->n++] = v;
    return 0;
}

static fc_csv_series *new_series(fc_csv_input *in, const char *id)
{
    if (in->n == in->cap) {
        size_t cap = in->cap ? 2 * in->cap : 16;
        fc_csv_series *ns = sl_realloc(in->s, cap * sizeof *ns);
        if (ns == NULL)
            return NULL;
        in->s = ns;
        in->cap = cap;
    }
    fc_csv_series *s = &in->s[in->n];
    memset(s, 0, sizeof *s);
    if (id != NULL && (s->id = sl_strdup(id)) == NULL)
        return NULL;
    in->n++;
    return s;
}

void fc_csv_input_free(fc_csv_input *in)
{
    for (size_t i = 0; i < in->n; i++) {
        free(in->s[i].id);
        free(in->s[i].v);
    }
    free(in->s);
    memset(in, 0, sizeof *in);
}

sl_status fc_csv_read(FILE *fp, const char *name, bool batch, fc_csv_input *in, sl_err *err)
{
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t len;
    sl_status st = SL_OK;
    fc_csv_series *cur = NULL;
    memset(in, 0, sizeof *in);
    errno = 0;
    while ((len = getline(&line, &cap, fp)) != -1) {
        lineno++;
        /* Not text: the rest of the line after the NUL would be dropped
         * and "1\0junk" read as 1. */
        if ((size_t)len != strlen(line)) {
            st = sl_err_set(err, SL_INVALID_ARGUMENT, "line %zu: NUL byte in a text line", lineno);
            goto done;
        }
        char *s = trim(line);
        if (*s == '\0')
            continue;
        char *comma = strrchr(s, ',');
        const char *field = comma ? trim(comma + 1) : s;
        if (batch) {
            if (comma == NULL) {
                st = sl_err_set(err, SL_INVALID_ARGUMENT,
                                "line %zu: expected \"id,value\" in batch mode, got \"%s\"", lineno,
                                s);
                goto done;
            }
            char *first = strchr(s, ',');
            *first = '\0';
            const char *id = trim(s);
            if (cur == NULL || strcmp(cur->id, id) != 0) {
                for (size_t i = 0; i < in->n; i++) {
                    if (strcmp(in->s[i].id, id) == 0) {
                        st = sl_err_set(err, SL_INVALID_ARGUMENT,
                                        "line %zu: series \"%s\" continues after another series; "
                                        "group each series' lines together",
                                        lineno, id);
                        goto done;
                    }
                }
                if ((cur = new_series(in, id)) == NULL)
                    goto oom;
            }
        } else if (cur == NULL && (cur = new_series(in, NULL)) == NULL) {
            goto oom;
        }
        double v = NAN; /* set by parse_value; NAN silences gcc's maybe-uninitialized */
        if ((st = parse_value(field, lineno, &v, err)) != SL_OK)
            goto done;
        if (push_value(cur, v) != 0)
            goto oom;
    }
    if (ferror(fp))
        st = sl_err_set(err, SL_UNAVAILABLE, "could not read %s: %s", name, strerror(errno));
    else if (in->n == 0)
        st = sl_err_set(err, SL_INVALID_ARGUMENT, "the series is empty: no values on %s", name);
    goto done;
oom:
    st = sl_err_set(err, SL_RESOURCE_EXHAUSTED, "out of memory reading line %zu", lineno);
done:
    free(line);
    if (st != SL_OK)
        fc_csv_input_free(in);
    return st;
}
