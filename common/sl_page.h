/*
 * sl_page: paging of list RPCs (shelfline.v1.PageRequest), the same in
 * every service.  A page token is the hex form of the last key of the
 * previous page: opaque to clients, stable across replicas (no server
 * state), and checked on the way back in.
 */
#ifndef SL_PAGE_H
#define SL_PAGE_H

#include <stddef.h>

#include "shelfline/v1/common.pb-c.h"
#include "sl_arena.h"
#include "sl_status.h"

#define SL_PAGE_DEFAULT 100
#define SL_PAGE_MAX 1000

/* The page size asked for: 0 (or no page) means SL_PAGE_DEFAULT; more than
 * SL_PAGE_MAX or negative is INVALID_ARGUMENT naming page.page_size. */
sl_status sl_page_size(const Shelfline__V1__PageRequest *page, int *limit, sl_err *err);

/* Decodes a token (NULL or "" means the first page: out = "") into out
 * (capacity cap, NUL-terminated); INVALID_ARGUMENT naming page.page_token
 * for anything this library did not issue or that does not fit. */
sl_status sl_page_token_decode(const char *token, char *out, size_t cap, sl_err *err);

/* Both of the above for a whole PageRequest (page may be NULL). */
sl_status sl_page_read(const Shelfline__V1__PageRequest *page, int *limit, char *after, size_t cap,
                       sl_err *err);

/* The token for "after this key", in arena memory; NULL when out of
 * memory. */
char *sl_page_token_encode(sl_arena *a, const char *last_key);

#endif
