/* check_recyclable.c - gomem_recyclable_*: each call and each error, and a
 * randomized run against a model. Built twice: check_recyclable uses the
 * backing configure chose, check_recyclable_alt the other one
 * (CHECK_RM_ALT), so every build tests both. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "buffer/buffer.h"
#include "testutil.h"

#ifndef CHECK_RM_ALT
#define CHECK_RM_ALT 0
#endif
/* Segments come from the scalable allocator: the pooled backing was
 * configured, or this is the --disable-rm build's test of the other one. */
#define POOLED (GOMEM_HAVE_RM != CHECK_RM_ALT)

#define CHECK_RM(rm)                                                          \
    do {                                                                      \
        const char *why_ = gomem__memory_check(&(rm)->mem);                  \
        ck_assert_msg(why_ == NULL, "invariant: %s", why_ ? why_ : "");       \
        ck_assert_uint_le((rm)->nowned, (rm)->capowned);                      \
    } while (0)

static gomem_scalable *pool;

static void setup(void)
{
    pool = gomem_scalable_new(4096);
    ck_assert_ptr_nonnull(pool);
}

static void teardown(void)
{
    gomem_scalable_destroy(pool);
}

START_TEST(test_init)
{
    gomem_recyclable rm;
    ck_assert_int_eq(gomem_recyclable_init(NULL, pool), -EINVAL);
    ck_assert_int_eq(gomem_recyclable_init(&rm, NULL), -EINVAL);
    ck_assert_int_eq(gomem_recyclable_init(&rm, pool), 0);
    ck_assert_uint_eq(gomem_memory_size(&rm.mem), 0);
    gomem_recyclable_recycle(&rm); /* empty: nothing to do */
    gomem_recyclable_destroy(&rm);
    gomem_recyclable_destroy(&rm);
    gomem_recyclable_destroy(NULL);
    gomem_recyclable_recycle(NULL);
}
END_TEST

START_TEST(test_next_add)
{
    gomem_recyclable rm;
    static const uint8_t mine[5] = {'h', 'e', 'l', 'l', 'o'};
    gomem_recyclable_init(&rm, pool);
    uint8_t *a = gomem_recyclable_next(&rm, 3);
    ck_assert_ptr_nonnull(a);
    memcpy(a, "abc", 3);
    ck_assert_int_eq(gomem_recyclable_add(&rm, mine, sizeof mine), 0);
    uint8_t *b = gomem_recyclable_next(&rm, 4000);
    ck_assert_ptr_nonnull(b);
    memset(b, 'z', 4000);
    ck_assert_uint_eq(rm.mem.count, 3);
    ck_assert_uint_eq(rm.mem.size, 4008);
    ck_assert_ptr_eq(rm.mem.iov[0].iov_base, a);
    ck_assert_ptr_eq(rm.mem.iov[1].iov_base, mine);
    ck_assert_ptr_eq(rm.mem.iov[2].iov_base, b);
    CHECK_RM(&rm);

    /* Errors change nothing. */
    EXPECT_NULL_ERRNO(gomem_recyclable_next(&rm, 0), EINVAL);
    EXPECT_NULL_ERRNO(gomem_recyclable_next(NULL, 1), EINVAL);
    errno = 0;
    ck_assert_ptr_null(gomem_recyclable_next(&rm, SIZE_MAX - 10)); /* size would overflow */
    ck_assert_int_eq(errno, EOVERFLOW);
    EXPECT_NULL_ERRNO(gomem_recyclable_next(&rm, (size_t)1 << 60), ENOMEM);
    ck_assert_int_eq(gomem_recyclable_add(&rm, NULL, 1), -EINVAL);
    ck_assert_int_eq(gomem_recyclable_add(NULL, mine, 1), -EINVAL);
    ck_assert_uint_eq(rm.mem.count, 3);
    ck_assert_uint_eq(rm.mem.size, 4008);
    CHECK_RM(&rm);

    uint8_t *all = gomem_memory_to_bytes(&rm.mem);
    ck_assert_mem_eq(all, "abchello", 8);
    ck_assert_int_eq(all[4007], 'z');
    free(all);

    /* Recycle frees what next handed out, never what add referenced (a
     * static array here: freeing it would crash). */
    gomem_recyclable_recycle(&rm);
    ck_assert_uint_eq(rm.mem.count, 0);
    ck_assert_uint_eq(rm.mem.size, 0);
    ck_assert_uint_eq(rm.nowned, 0);
    if (POOLED) /* the pool refuses to free them again: they are free */
        ck_assert_int_eq(gomem_scalable_free(pool, b, 4000), -EINVAL);
    ck_assert_mem_eq(mine, "hello", 5);

    /* Reusable after recycle. */
    a = gomem_recyclable_next(&rm, 10);
    ck_assert_ptr_nonnull(a);
    memset(a, 1, 10);
    ck_assert_uint_eq(rm.mem.size, 10);
    gomem_recyclable_destroy(&rm);
}
END_TEST

