/*
 * Fuzz target: the command-line tools' CSV readers -- customer-value's
 * summary-file reader cv_csv_read_summaries with its splitter cv_csv_split
 * (`shelfline-clv fit --summaries`), and forecasting's series reader
 * fc_csv_read (`shelfline-forecast`'s standard input, one series or
 * --batch), each fed the file through fmemopen.
 *
 * Input: byte 0 picks the reader (and, for the splitter, its field
 * limit); the rest is the file.
 * Properties checked: no crash, leak, hang or undefined behaviour; a
 * rejection is INVALID_ARGUMENT with a message naming the line (the file
 * name or "line N"), and leaves nothing to free; nothing is accepted from
 * a file holding a NUL byte (it is not text: the part of a line after the
 * NUL would be dropped silently).  Summaries that were read pass
 * cv_summary_check and have ids without commas.  A series input that was
 * read holds one value per non-blank line, each finite or NaN (missing);
 * one series without an id, or in batch mode ids that are distinct and
 * free of commas.  cv_csv_split returns 1..max comma-free fields that
 * join back, with commas, into the line, or max + 1 when there are more.
 *
 * Built two ways: with clang -fsanitize=fuzzer for `make fuzz`, and with
 * fuzz_driver.c as a deterministic ctest that replays seeds and mutations.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cv_csv.h"
#include "fc_csv.h"

#define NAME "fuzz.csv"
#define MAX_SPLIT 4096

static void check(bool ok)
{
    if (!ok)
        abort();
}

/* A read stream over data[0..size); fmemopen wants at least one byte. */
static FILE *open_bytes(const uint8_t *data, size_t size)
{
    static const uint8_t empty[1];
    FILE *f = fmemopen((void *)(size > 0 ? data : empty), size > 0 ? size : 1, "r");
    if (f == NULL)
        abort();
    if (size == 0)
        fgetc(f);
    return f;
}

/* Lines with something other than blanks, tabs and line ends. */
static size_t non_blank_lines(const uint8_t *p, size_t n)
{
    size_t lines = 0;
    bool blank = true;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\n') {
            lines += !blank;
            blank = true;
        } else if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r') {
            blank = false;
        }
    }
    return lines + !blank;
}

static void fuzz_summaries(const uint8_t *data, size_t size)
{
    FILE *f = open_bytes(data, size);
    cv_summary_rows r;
    memset(&r, 0xA5, sizeof r);
    sl_err err = {0};
    sl_status st = cv_csv_read_summaries(f, NAME, &r, &err);
    fclose(f);
    if (st != SL_OK) {
        check(st == SL_INVALID_ARGUMENT);
        check(strstr(err.msg, NAME) != NULL);
        return;
    }
    check(memchr(data, '\0', size) == NULL);
    check(r.n >= 1 && r.n < non_blank_lines(data, size));
    for (size_t i = 0; i < r.n; i++) {
        sl_err e2 = {0};
        check(cv_summary_check(&r.rows[i], &e2) == SL_OK);
        check(r.ids[i] == NULL || strchr(r.ids[i], ',') == NULL);
    }
    cv_summary_rows_free(&r);
    check(r.n == 0 && r.rows == NULL && r.ids == NULL);
}

static void fuzz_series(const uint8_t *data, size_t size, bool batch)
{
    FILE *f = open_bytes(data, size);
    fc_csv_input in;
    sl_err err = {0};
    sl_status st = fc_csv_read(f, "standard input", batch, &in, &err);
    fclose(f);
    if (st != SL_OK) {
        check(st == SL_INVALID_ARGUMENT);
        check(strstr(err.msg, "line ") != NULL || strstr(err.msg, "standard input") != NULL);
        check(in.n == 0 && in.s == NULL);
        return;
    }
    check(memchr(data, '\0', size) == NULL);
    check(in.n >= 1 && (batch || in.n == 1));
    size_t values = 0;
    for (size_t i = 0; i < in.n; i++) {
        const fc_csv_series *s = &in.s[i];
        check(s->n >= 1);
        for (size_t k = 0; k < s->n; k++)
            check(isfinite(s->v[k]) || isnan(s->v[k]));
        values += s->n;
        if (!batch) {
            check(s->id == NULL);
            continue;
        }
        check(s->id != NULL && strchr(s->id, ',') == NULL);
        for (size_t j = 0; j < i; j++)
            check(strcmp(in.s[j].id, s->id) != 0);
    }
    check(values == non_blank_lines(data, size));
    fc_csv_input_free(&in);
}

static void fuzz_split(uint8_t max_byte, const uint8_t *data, size_t size)
{
    static char line[MAX_SPLIT + 1], copy[MAX_SPLIT + 1];
    static char *cols[64];
    size_t n = size < MAX_SPLIT ? size : MAX_SPLIT;
    memcpy(line, data, n);
    line[n] = '\0';
    n = strlen(line);
    memcpy(copy, line, n + 1);
    int max = 1 + max_byte % 64;
    int got = cv_csv_split(line, cols, max);
    check(got >= 1 && got <= max + 1);
    int kept = got > max ? max : got;
    size_t pos = 0;
    for (int i = 0; i < kept; i++) {
        size_t len = strlen(cols[i]);
        check(cols[i] == line + pos && memcmp(cols[i], copy + pos, len) == 0);
        check(strchr(cols[i], ',') == NULL);
        pos += len;
        if (i + 1 < got) {
            check(copy[pos] == ',');
            pos++;
        }
    }
    /* All of the line was split, or more than max fields were reported. */
    check(got > max ? pos <= n : pos == n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    switch (data[0] % 4) {
    case 0:
        fuzz_summaries(data + 1, size - 1);
        break;
    case 1:
        fuzz_series(data + 1, size - 1, false);
        break;
    case 2:
        fuzz_series(data + 1, size - 1, true);
        break;
    default:
        fuzz_split(data[0] / 4, data + 1, size - 1);
        break;
    }
    return 0;
}
