/*
 * sd_comp: the delay-compensation policy and deterministic coupon codes
 * (see sd_comp.h).
 */
#include "sd_comp.h"

#include <stdbool.h>
#include <string.h>

#define MAX_SLIP_DAYS 365
#define MAX_VALUE_MINOR INT64_C(1000000000)
#define ORDER_ID_MAX 64

/* ---- policy -------------------------------------------------------------------- */

/* Reads a decimal number of at most 10 digits at *s, advancing it. */
static bool read_number(const char **s, int64_t *out)
{
    int64_t v = 0;
    int n = 0;
    while (**s >= '0' && **s <= '9' && n < 10) {
        v = v * 10 + (**s - '0');
        (*s)++;
        n++;
    }
    *out = v;
    return n > 0 && !(**s >= '0' && **s <= '9');
}

static bool tiers_valid(const sd_comp_policy *p)
{
    if (p->n_tiers > SD_COMP_MAX_TIERS)
        return false;
    for (size_t i = 0; i < p->n_tiers; i++) {
        const sd_comp_tier *t = &p->tiers[i];
        if (t->min_slip_days < 0 || t->min_slip_days > MAX_SLIP_DAYS || t->value_minor < 1 ||
            t->value_minor > MAX_VALUE_MINOR)
            return false;
        if (i > 0 && (t->min_slip_days <= p->tiers[i - 1].min_slip_days ||
                      t->value_minor < p->tiers[i - 1].value_minor))
            return false;
    }
    return true;
}

sl_status sd_comp_policy_parse(const char *tiers, const char *currency, sd_comp_policy *out,
                               sl_err *err)
{
    memset(out, 0, sizeof *out);
    if (currency == NULL || strlen(currency) != 3 || currency[0] < 'A' || currency[0] > 'Z' ||
        currency[1] < 'A' || currency[1] > 'Z' || currency[2] < 'A' || currency[2] > 'Z')
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "invalid currency \"%.16s\": expected an ISO 4217 code such as EUR",
                          currency != NULL ? currency : "");
    memcpy(out->currency, currency, 4);
    if (tiers == NULL || tiers[0] == '\0')
        return SL_OK;
    for (const char *s = tiers;;) {
        int64_t days, value;
        bool ok = out->n_tiers < SD_COMP_MAX_TIERS && read_number(&s, &days) && *s++ == ':' &&
                  read_number(&s, &value) && (*s == ',' || *s == '\0') && days <= MAX_SLIP_DAYS;
        if (ok) {
            out->tiers[out->n_tiers].min_slip_days = (int32_t)days;
            out->tiers[out->n_tiers].value_minor = value;
            out->n_tiers++;
            ok = tiers_valid(out);
        }
        if (!ok) {
            out->n_tiers = 0;
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "invalid compensation tiers \"%.100s\": expected ascending "
                              "\"days:minor_units\" pairs such as \"2:500,5:1500\" (days 0..%d, "
                              "values 1..%lld not decreasing, at most %d)",
                              tiers, MAX_SLIP_DAYS, (long long)MAX_VALUE_MINOR, SD_COMP_MAX_TIERS);
        }
        if (*s == '\0')
            return SL_OK;
        s++;
    }
}

sl_status sd_comp_decide(const sd_comp_policy *p, sd_date promised_p50, sd_date current_p50,
                         int64_t granted_minor, sd_comp_decision *out, sl_err *err)
{
    if (granted_minor < 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "granted amount must not be negative");
    if (!tiers_valid(p))
        return sl_err_set(err, SL_INVALID_ARGUMENT, "compensation tiers out of order");
    sd_comp_decision d = {0, -1, 0, 0};
    int64_t slip = (int64_t)current_p50 - promised_p50;
    d.slip_days = slip > 0 ? (slip > INT32_MAX ? INT32_MAX : (int32_t)slip) : 0;
    for (size_t i = 0; i < p->n_tiers; i++)
        if (d.slip_days > p->tiers[i].min_slip_days)
            d.tier = (int)i;
    if (d.tier >= 0)
        d.entitled_minor = p->tiers[d.tier].value_minor;
    if (d.entitled_minor > granted_minor)
        d.grant_minor = d.entitled_minor - granted_minor;
    *out = d;
    return SL_OK;
}

/* ---- coupon codes ------------------------------------------------------------------ */

static uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = rotl(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = rotl(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = rotl(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = rotl(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = rotl(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = rotl(v2, 32);                                                                         \
    } while (0)

uint64_t sd_siphash24(const uint8_t key[SD_COUPON_KEY_LEN], const void *data, size_t len)
{
    const uint8_t *in = data;
    uint64_t k0 = le64(key), k1 = le64(key + 8);
    uint64_t v0 = UINT64_C(0x736f6d6570736575) ^ k0, v1 = UINT64_C(0x646f72616e646f6d) ^ k1;
    uint64_t v2 = UINT64_C(0x6c7967656e657261) ^ k0, v3 = UINT64_C(0x7465646279746573) ^ k1;
    size_t full = len - len % 8;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = le64(in + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = (uint64_t)len << 56;
    for (size_t i = 0; i < len % 8; i++)
        b |= (uint64_t)in[full + i] << (8 * i);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

sl_status sd_coupon_key_parse(const char *hex, uint8_t key[SD_COUPON_KEY_LEN], sl_err *err)
{
    if (hex == NULL || strlen(hex) != 2 * SD_COUPON_KEY_LEN)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "invalid coupon key: expected %d hexadecimal digits",
                          2 * SD_COUPON_KEY_LEN);
    for (int i = 0; i < SD_COUPON_KEY_LEN; i++) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "invalid coupon key: expected %d hexadecimal digits",
                              2 * SD_COUPON_KEY_LEN);
        key[i] = (uint8_t)(hi << 4 | lo);
    }
    return SL_OK;
}

sl_status sd_coupon_code(const uint8_t key[SD_COUPON_KEY_LEN], const char *order_id, uint32_t slip,
                         char out[SD_COUPON_CODE_LEN], sl_err *err)
{
    size_t n = order_id != NULL ? strlen(order_id) : 0;
    if (n == 0 || n > ORDER_ID_MAX)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "order id must be 1..%d bytes", ORDER_ID_MAX);
    if (slip == 0)
        return sl_err_set(err, SL_INVALID_ARGUMENT, "slip numbers start at 1");
    /* A purpose tag keeps these hashes apart from any other use of the key;
     * the NUL after the id keeps ("A1", 2) apart from ("A", 12...). */
    static const char tag[] = "shelfline-coupon";
    uint8_t msg[sizeof tag + ORDER_ID_MAX + 1 + 4];
    size_t len = 0;
    memcpy(msg, tag, sizeof tag);
    len += sizeof tag;
    memcpy(msg + len, order_id, n);
    len += n;
    msg[len++] = '\0';
    for (int i = 0; i < 4; i++)
        msg[len++] = (uint8_t)(slip >> (8 * i));
    uint64_t h = sd_siphash24(key, msg, len);
    /* Crockford's base 32: no I, L, O or U, so codes read aloud unambiguously. */
    static const char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    char chars[12];
    for (int i = 0; i < 12; i++)
        chars[i] = alphabet[(h >> (59 - 5 * i)) & 31];
    memcpy(out, "SL-", 3);
    memcpy(out + 3, chars, 4);
    out[7] = '-';
    memcpy(out + 8, chars + 4, 4);
    out[12] = '-';
    memcpy(out + 13, chars + 8, 4);
    out[17] = '\0';
    return SL_OK;
}