static void no_free(void *base, size_t len, void *arg)
{
    (void)base;
    *(size_t *)arg += len;
}

/* Whatever happens to rm->mem (update, clip_front), recycle frees exactly
 * the segments next handed out, once each. */
START_TEST(test_recycle_after_changes)
{
    gomem_recyclable rm;
    uint8_t mine[16];
    gomem_recyclable_init(&rm, pool);
    for (int i = 0; i < 6; i++) {
        uint8_t *p = gomem_recyclable_next(&rm, 100);
        ck_assert_ptr_nonnull(p);
        memset(p, i, 100);
    }
    ck_assert_int_eq(gomem_memory_update(&rm.mem, 2, mine, sizeof mine), 0);
    gomem_reader r;
    gomem_reader_init(&r, &rm.mem);
    ck_assert_int_eq(gomem_reader_skip(&r, 150), 0);
    size_t clipped = 0;
    ck_assert_int_eq(gomem_reader_clip_front(&r, no_free, &clipped), 0);
    ck_assert_uint_eq(clipped, 150);
    ck_assert_uint_eq(rm.mem.size, 600 - 100 + 16 - 150);
    uint8_t b;
    ck_assert_int_eq(gomem_reader_read_u8(&r, &b), 0);
    ck_assert_int_eq(b, 1);
    CHECK_RM(&rm);
    gomem_recyclable_recycle(&rm); /* valgrind: no leak, no double free */
    ck_assert_uint_eq(rm.mem.count, 0);
    gomem_recyclable_destroy(&rm);
}
END_TEST

START_TEST(test_clone)
{
    gomem_recyclable rm;
    gomem_memory c;
    static const uint8_t mine[3] = {7, 8, 9};
    gomem_recyclable_init(&rm, pool);
    memset(gomem_recyclable_next(&rm, 50), 1, 50);
    gomem_recyclable_add(&rm, mine, 3);
    memset(gomem_recyclable_next(&rm, 60), 2, 60);
    ck_assert_int_eq(gomem_recyclable_clone(&rm, &c), 0);
    ck_assert_uint_eq(c.count, 3);
    ck_assert_uint_eq(c.size, 113);
    for (size_t i = 0; i < 3; i++) /* the same segments, not copies */
        ck_assert_ptr_eq(c.iov[i].iov_base, rm.mem.iov[i].iov_base);
    ck_assert_int_eq(gomem_memory_equal(&c, &rm.mem), 1);
    /* The clone owns nothing: destroying it frees no segment. */
    gomem_memory_destroy(&c);
    ck_assert_int_eq(gomem_memory_equal(&c, &rm.mem), 0);
    ck_assert_int_eq(((uint8_t *)rm.mem.iov[2].iov_base)[59], 2);

    ck_assert_int_eq(gomem_recyclable_clone(NULL, &c), -EINVAL);
    ck_assert_uint_eq(c.count, 0);
    ck_assert_int_eq(gomem_recyclable_clone(&rm, NULL), -EINVAL);
    gomem_recyclable_destroy(&rm); /* destroy recycles */
}
END_TEST

/* The benchmark's pattern, at random: up to 10 next of 128..4096 bytes,
 * a few adds, a clone now and then, then one recycle; contents checked
 * against a model before each recycle. */
