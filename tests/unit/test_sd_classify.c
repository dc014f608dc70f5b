/* sd_classify: accuracy on the held-out labelled tickets (printed per
 * language, asserted overall), language detection, case folding, mentions,
 * edge cases (empty, mixed languages, very long, invalid UTF-8), training
 * errors and concurrent use. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sd_classify.h"

static sd_classifier *model;

typedef struct ticket {
    sd_lang lang;
    sd_category cat;
    char *subject, *body;
} ticket;

static ticket *tickets;
static size_t n_tickets;
static char *test_text, *train_text;

static char *slurp(const char *rel)
{
    const char *root = getenv("SHELFLINE_SOURCE_DIR");
    if (root == NULL) {
        fprintf(stderr, "SHELFLINE_SOURCE_DIR is not set (ctest sets it)\n");
        return NULL;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    if (buf != NULL && fread(buf, 1, (size_t)n, f) == (size_t)n)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Splits the labelled file in place into tickets. */
static int load_tickets(void)
{
    tickets = calloc(1000, sizeof *tickets);
    for (char *line = test_text, *next; line != NULL && *line != '\0'; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *f[4] = {line};
        for (int k = 1; k < 4; k++) {
            f[k] = f[k - 1] != NULL ? strchr(f[k - 1], '\t') : NULL;
            if (f[k] == NULL) {
                fprintf(stderr, "bad labelled line: %s\n", line);
                return -1;
            }
            *f[k]++ = '\0';
        }
        ticket *t = &tickets[n_tickets++];
        if (sd_lang_parse(f[0], &t->lang, NULL) != SL_OK ||
            sd_category_parse(f[1], &t->cat, NULL) != SL_OK || n_tickets == 1000)
            return -1;
        t->subject = f[2];
        t->body = f[3];
    }
    return 0;
}

static int setup(void **state)
{
    (void)state;
    sl_err err;
    if (sd_classifier_new_default(&model, &err) != SL_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    test_text = slurp("tests/data/tickets_labelled.tsv");
    train_text = slurp("services/service_desk/data/tickets_train.tsv");
    if (test_text == NULL || train_text == NULL)
        return -1;
    return load_tickets();
}

static int teardown(void **state)
{
    (void)state;
    sd_classifier_free(model);
    free(tickets);
    free(test_text);
    free(train_text);
    return 0;
}

/* The held-out set must stay held out: no test ticket's body may appear in
 * the training file. */
static void test_sets_do_not_overlap(void **state)
{
    (void)state;
    assert_true(n_tickets >= 200);
    size_t per_lang[5] = {0};
    for (size_t i = 0; i < n_tickets; i++) {
        per_lang[tickets[i].lang]++;
        if (strstr(train_text, tickets[i].body) != NULL)
            fail_msg("test ticket also in the training set: %s", tickets[i].body);
    }
    for (int l = SD_LANG_EN; l <= SD_LANG_ZH; l++)
        assert_true(per_lang[l] >= 50);
}

static void test_accuracy(void **state)
{
    (void)state;
    size_t ok[5] = {0}, total[5] = {0}, lang_ok = 0;
    size_t confusion[SD_CATEGORY_COUNT][SD_CATEGORY_COUNT] = {{0}};
    for (size_t i = 0; i < n_tickets; i++) {
        const ticket *t = &tickets[i];
        sd_classification r;
        assert_int_equal(sd_classify(model, t->subject, t->body, SD_LANG_UNKNOWN, &r, NULL), SL_OK);
        total[t->lang]++;
        ok[t->lang] += r.category == t->cat;
        lang_ok += r.language == t->lang;
        confusion[t->cat][r.category]++;
    }
    size_t all_ok = 0, all = 0;
    printf("sd_classify accuracy on %zu held-out tickets (tests/data/tickets_labelled.tsv):\n",
           n_tickets);
    for (int l = SD_LANG_EN; l <= SD_LANG_ZH; l++) {
        printf("  %s  %5.1f%%  (%zu/%zu)\n", sd_lang_name((sd_lang)l), 100.0 * ok[l] / total[l],
               ok[l], total[l]);
        all_ok += ok[l];
        all += total[l];
        assert_true(ok[l] * 100 >= total[l] * 85); /* no language left far behind */
    }
    printf("  all %5.1f%%  (%zu/%zu)\n", 100.0 * all_ok / all, all_ok, all);
    printf("  language detected correctly: %5.1f%% (%zu/%zu)\n", 100.0 * lang_ok / n_tickets,
           lang_ok, n_tickets);
    printf("  recall by category (row: truth, columns: predicted w d r x s p o):\n");
    for (int c = 0; c < SD_CATEGORY_COUNT; c++) {
        size_t row = 0;
        printf("    %-18s", sd_category_name((sd_category)c));
        for (int p = 0; p < SD_CATEGORY_COUNT; p++) {
            printf(" %3zu", confusion[c][p]);
            row += confusion[c][p];
        }
        printf("   %5.1f%%\n", 100.0 * confusion[c][c] / row);
    }
    assert_true(all_ok * 100 >= all * 90);
    assert_true(lang_ok * 100 >= n_tickets * 95);
}

static sd_classification classify(const char *subject, const char *body, sd_lang lang)
{
    sd_classification r;
    sl_err err;
    if (sd_classify(model, subject, body, lang, &r, &err) != SL_OK)
        fail_msg("%s", err.msg);
    return r;
}

static void test_folding(void **state)
{
    (void)state;
    /* Case and accents do not change the features. */
    const char *pairs[][2] = {
        {"ВОЗВРАТ ДЕНЕГ ЗА ЗАКАЗ", "возврат денег за заказ"},
        {"Ёлка пришла разбитой", "елка пришла разбитой"},
        {"REMBOURSEMENT NON REÇU", "remboursement non recu"},
        {"Colis endommagé, cœur brisé", "colis endommage, coeur brise"},
        {"ＯＲＤＥＲ ＳＴＡＴＵＳ", "order status"},
        {"Colis endomme\xcc\x81", "colis endomm\xc3\xa9"}, /* decomposed vs composed é */
    };
    for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
        sd_classification a = classify("", pairs[i][0], SD_LANG_UNKNOWN);
        sd_classification b = classify("", pairs[i][1], SD_LANG_UNKNOWN);
        assert_int_equal(a.category, b.category);
        assert_int_equal(a.features, b.features);
        for (int k = 0; k < SD_CATEGORY_COUNT; k++)
            assert_true(a.scores[k] == b.scores[k]);
    }
}

