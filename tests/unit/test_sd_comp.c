/* sd_comp: compensation tiers measured against the promise, top-ups across
 * slips, SipHash-2-4 against its published vectors, and deterministic
 * coupon codes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sd_comp.h"

static sd_date D(const char *s)
{
    sd_date d;
    if (sd_date_parse(s, &d, NULL) != SL_OK)
        fail_msg("bad date %s", s);
    return d;
}

static void test_policy_parse(void **state)
{
    (void)state;
    sd_comp_policy p;
    sl_err err;
    assert_int_equal(sd_comp_policy_parse("2:500,5:1500", "EUR", &p, &err), SL_OK);
    assert_int_equal(p.n_tiers, 2);
    assert_int_equal(p.tiers[0].min_slip_days, 2);
    assert_int_equal(p.tiers[0].value_minor, 500);
    assert_int_equal(p.tiers[1].min_slip_days, 5);
    assert_int_equal(p.tiers[1].value_minor, 1500);
    assert_string_equal(p.currency, "EUR");
    assert_int_equal(sd_comp_policy_parse("", "USD", &p, &err), SL_OK);
    assert_int_equal(p.n_tiers, 0);
    assert_int_equal(sd_comp_policy_parse("0:100", "JPY", &p, &err), SL_OK);
    assert_int_equal(sd_comp_policy_parse("1:1,2:2,3:3,4:4,5:5,6:6,7:7,8:8", "EUR", &p, &err),
                     SL_OK);
    assert_int_equal(p.n_tiers, 8);

    const char *bad[] = {"5:100,2:50",
                         "2:500,5:400",
                         "x",
                         "2:",
                         ":5",
                         "2:0",
                         "400:5",
                         "2:500,",
                         "1:1,2:2,3:3,4:4,5:5,6:6,7:7,8:8,9:9",
                         "2:500;5:900",
                         "2:99999999999",
                         "-1:5",
                         "2:500,2:600"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (sd_comp_policy_parse(bad[i], "EUR", &p, &err) != SL_INVALID_ARGUMENT)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_int_equal(p.n_tiers, 0);
    }
    assert_non_null(strstr(err.msg, "invalid compensation tiers \"2:500,2:600\""));
    const char *bad_cur[] = {"eur", "EURO", "", "E1R"};
    for (size_t i = 0; i < sizeof bad_cur / sizeof *bad_cur; i++)
        assert_int_equal(sd_comp_policy_parse("2:500", bad_cur[i], &p, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(sd_comp_policy_parse("2:500", NULL, &p, &err), SL_INVALID_ARGUMENT);
}

static sd_comp_decision decide(const sd_comp_policy *p, const char *promised, const char *now,
                               int64_t granted)
{
    sd_comp_decision d;
    sl_err err;
    if (sd_comp_decide(p, D(promised), D(now), granted, &d, &err) != SL_OK)
        fail_msg("%s", err.msg);
    return d;
}

static void test_decide(void **state)
{
    (void)state;
    sd_comp_policy p;
    assert_int_equal(sd_comp_policy_parse("2:500,5:1500", "EUR", &p, NULL), SL_OK);
    /* "More than 2 days": 2 days is not enough, 3 is. */
    sd_comp_decision d = decide(&p, "2025-03-10", "2025-03-12", 0);
    assert_int_equal(d.slip_days, 2);
    assert_int_equal(d.tier, -1);
    assert_int_equal(d.grant_minor, 0);
    d = decide(&p, "2025-03-10", "2025-03-13", 0);
    assert_int_equal(d.slip_days, 3);
    assert_int_equal(d.tier, 0);
    assert_int_equal(d.entitled_minor, 500);
    assert_int_equal(d.grant_minor, 500);
    /* A later slip tops up to the higher tier, never paying twice. */
    d = decide(&p, "2025-03-10", "2025-03-16", 500);
    assert_int_equal(d.tier, 1);
    assert_int_equal(d.entitled_minor, 1500);
    assert_int_equal(d.grant_minor, 1000);
    d = decide(&p, "2025-03-10", "2025-03-20", 1500);
    assert_int_equal(d.grant_minor, 0);
    /* An inbound slipping one day three times: the third slip crosses the
     * two-day line. */
    int64_t granted = 0;
    const char *slips[] = {"2025-03-11", "2025-03-12", "2025-03-13"};
    int64_t grants[3];
    for (int i = 0; i < 3; i++) {
        d = decide(&p, "2025-03-10", slips[i], granted);
        grants[i] = d.grant_minor;
        granted += d.grant_minor;
    }
    assert_int_equal(grants[0], 0);
    assert_int_equal(grants[1], 0);
    assert_int_equal(grants[2], 500);
    /* An ETA that moved earlier is no slip; nothing is taken back. */
    d = decide(&p, "2025-03-10", "2025-03-08", 500);
    assert_int_equal(d.slip_days, 0);
    assert_int_equal(d.grant_minor, 0);
    /* No tiers: nothing, ever. */
    sd_comp_policy none;
    assert_int_equal(sd_comp_policy_parse("", "EUR", &none, NULL), SL_OK);
    d = decide(&none, "2025-03-10", "2026-03-10", 0);
    assert_int_equal(d.slip_days, 365);
    assert_int_equal(d.grant_minor, 0);

    sl_err err;
    assert_int_equal(sd_comp_decide(&p, D("2025-03-10"), D("2025-03-20"), -1, &d, &err),
                     SL_INVALID_ARGUMENT);
    sd_comp_policy broken = p;
    broken.tiers[1].min_slip_days = 1;
    assert_int_equal(sd_comp_decide(&broken, D("2025-03-10"), D("2025-03-20"), 0, &d, &err),
                     SL_INVALID_ARGUMENT);
}