START_TEST(test_model)
{
    uint64_t seed = test_seed(0x726563796c65ULL), st = seed;
    long rounds = test_steps(5000);
    static uint8_t mine[64];
    static uint8_t want[10 * 4096 + 10 * 64], got[sizeof want];
    gomem_recyclable rm;
    gomem_recyclable_init(&rm, pool);
    for (long round = 0; round < rounds; round++) {
        size_t k = test_range(&st, 0, 10), size = 0;
        for (size_t i = 0; i < k; i++) {
            if (test_range(&st, 0, 4) == 0) {
                size_t n = test_range(&st, 0, sizeof mine);
                ck_assert_int_eq(gomem_recyclable_add(&rm, mine, n), 0);
                memcpy(want + size, mine, n);
                size += n;
            } else {
                size_t n = test_range(&st, 128, 4096);
                uint8_t *p = gomem_recyclable_next(&rm, n);
                ck_assert_msg(p != NULL, "seed %#llx round %ld", (unsigned long long)seed, round);
                memset(p, (int)(round + (long)i), n);
                memset(want + size, (int)(round + (long)i), n);
                size += n;
            }
            CHECK_RM(&rm);
        }
        if (test_range(&st, 0, 3) == 0) {
            gomem_memory c;
            ck_assert_int_eq(gomem_recyclable_clone(&rm, &c), 0);
            ck_assert_int_eq(gomem_memory_equal(&c, &rm.mem), 1);
            gomem_memory_destroy(&c);
        }
        ck_assert_uint_eq(gomem_memory_copy_to(&rm.mem, got, sizeof got), size);
        ck_assert_msg(!memcmp(want, got, size), "seed %#llx round %ld: bytes",
                      (unsigned long long)seed, round);
        gomem_recyclable_recycle(&rm);
        CHECK_RM(&rm);
    }
    gomem_recyclable_destroy(&rm);
}
END_TEST

START_TEST(test_allocator)
{
    gomem_recyclable rm;
    gomem_scalable *other = gomem_scalable_new(4096);
    ck_assert_ptr_nonnull(other);
    gomem_recyclable_init(&rm, pool);
    ck_assert_ptr_eq(gomem_recyclable_get_allocator(&rm), pool);
    EXPECT_NULL_ERRNO(gomem_recyclable_get_allocator(NULL), EINVAL);
    ck_assert_int_eq(gomem_recyclable_set_allocator(NULL, other), -EINVAL);
    ck_assert_int_eq(gomem_recyclable_set_allocator(&rm, NULL), -EINVAL);
    ck_assert_ptr_eq(gomem_recyclable_get_allocator(&rm), pool);

    /* Segments from add do not hold the allocator. */
    static const uint8_t mine[4] = {1, 2, 3, 4};
    ck_assert_int_eq(gomem_recyclable_add(&rm, mine, sizeof mine), 0);
    ck_assert_int_eq(gomem_recyclable_set_allocator(&rm, other), 0);
    ck_assert_ptr_eq(gomem_recyclable_get_allocator(&rm), other);

    /* A segment from next does: refused, nothing changes. */
    uint8_t *a = gomem_recyclable_next(&rm, 100);
    ck_assert_ptr_nonnull(a);
    memset(a, 'a', 100);
    ck_assert_int_eq(gomem_recyclable_set_allocator(&rm, pool), -EBUSY);
    ck_assert_ptr_eq(gomem_recyclable_get_allocator(&rm), other);
    ck_assert_int_eq(gomem_recyclable_set_allocator(&rm, other), 0); /* the same one */
    ck_assert_uint_eq(rm.mem.count, 2);
    ck_assert_uint_eq(rm.mem.size, 104);
    CHECK_RM(&rm);
    struct gomem_scalable_stats st;
    ck_assert_int_eq(gomem_scalable_stats(other, &st), 0);
    ck_assert_uint_eq(st.in_use, POOLED ? 100 + GOMEM__REDZONE : 0); /* debug builds: a redzone */

    /* After recycle the switch goes through, and each segment went back to
     * the allocator it came from. */
    gomem_recyclable_recycle(&rm);
    ck_assert_int_eq(gomem_scalable_stats(other, &st), 0);
    ck_assert_uint_eq(st.in_use, 0);
    ck_assert_int_eq(gomem_recyclable_set_allocator(&rm, pool), 0);
    ck_assert_ptr_eq(gomem_recyclable_get_allocator(&rm), pool);
    ck_assert_ptr_nonnull(gomem_recyclable_next(&rm, 50));
    ck_assert_int_eq(gomem_scalable_stats(pool, &st), 0);
    ck_assert_uint_eq(st.in_use, POOLED ? 50 + GOMEM__REDZONE : 0);
    gomem_recyclable_destroy(&rm);
    ck_assert_int_eq(gomem_scalable_stats(pool, &st), 0);
    ck_assert_uint_eq(st.in_use, 0);
    gomem_scalable_destroy(other);
}
END_TEST

