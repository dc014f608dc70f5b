/*
 * sl_page: page sizes and hex page tokens.
 */
#include "sl_page.h"

#include <string.h>

sl_status sl_page_size(const Shelfline__V1__PageRequest *page, int *limit, sl_err *err)
{
    int n = page != NULL ? page->page_size : 0;
    if (n < 0 || n > SL_PAGE_MAX)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "page.page_size must be between 0 and %d (got %d)", SL_PAGE_MAX, n);
    *limit = n == 0 ? SL_PAGE_DEFAULT : n;
    return SL_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

sl_status sl_page_token_decode(const char *token, char *out, size_t cap, sl_err *err)
{
    const char *t = token != NULL ? token : "";
    size_t n = strlen(t);
    if (n % 2 != 0 || n / 2 + 1 > cap)
        return sl_err_set(err, SL_INVALID_ARGUMENT,
                          "page.page_token is not a token this RPC issued");
    for (size_t i = 0; i < n / 2; i++) {
        int hi = hexval(t[2 * i]), lo = hexval(t[2 * i + 1]);
        /* A zero byte would end the key early: never issued. */
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
            return sl_err_set(err, SL_INVALID_ARGUMENT,
                              "page.page_token is not a token this RPC issued");
        out[i] = (char)(hi << 4 | lo);
    }
    out[n / 2] = '\0';
    return SL_OK;
}

sl_status sl_page_read(const Shelfline__V1__PageRequest *page, int *limit, char *after, size_t cap,
                       sl_err *err)
{
    sl_status st = sl_page_size(page, limit, err);
    if (st != SL_OK)
        return st;
    return sl_page_token_decode(page != NULL ? page->page_token : NULL, after, cap, err);
}

char *sl_page_token_encode(sl_arena *a, const char *last_key)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = strlen(last_key);
    char *out = sl_arena_alloc(a, 2 * n + 1);
    if (out == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[(unsigned char)last_key[i] >> 4];
        out[2 * i + 1] = hex[(unsigned char)last_key[i] & 15];
    }
    out[2 * n] = '\0';
    return out;
}