static void test_edge_cases(void **state)
{
    (void)state;
    /* Nothing to go on: OTHER, no features, no language. */
    sd_classification r = classify("", "", SD_LANG_UNKNOWN);
    assert_int_equal(r.category, SD_CATEGORY_OTHER);
    assert_int_equal(r.features, 0);
    assert_int_equal(r.language, SD_LANG_UNKNOWN);
    assert_true(r.language_detected);
    r = classify(NULL, NULL, SD_LANG_UNKNOWN);
    assert_int_equal(r.category, SD_CATEGORY_OTHER);
    r = classify("   \t ", "?!... --", SD_LANG_UNKNOWN);
    assert_int_equal(r.category, SD_CATEGORY_OTHER);
    assert_int_equal(r.features, 0);
    /* Shapes alone are evidence: a bare order id asks where the order is. */
    r = classify("ORD-48213", "", SD_LANG_UNKNOWN);
    assert_int_equal(r.category, SD_CATEGORY_WHERE_IS_MY_ORDER);
    /* A subject alone is enough. */
    r = classify("Refund not received", "", SD_LANG_UNKNOWN);
    assert_int_equal(r.category, SD_CATEGORY_RETURN_REFUND);
    assert_int_equal(r.language, SD_LANG_EN);
    /* A given language is reported as given. */
    r = classify("", "Where is my parcel?", SD_LANG_FR);
    assert_int_equal(r.language, SD_LANG_FR);
    assert_false(r.language_detected);
    double sum = 0;
    for (int k = 0; k < SD_CATEGORY_COUNT; k++)
        sum += r.scores[k];
    assert_true(sum > 0.999 && sum < 1.001);
    assert_true(r.confidence == r.scores[r.category]);

    /* Mixed languages: the body's main script decides the language; the
     * words of both count. */
    r = classify("ORD-55102", "Hi, 我的包裹已经晚了一个星期了，还没到！ delayed again",
                 SD_LANG_UNKNOWN);
    assert_int_equal(r.language, SD_LANG_ZH);
    assert_int_equal(r.category, SD_CATEGORY_DELIVERY_DELAY);
    r = classify("Refund", "Hello, я вернул товар две недели назад, где мои деньги? refund please",
                 SD_LANG_UNKNOWN);
    assert_int_equal(r.language, SD_LANG_RU);
    assert_int_equal(r.category, SD_CATEGORY_RETURN_REFUND);
    r = classify("", "Bonjour, my order arrived broken, le vase est cassé", SD_LANG_UNKNOWN);
    assert_int_equal(r.category, SD_CATEGORY_DAMAGED_ITEM);

    /* A language the model was not trained on: no crash, some answer. */
    r = classify("Bestellung", "Wo ist meine Bestellung? Sie ist noch nicht angekommen.",
                 SD_LANG_UNKNOWN);
    assert_true(r.category <= SD_CATEGORY_OTHER);

    /* Invalid UTF-8 is skipped, not trusted. */
    const char bad[] = "\xff\xfe refund \xc3 \xe2\x82 \xed\xa0\x80 \xf4\x90\x80\x80 "
                       "\xc0\xaf retour \x80\x80";
    r = classify(bad, bad, SD_LANG_UNKNOWN);
    assert_int_equal(r.category, SD_CATEGORY_RETURN_REFUND);

    sl_err err;
    assert_int_equal(sd_classify(NULL, "", "", SD_LANG_UNKNOWN, &r, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(sd_classify(model, "", "", (sd_lang)42, &r, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(sd_classify(model, "", "", SD_LANG_EN, NULL, &err), SL_INVALID_ARGUMENT);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_long_text(void **state)
{
    (void)state;
    /* 4 MB: the key sentence first, then pasted noise in all scripts. */
    size_t cap = 4u << 20;
    char *body = malloc(cap + 1);
    assert_non_null(body);
    const char *head = "The vase arrived broken, smashed to pieces. ";
    const char *noise = "lorem ipsum дата 日志 ligne de log 0x1F2E ";
    size_t n = strlen(head), nl = strlen(noise);
    memcpy(body, head, n);
    while (n + nl < cap) {
        memcpy(body + n, noise, nl);
        n += nl;
    }
    body[n] = '\0';
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    sd_classification r = classify("Broken", body, SD_LANG_UNKNOWN);
    double s = seconds_since(&t0);
    printf("sd_classify: a %zu-byte ticket in %.1f ms (reads the first %d bytes)\n", n, s * 1e3,
           SD_CLASSIFY_MAX_BYTES);
    assert_int_equal(r.category, SD_CATEGORY_DAMAGED_ITEM);
    assert_true(s < 0.5);

    /* One endless "word" and an endless Han run: bounded too. */
    memset(body, 'a', cap);
    body[cap] = '\0';
    r = classify("", body, SD_LANG_UNKNOWN);
    for (size_t i = 0; i + 3 <= cap; i += 3)
        memcpy(body + i, "\xe9\x80\x80", 3); /* 退 */
    body[cap - cap % 3] = '\0';
    r = classify("", body, SD_LANG_UNKNOWN);
    assert_int_equal(r.language, SD_LANG_ZH);
    /* Cut inside a multi-byte character at the reading limit: no stray
     * byte is read. */
    r = classify("", body + 1, SD_LANG_UNKNOWN);
    free(body);

    /* Throughput on ordinary tickets. */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int reps = 20;
    for (int k = 0; k < reps; k++)
        for (size_t i = 0; i < n_tickets; i++)
            classify(tickets[i].subject, tickets[i].body, SD_LANG_UNKNOWN);
    s = seconds_since(&t0);
    printf("sd_classify: %.1f us per ticket\n", s * 1e6 / (double)(reps * (int)n_tickets));
}

static void test_language(void **state)
{
    (void)state;
    struct {
        const char *text;
        sd_lang lang;
    } cases[] = {
        {"bonjour je voudrais savoir ou est ma commande svp", SD_LANG_FR},
        {"Ma commande n'est pas arrivée", SD_LANG_FR},
        {"colis reçu abîmé", SD_LANG_FR},
        {"Hi, where is my order? It has not arrived yet", SD_LANG_EN},
        {"refund please", SD_LANG_EN},
        {"Здравствуйте, где мой заказ?", SD_LANG_RU},
        {"你好，我的订单在哪里？", SD_LANG_ZH},
        {"订单ORD-12345 iPhone 15 Pro Max 还没发货", SD_LANG_ZH},
        {"ORD-12345 заказ", SD_LANG_RU},
        {"12345 !!! ???", SD_LANG_UNKNOWN},
        {"", SD_LANG_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        double conf;
        sd_lang l = sd_lang_detect(cases[i].text, strlen(cases[i].text), &conf);
        if (l != cases[i].lang)
            fail_msg("\"%s\": detected %s", cases[i].text, sd_lang_name(l));
        assert_true(conf >= 0 && conf <= 1);
        if (l == SD_LANG_UNKNOWN)
            assert_true(conf == 0);
    }
    assert_int_equal(sd_lang_detect(NULL, 0, NULL), SD_LANG_UNKNOWN);

    sd_lang l;
    sl_err err;
    const struct {
        const char *tag;
        sd_lang lang;
    } tags[] = {{"en", SD_LANG_EN},          {"fr-CA", SD_LANG_FR},   {"zh-Hans-CN", SD_LANG_ZH},
                {"RU", SD_LANG_RU},          {"de", SD_LANG_UNKNOWN}, {"", SD_LANG_UNKNOWN},
                {"yue-HK", SD_LANG_UNKNOWN}, {"und", SD_LANG_UNKNOWN}};
    for (size_t i = 0; i < sizeof tags / sizeof *tags; i++) {
        assert_int_equal(sd_lang_parse(tags[i].tag, &l, &err), SL_OK);
        assert_int_equal(l, tags[i].lang);
    }
    assert_int_equal(sd_lang_parse(NULL, &l, &err), SL_OK);
    assert_int_equal(l, SD_LANG_UNKNOWN);
    const char *bad[] = {"f", "english", "en_US", "en-", "-en", "fr-CA-", "zh-toolongsubtag", "1e"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(sd_lang_parse(bad[i], &l, &err), SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "invalid language tag \"1e\"");
    assert_string_equal(sd_lang_name(SD_LANG_ZH), "zh");
    assert_string_equal(sd_lang_name(SD_LANG_UNKNOWN), "und");

    for (int c = 0; c < SD_CATEGORY_COUNT; c++) {
        sd_category back;
        assert_int_equal(sd_category_parse(sd_category_name((sd_category)c), &back, &err), SL_OK);
        assert_int_equal(back, c);
    }
    sd_category cat;
    assert_int_equal(sd_category_parse("Payment", &cat, &err), SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "unknown category \"Payment\"");
    assert_string_equal(sd_category_name((sd_category)99), "unknown");
}

static void test_mentions(void **state)
{
    (void)state;
    sd_mentions m;
    const char *t = "Hi, order ORD-12345 and ord 77310, also Order #99812 and order number "
                    "4567; not ORDER 12 nor word12345. SKU-44120 and SKU: ab-12x, sku 7";
    sd_extract_mentions(t, strlen(t), &m);
    assert_int_equal(m.n_orders, 4);
    assert_string_equal(m.orders[0], "ORD-12345");
    assert_string_equal(m.orders[1], "ORD-77310");
    assert_string_equal(m.orders[2], "99812");
    assert_string_equal(m.orders[3], "4567");
    assert_int_equal(m.n_skus, 3);
    assert_string_equal(m.skus[0], "SKU-44120");
    assert_string_equal(m.skus[1], "AB-12X");
    assert_string_equal(m.skus[2], "7");

    t = "Commande n° 48120, commande ORD-30211 ; заказа №48731, Заказ номер 55120; "
        "订单号12345 订单99671 货号A-100 артикул 88123";
    sd_extract_mentions(t, strlen(t), &m);
    assert_int_equal(m.n_orders, 6);
    assert_string_equal(m.orders[0], "48120");
    assert_string_equal(m.orders[1], "ORD-30211");
    assert_string_equal(m.orders[2], "48731");
    assert_string_equal(m.orders[3], "55120");
    assert_string_equal(m.orders[4], "12345");
    assert_string_equal(m.orders[5], "99671");
    assert_int_equal(m.n_skus, 2);
    assert_string_equal(m.skus[0], "A-100");
    assert_string_equal(m.skus[1], "88123");

    /* Duplicates once, at most SD_MENTIONS_MAX, ids too long ignored. */
    t = "ORD-111 ORD-111 ord-111 ORD-222 ORD-333 ORD-444 ORD-555 ORD-666 ORD-777 ORD-888 "
        "ORD-999 ORD-000";
    sd_extract_mentions(t, strlen(t), &m);
    assert_int_equal(m.n_orders, SD_MENTIONS_MAX);
    assert_string_equal(m.orders[1], "ORD-222");
    char longid[200] = "ORD-";
    memset(longid + 4, '7', 100);
    sd_extract_mentions(longid, strlen(longid), &m);
    assert_int_equal(m.n_orders, 0);
    sd_extract_mentions(NULL, 0, &m);
    assert_int_equal(m.n_orders + m.n_skus, 0);
    sd_extract_mentions("ORD-", 4, &m);
    assert_int_equal(m.n_orders, 0);
    sd_extract_mentions("order #", 7, &m);
    assert_int_equal(m.n_orders, 0);
}

static void test_training_errors(void **state)
{
    (void)state;
    sd_classifier *c;
    sl_err err;
    const char *no_tabs = "# comment\nen payment subject body\n";
    assert_int_equal(sd_classifier_train(no_tabs, strlen(no_tabs), NULL, 0, &c, &err),
                     SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "training set: line 2: expected language, category, subject and "
                                 "body separated by tabs");
    const char *bad_cat = "en\tpayment\ts\tb\nen\tshipping\ts\tb\n";
    assert_int_equal(sd_classifier_train(bad_cat, strlen(bad_cat), NULL, 0, &c, &err),
                     SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg, "training set: line 2: unknown category \"shipping\"");
    const char *bad_lang = "english\tpayment\ts\tb\n";
    assert_int_equal(sd_classifier_train(bad_lang, strlen(bad_lang), NULL, 0, &c, &err),
                     SL_INVALID_ARGUMENT);
    const char *missing = "en\tpayment\tcard declined\tmy card was declined\r\n";
    assert_int_equal(sd_classifier_train(missing, strlen(missing), NULL, 0, &c, &err),
                     SL_FAILED_PRECONDITION);
    assert_string_equal(err.msg, "training set has no example of category \"where_is_my_order\"");
    assert_int_equal(sd_classifier_train(NULL, 0, NULL, 0, &c, &err), SL_FAILED_PRECONDITION);

    /* A small custom set, with a lexicon that teaches a word the tickets
     * never use. */
    const char *tiny = "en\twhere_is_my_order\tWhere\twhere is my parcel\n"
                       "en\tdelivery_delay\tLate\tmy parcel is late\n"
                       "en\treturn_refund\tReturn\tI want to return it\n"
                       "en\tdamaged_item\tBroken\tit arrived broken\n"
                       "en\tout_of_stock\tStock\twhen back in stock\n"
                       "en\tpayment\tCard\tmy card was declined\n"
                       "en\tother\tPassword\tI forgot my password\n";
    const char *lex = "en\tdamaged_item\tshattered, 碎了\n";
    assert_int_equal(sd_classifier_train(tiny, strlen(tiny), lex, strlen(lex), &c, &err), SL_OK);
    sd_classification r;
    assert_int_equal(sd_classify(c, "", "everything shattered", SD_LANG_UNKNOWN, &r, &err), SL_OK);
    assert_int_equal(r.category, SD_CATEGORY_DAMAGED_ITEM);
    assert_int_equal(sd_classify(c, "", "杯子碎了", SD_LANG_UNKNOWN, &r, &err), SL_OK);
    assert_int_equal(r.category, SD_CATEGORY_DAMAGED_ITEM);
    sd_classifier_free(c);
    sd_classifier_free(NULL);

    const char *bad_lex = "en\tdamaged_item\n";
    assert_int_equal(sd_classifier_train(tiny, strlen(tiny), bad_lex, strlen(bad_lex), &c, &err),
                     SL_INVALID_ARGUMENT);
    assert_string_equal(err.msg,
                        "lexicon: line 1: expected language, category and terms separated by tabs");
}

typedef struct worker {
    size_t start;
    sd_category got[1000];
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    for (size_t k = 0; k < n_tickets; k++) {
        size_t i = (w->start + k) % n_tickets;
        sd_classification r;
        if (sd_classify(model, tickets[i].subject, tickets[i].body, SD_LANG_UNKNOWN, &r, NULL) !=
            SL_OK)
            return NULL;
        w->got[i] = r.category;
    }
    return w;
}

/* One model, four threads: the same answers as one thread. */
static void test_threads(void **state)
{
    (void)state;
    static worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i].start = (size_t)i * 37;
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        void *ret;
        pthread_join(th[i], &ret);
        assert_non_null(ret);
    }
    for (size_t i = 0; i < n_tickets; i++) {
        sd_classification r = classify(tickets[i].subject, tickets[i].body, SD_LANG_UNKNOWN);
        for (int k = 0; k < 4; k++)
            assert_int_equal(w[k].got[i], r.category);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sets_do_not_overlap),
        cmocka_unit_test(test_accuracy),
        cmocka_unit_test(test_folding),
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_long_text),
        cmocka_unit_test(test_language),
        cmocka_unit_test(test_mentions),
        cmocka_unit_test(test_training_errors),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