START_TEST(test_reserve)
{
    gomem_recyclable rm;
    gomem_recyclable_init(&rm, pool);
    ck_assert_int_eq(gomem_recyclable_reserve(NULL, 4), -EINVAL);
    ck_assert_int_eq(gomem_recyclable_reserve(&rm, 0), 0);
    ck_assert_int_eq(gomem_recyclable_reserve(&rm, 100), 0);
    ck_assert_uint_ge(rm.capowned, 100);
    ck_assert_uint_ge(rm.mem.cap, 100);
    ck_assert_uint_eq(rm.mem.count, 0);
    /* The next 100 segments fit without moving either list. */
    const struct iovec *owned = rm.owned, *iov = rm.mem.iov;
    for (int i = 0; i < 100; i++)
        ck_assert_ptr_nonnull(gomem_recyclable_next(&rm, 10));
    ck_assert_ptr_eq(rm.owned, owned);
    ck_assert_ptr_eq(rm.mem.iov, iov);
    CHECK_RM(&rm);
    /* Room that cannot exist: refused, nothing changes. */
    ck_assert_int_lt(gomem_recyclable_reserve(&rm, SIZE_MAX / 2), 0);
    ck_assert_int_lt(gomem_recyclable_reserve(&rm, SIZE_MAX), 0);
    ck_assert_uint_eq(rm.mem.count, 100);
    ck_assert_uint_eq(rm.mem.size, 1000);
    CHECK_RM(&rm);
    gomem_recyclable_destroy(&rm);
}
END_TEST

START_TEST(test_copy_from)
{
    gomem_recyclable rm;
    gomem_memory src;
    static const uint8_t a[3] = {1, 2, 3}, b[4] = {4, 5, 6, 7};
    gomem_memory_init(&src);
    gomem_memory_push(&src, a, sizeof a);
    gomem_memory_push(&src, b, sizeof b);
    gomem_recyclable_init(&rm, pool);
    EXPECT_NULL_ERRNO(gomem_recyclable_copy_from(NULL, &src), EINVAL);
    EXPECT_NULL_ERRNO(gomem_recyclable_copy_from(&rm, NULL), EINVAL);
    gomem_memory empty;
    gomem_memory_init(&empty);
    EXPECT_NULL_ERRNO(gomem_recyclable_copy_from(&rm, &empty), EINVAL);
    ck_assert_uint_eq(rm.mem.count, 0);

    uint8_t *c = gomem_recyclable_copy_from(&rm, &src);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(rm.mem.count, 1);
    ck_assert_uint_eq(rm.mem.size, 7);
    ck_assert_ptr_eq(rm.mem.iov[0].iov_base, c);
    ck_assert_int_eq(gomem_memory_equal(&rm.mem, &src), 1);
    /* A copy of itself: the new segment holds the 7 bytes before it. */
    uint8_t *d = gomem_recyclable_copy_from(&rm, &rm.mem);
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(rm.mem.count, 2);
    ck_assert_uint_eq(rm.mem.size, 14);
    ck_assert_int_eq(memcmp(d, c, 7), 0);
    CHECK_RM(&rm);
    ck_assert_uint_eq(rm.nowned, 2); /* both go back at recycle */
    gomem_recyclable_destroy(&rm);   /* valgrind: nothing leaks */
    gomem_memory_destroy(&src);
}
END_TEST

int main(void)
{
    Suite *s = suite_create(CHECK_RM_ALT ? "recyclable (other backing)" : "recyclable");
    TCase *tc = tcase_create("recyclable");
    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_init);
    tcase_add_test(tc, test_next_add);
    tcase_add_test(tc, test_recycle_after_changes);
    tcase_add_test(tc, test_clone);
    tcase_add_test(tc, test_model);
    tcase_add_test(tc, test_allocator);
    tcase_add_test(tc, test_reserve);
    tcase_add_test(tc, test_copy_from);
    suite_add_tcase(s, tc);
    return test_run(s);
}
