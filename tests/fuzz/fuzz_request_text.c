/*
 * Fuzz target: text that arrives in request fields and is parsed by the
 * services rather than by protobuf -- the service desk's time-zone names
 * (sd_tzdb_get, which turns a name into a path under /usr/share/zoneinfo),
 * ticket subjects and bodies (sd_classify, sd_lang_detect,
 * sd_extract_mentions), the names of languages, categories, priorities,
 * tiers and forecasting methods, and forecasting's "YYYY-MM-DD" days
 * (fc_day_parse); plus the classifier's training-set reader
 * (sd_classifier_train; its files are compiled in, but the reader is the
 * one parser of them).
 *
 * Input: byte 0 picks the parser, the rest is the text (up to its first
 * NUL, except for ticket text and training sets, which are taken as bytes
 * split at the first NUL: subject, then body).
 * Properties checked: no crash, leak, hang or undefined behaviour; a zone
 * name is refused as INVALID_ARGUMENT exactly when an independent check
 * finds it empty, over 255 bytes, absolute, with an empty, "." or ".."
 * component or a byte outside [A-Za-z0-9._+-/] (so no name reaches a path
 * outside the zone directory), and a zone that loads carries its name; a
 * classification has a category, scores in 0..1 summing to 1 with the
 * category's as its confidence, OTHER when no feature was known, and a
 * language in range; a detected language is in range with a confidence in
 * 0..1; mentions are at most eight of each kind, 1..64 bytes, upper case,
 * distinct; an enum name that parses names back to itself (case aside for
 * priorities); a day that parses formats back to its text within
 * fc_day_min..fc_day_max; training either fails with INVALID_ARGUMENT or
 * FAILED_PRECONDITION or gives a classifier that classifies.
 *
 * Built two ways: with clang -fsanitize=fuzzer for `make fuzz`, and with
 * fuzz_driver.c as a deterministic ctest that replays seeds and mutations.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fc_engine.h"
#include "fc_valid.h"
#include "sd_classify.h"
#include "sd_sla.h"
#include "sd_time.h"

#define MAX_TEXT 1024

static sd_tzdb *tzdb;
static sd_classifier *classifier;

static void check(bool ok)
{
    if (!ok)
        abort();
}

static void init_once(void)
{
    if (tzdb != NULL)
        return;
    if (sd_tzdb_new(NULL, &tzdb, NULL) != SL_OK ||
        sd_classifier_new_default(&classifier, NULL) != SL_OK)
        abort();
}

static bool ref_zone_name(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 255 || s[0] == '/')
        return false;
    size_t comp = 0; /* length of the current component */
    for (size_t i = 0; i <= len; i++) {
        char c = s[i];
        if (c == '/' || c == '\0') {
            const char *start = s + i - comp;
            if (comp == 0 || (comp == 1 && start[0] == '.') ||
                (comp == 2 && start[0] == '.' && start[1] == '.'))
                return false;
            comp = 0;
            continue;
        }
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '+' || c == '-'))
            return false;
        comp++;
    }
    return true;
}

static void fuzz_zone_name(const char *text)
{
    const sd_tz *z = NULL;
    sl_err err = {0};
    sl_status st = sd_tzdb_get(tzdb, text, &z, &err);
    if (!ref_zone_name(text)) {
        check(st == SL_INVALID_ARGUMENT);
        return;
    }
    check(st == SL_OK || st == SL_NOT_FOUND || st == SL_INTERNAL);
    if (st == SL_OK)
        check(strcmp(sd_tz_name(z), text) == 0);
}