static void test_siphash_vectors(void **state)
{
    (void)state;
    /* From the SipHash paper and its reference implementation: key
     * 00..0f, message 00..(n-1). */
    static const struct {
        size_t n;
        uint64_t h;
    } vec[] = {{0, UINT64_C(0x726fdb47dd0e0e31)},  {1, UINT64_C(0x74f839c593dc67fd)},
               {7, UINT64_C(0xab0200f58b01d137)},  {8, UINT64_C(0x93f5f5799a932462)},
               {15, UINT64_C(0xa129ca6149be45e5)}, {16, UINT64_C(0x3f2acc7f57c29bdb)},
               {63, UINT64_C(0x958a324ceb064572)}};
    uint8_t key[16], msg[64];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++)
        msg[i] = (uint8_t)i;
    for (size_t i = 0; i < sizeof vec / sizeof *vec; i++)
        assert_true(sd_siphash24(key, msg, vec[i].n) == vec[i].h);
}

static void test_coupon_codes(void **state)
{
    (void)state;
    uint8_t key[SD_COUPON_KEY_LEN], other[SD_COUPON_KEY_LEN];
    sl_err err;
    assert_int_equal(sd_coupon_key_parse("000102030405060708090a0b0c0d0e0f", key, &err), SL_OK);
    assert_int_equal(key[15], 15);
    assert_int_equal(sd_coupon_key_parse("000102030405060708090A0B0C0D0E0F", other, &err), SL_OK);
    assert_int_equal(memcmp(key, other, 16), 0);
    other[0] ^= 1;

    char a[SD_COUPON_CODE_LEN], b[SD_COUPON_CODE_LEN];
    assert_int_equal(sd_coupon_code(key, "ORD-12345", 1, a, &err), SL_OK);
    /* Format: SL-XXXX-XXXX-XXXX in Crockford's alphabet. */
    assert_int_equal(strlen(a), 17);
    assert_memory_equal(a, "SL-", 3);
    assert_int_equal(a[7], '-');
    assert_int_equal(a[12], '-');
    for (int i = 3; i < 17; i++)
        if (i != 7 && i != 12)
            assert_non_null(strchr("0123456789ABCDEFGHJKMNPQRSTVWXYZ", a[i]));
    /* A retry gives the same code. */
    assert_int_equal(sd_coupon_code(key, "ORD-12345", 1, b, &err), SL_OK);
    assert_string_equal(a, b);
    /* Another slip, order or key gives another. */
    assert_int_equal(sd_coupon_code(key, "ORD-12345", 2, b, &err), SL_OK);
    assert_string_not_equal(a, b);
    assert_int_equal(sd_coupon_code(key, "ORD-12346", 1, b, &err), SL_OK);
    assert_string_not_equal(a, b);
    assert_int_equal(sd_coupon_code(other, "ORD-12345", 1, b, &err), SL_OK);
    assert_string_not_equal(a, b);
    /* ("A1", slip) and ("A", ...) cannot collide by concatenation. */
    assert_int_equal(sd_coupon_code(key, "A1", 2, a, &err), SL_OK);
    assert_int_equal(sd_coupon_code(key, "A", 12, b, &err), SL_OK);
    assert_string_not_equal(a, b);
    /* No two of 20,000 orders share a code. */
    static char seen[20000][SD_COUPON_CODE_LEN];
    for (int i = 0; i < 20000; i++) {
        char id[32];
        snprintf(id, sizeof id, "ORD-%d", 100000 + i);
        assert_int_equal(sd_coupon_code(key, id, 1, seen[i], &err), SL_OK);
    }
    qsort(seen, 20000, SD_COUPON_CODE_LEN, (int (*)(const void *, const void *))strcmp);
    for (int i = 1; i < 20000; i++)
        assert_string_not_equal(seen[i - 1], seen[i]);

    char longid[100];
    memset(longid, 'x', 65);
    longid[65] = '\0';
    assert_int_equal(sd_coupon_code(key, longid, 1, a, &err), SL_INVALID_ARGUMENT);
    longid[64] = '\0';
    assert_int_equal(sd_coupon_code(key, longid, 1, a, &err), SL_OK);
    assert_int_equal(sd_coupon_code(key, "", 1, a, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(sd_coupon_code(key, NULL, 1, a, &err), SL_INVALID_ARGUMENT);
    assert_int_equal(sd_coupon_code(key, "ORD-1", 0, a, &err), SL_INVALID_ARGUMENT);
    const char *bad_keys[] = {"", "0001", "zz0102030405060708090a0b0c0d0e0f",
                              "000102030405060708090a0b0c0d0e0f00"};
    for (size_t i = 0; i < sizeof bad_keys / sizeof *bad_keys; i++)
        assert_int_equal(sd_coupon_key_parse(bad_keys[i], key, &err), SL_INVALID_ARGUMENT);
    assert_null(strstr(err.msg, "0001")); /* the secret is never echoed */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_policy_parse),
        cmocka_unit_test(test_decide),
        cmocka_unit_test(test_siphash_vectors),
        cmocka_unit_test(test_coupon_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
