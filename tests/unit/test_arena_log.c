/* sl_arena (alignment, growth, reset) and sl_log's JSON escaping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "sl_arena.h"
#include "sl_log.h"

static void test_alignment_and_growth(void **state)
{
    (void)state;
    sl_arena *a = sl_arena_create(128);
    assert_non_null(a);
    for (int i = 1; i < 200; i++) {
        unsigned char *p = sl_arena_alloc(a, (size_t)i);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        memset(p, 0xab, (size_t)i);
    }
    /* Bigger than any block so far. */
    void *big = sl_arena_zalloc(a, 1 << 20);
    assert_non_null(big);
    assert_int_equal(((unsigned char *)big)[(1 << 20) - 1], 0);
    assert_true(sl_arena_used(a) > (1 << 20));
    sl_arena_reset(a);
    assert_int_equal(sl_arena_used(a), 0);
    assert_string_equal(sl_arena_strdup(a, "abc"), "abc");
    assert_null(sl_arena_strdup(a, NULL));
    sl_arena_destroy(a);
}

static void test_pb_allocator(void **state)
{
    (void)state;
    sl_arena *a = sl_arena_create(0);
    ProtobufCAllocator *al = sl_arena_pb_allocator(a);
    void *p = al->alloc(al->allocator_data, 100);
    assert_non_null(p);
    al->free(al->allocator_data, p); /* no-op: freed with the arena */
    sl_arena_destroy(a);
}

static void test_json_escape(void **state)
{
    (void)state;
    char buf[64];
    size_t len = 0;
    buf[0] = '\0';
    sl_log_json_escape(buf, sizeof buf, &len, "a\"b\\c\nd\x01");
    assert_string_equal(buf, "a\\\"b\\\\c\\nd\\u0001");
    /* Never overflows, whatever the input. */
    char small[16];
    len = 0;
    sl_log_json_escape(small, sizeof small, &len, "\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"");
    assert_true(len < sizeof small);
    assert_int_equal(small[len], '\0');
}

static void test_level_parse(void **state)
{
    (void)state;
    sl_log_level l;
    assert_int_equal(sl_log_level_parse("warn", &l), 0);
    assert_int_equal(l, SL_LOG_WARN);
    assert_int_equal(sl_log_level_parse("verbose", &l), -1);
    sl_log_init("test", SL_LOG_WARN);
    assert_false(sl_log_enabled(SL_LOG_INFO));
    assert_true(sl_log_enabled(SL_LOG_ERROR));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alignment_and_growth),
        cmocka_unit_test(test_pb_allocator),
        cmocka_unit_test(test_json_escape),
        cmocka_unit_test(test_level_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