static void fuzz_ticket(uint8_t lang_byte, const uint8_t *data, size_t size)
{
    static char subject[MAX_TEXT + 1], body[MAX_TEXT + 1];
    size_t n = size < MAX_TEXT ? size : MAX_TEXT;
    const uint8_t *nul = memchr(data, '\0', n);
    size_t ns = nul != NULL ? (size_t)(nul - data) : n;
    memcpy(subject, data, ns);
    subject[ns] = '\0';
    size_t nb = nul != NULL ? n - ns - 1 : 0;
    memcpy(body, data + ns + (nul != NULL), nb);
    body[nb] = '\0';

    sd_lang lang = (sd_lang)(lang_byte % 5);
    sd_classification c;
    sl_err err = {0};
    check(sd_classify(classifier, subject, body, lang, &c, &err) == SL_OK);
    check((int)c.category >= 0 && c.category < SD_CATEGORY_COUNT);
    double sum = 0.0;
    for (int k = 0; k < SD_CATEGORY_COUNT; k++) {
        check(c.scores[k] >= 0.0 && c.scores[k] <= 1.0);
        sum += c.scores[k];
    }
    check(fabs(sum - 1.0) < 1e-9);
    check(c.confidence == c.scores[c.category]);
    check(c.features > 0 || c.category == SD_CATEGORY_OTHER);
    check((int)c.language >= 0 && c.language <= SD_LANG_ZH);
    check(c.language_detected == (lang == SD_LANG_UNKNOWN));
    if (!c.language_detected)
        check(c.language == lang);

    double conf = -1.0;
    sd_lang d = sd_lang_detect(body, nb, &conf);
    check((int)d >= 0 && d <= SD_LANG_ZH && conf >= 0.0 && conf <= 1.0);

    sd_mentions m;
    sd_extract_mentions(body, nb, &m);
    check(m.n_orders <= SD_MENTIONS_MAX && m.n_skus <= SD_MENTIONS_MAX);
    for (int kind = 0; kind < 2; kind++) {
        size_t count = kind == 0 ? m.n_orders : m.n_skus;
        char(*ids)[SD_MENTION_LEN] = kind == 0 ? m.orders : m.skus;
        for (size_t i = 0; i < count; i++) {
            size_t len = strnlen(ids[i], SD_MENTION_LEN);
            check(len >= 1 && len < SD_MENTION_LEN);
            for (size_t k = 0; k < len; k++)
                check(!(ids[i][k] >= 'a' && ids[i][k] <= 'z'));
            for (size_t j = 0; j < i; j++)
                check(strcmp(ids[i], ids[j]) != 0);
        }
    }
}

static void fuzz_names(uint8_t which, const char *text)
{
    sl_err err = {0};
    switch (which % 6) {
    case 0: {
        sd_lang l = SD_LANG_ZH;
        sl_status st = sd_lang_parse(text, &l, &err);
        check(st == SL_OK || st == SL_INVALID_ARGUMENT);
        check((int)l >= 0 && l <= SD_LANG_ZH);
        break;
    }
    case 1: {
        sd_category c;
        if (sd_category_parse(text, &c, &err) == SL_OK)
            check(strcmp(sd_category_name(c), text) == 0);
        else
            check(err.status == SL_INVALID_ARGUMENT);
        break;
    }
    case 2: {
        sd_priority p;
        if (sd_priority_parse(text, &p, &err) == SL_OK)
            check(strcasecmp(sd_priority_name(p), text) == 0);
        else
            check(err.status == SL_INVALID_ARGUMENT);
        break;
    }
    case 3: {
        sd_tier t;
        if (sd_tier_parse(text, &t, &err) == SL_OK)
            check(strcmp(sd_tier_name(t), text) == 0);
        else
            check(err.status == SL_INVALID_ARGUMENT);
        break;
    }
    case 4: {
        fc_method m;
        if (fc_method_parse(text, &m, &err) == SL_OK)
            check(strcmp(fc_method_name(m), text) == 0);
        else
            check(err.status == SL_INVALID_ARGUMENT);
        break;
    }
    default: {
        int32_t day = 777;
        if (fc_day_parse("day", text, &day, &err) != SL_OK) {
            check(err.status == SL_INVALID_ARGUMENT && day == 777);
            break;
        }
        char buf[16];
        fc_day_format(day, buf, sizeof buf);
        check(strcmp(buf, text) == 0);
        check(day >= fc_day_min() && day <= fc_day_max());
        break;
    }
    }
}

static void fuzz_training(const uint8_t *data, size_t size)
{
    /* Training set, then after a NUL the lexicon. */
    const uint8_t *nul = memchr(data, '\0', size);
    size_t nt = nul != NULL ? (size_t)(nul - data) : size;
    const char *lex = nul != NULL ? (const char *)nul + 1 : NULL;
    size_t nl = nul != NULL ? size - nt - 1 : 0;
    sd_classifier *c = NULL;
    sl_err err = {0};
    sl_status st = sd_classifier_train((const char *)data, nt, lex, nl, &c, &err);
    if (st != SL_OK) {
        check((st == SL_INVALID_ARGUMENT || st == SL_FAILED_PRECONDITION) && c == NULL);
        return;
    }
    sd_classification r;
    check(sd_classify(c, "Where is my order?", "ORD-12345 has not arrived", SD_LANG_UNKNOWN, &r,
                      &err) == SL_OK);
    check((int)r.category >= 0 && r.category < SD_CATEGORY_COUNT);
    sd_classifier_free(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    if (size == 0)
        return 0;
    char text[MAX_TEXT + 1];
    size_t n = size - 1 < MAX_TEXT ? size - 1 : MAX_TEXT;
    memcpy(text, data + 1, n);
    text[n] = '\0';
    switch (data[0] % 4) {
    case 0:
        fuzz_zone_name(text);
        break;
    case 1:
        fuzz_ticket(data[0] / 4, data + 1, size - 1);
        break;
    case 2:
        fuzz_names(data[0] / 4, text);
        break;
    default:
        fuzz_training(data + 1, size - 1);
        break;
    }
    return 0;
}
