/* check_arena.c - arenas on each backing, the arena pool, and failures. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "pool/arena.h"
#include "testutil.h"

/* ck_assert_msg records a checkpoint (a write to check's pipe) each time it
 * passes; in loops of a million steps only a failure may cost anything. */
static const struct gomem__backing *const backings[] = {&gomem__backing_heap, &gomem__backing_mmap,
                                                        &gomem__backing_buddy};

START_TEST(test_backings)
{
    const struct gomem__backing *bk = backings[_i];
    struct gomem__region r;
    ck_assert_int_eq(bk->get(0, &r), -EINVAL);
    size_t sizes[] = {1, 1000, 1024, 65536, (size_t)16 << 20};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        ck_assert_int_eq(bk->get(sizes[i], &r), 0);
        ck_assert_ptr_nonnull(r.base);
        ck_assert_uint_eq(r.size, sizes[i]);
        memset(r.base, 0x5a, sizes[i]); /* every byte is ours */
        bk->put(&r);
    }
    /* Sizes no system can give are refused, and the backing still works. */
    ck_assert_int_eq(bk->get(SIZE_MAX - 4095, &r), -ENOMEM);
    ck_assert_int_eq(bk->get(4096, &r), 0);
    bk->put(&r);

    gomem_arena *a = gomem__arena_new_with(bk, 8192);
    ck_assert_ptr_nonnull(a);
    unsigned char *p = gomem_arena_malloc(a, 100), *q = gomem_arena_malloc(a, 8092);
    ck_assert_ptr_eq(p, a->base);
    ck_assert_ptr_eq(q, a->base + 100);
    memset(p, 1, 100);
    memset(q, 2, 8092);
    ck_assert_int_eq(gomem__arena_check(a, 0), 0);
    ck_assert_int_eq(gomem_arena_free(a, q + 10, 8082), 0); /* tail */
    ck_assert_int_eq(gomem_arena_free(a, p, 100), 0);
    ck_assert_int_eq(gomem_arena_free(a, q, 10), 0);
    ck_assert_uint_eq(gomem_arena_free_size(a), 8192);
    ck_assert_int_eq(gomem__arena_check(a, 0), 0);
    gomem_arena_destroy(a);
    EXPECT_NULL_ERRNO(gomem__arena_new_with(bk, 0), EINVAL);
    EXPECT_NULL_ERRNO(gomem__arena_new_with(bk, SIZE_MAX - 4095), ENOMEM);
}
END_TEST

START_TEST(test_api)
{
    EXPECT_NULL_ERRNO(gomem_arena_new(0), EINVAL);
    EXPECT_NULL_ERRNO(gomem_arena_new(SIZE_MAX), ENOMEM);
    gomem_arena_destroy(NULL);

    gomem_arena *a = gomem_arena_new(5000);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(gomem_arena_size(a), 5000);
    ck_assert_uint_eq(gomem_arena_free_size(a), 5000);
    ck_assert_uint_eq(gomem_arena_size(NULL), 0);
    ck_assert_uint_eq(gomem_arena_free_size(NULL), 0);

    EXPECT_NULL_ERRNO(gomem_arena_malloc(NULL, 1), EINVAL);
    EXPECT_NULL_ERRNO(gomem_arena_malloc(a, 0), EINVAL);
    EXPECT_NULL_ERRNO(gomem_arena_malloc(a, 5001), ENOMEM);
    EXPECT_NULL_ERRNO(gomem_arena_malloc(a, SIZE_MAX), ENOMEM);

    unsigned char *f = gomem_arena_find(a, 10);
    unsigned char *p = gomem_arena_malloc(a, 1000);
    ck_assert_ptr_eq(f, p);
    ck_assert_int_eq(gomem_arena_contains(a, p), 1);
    ck_assert_int_eq(gomem_arena_contains(a, p + 4999), 1);
    ck_assert_int_eq(gomem_arena_contains(a, p + 5000), 0);
    ck_assert_int_eq(gomem_arena_contains(a, p - 1), 0);
    ck_assert_int_eq(gomem_arena_contains(NULL, p), 0);
    ck_assert_int_eq(gomem_arena_contains(a, NULL), 0);
    unsigned char *q = gomem_arena_malloc(a, 4000);
    ck_assert_ptr_eq(q, p + 1000);
    EXPECT_NULL_ERRNO(gomem_arena_find(a, 1), ENOMEM);
    EXPECT_NULL_ERRNO(gomem_arena_find(a, 0), EINVAL);
    EXPECT_NULL_ERRNO(gomem_arena_find(NULL, 1), EINVAL);

    int local;
    ck_assert_int_eq(gomem_arena_free(NULL, p, 1), -EINVAL);
    ck_assert_int_eq(gomem_arena_free(a, NULL, 1), -EINVAL);
    ck_assert_int_eq(gomem_arena_free(a, p, 0), -EINVAL);
    ck_assert_int_eq(gomem_arena_free(a, &local, 1), -EINVAL);      /* foreign */
    ck_assert_int_eq(gomem_arena_free(a, p + 4990, 11), -EINVAL);   /* past the end */
    ck_assert_int_eq(gomem_arena_free(a, p + 10, SIZE_MAX), -EINVAL);
    ck_assert_int_eq(gomem_arena_free(a, p + 100, 100), 0);         /* middle */
    ck_assert_int_eq(gomem_arena_free(a, p + 150, 100), -EINVAL);   /* overlaps free */
    ck_assert_int_eq(gomem_arena_free(a, p + 100, 100), -EINVAL);   /* double */
    ck_assert_uint_eq(gomem_arena_free_size(a), 100);
    ck_assert_int_eq(gomem__arena_check(a, 0), 0);
    ck_assert_int_eq(gomem_arena_free(a, p, 100), 0);               /* head */
    ck_assert_int_eq(gomem_arena_free(a, p + 200, 4800), 0);        /* across allocations */
    ck_assert_uint_eq(gomem_arena_free_size(a), 5000);
    ck_assert_int_eq(gomem__arena_check(a, 0), 0);
    gomem_arena_destroy(a);
}
END_TEST

START_TEST(test_pool)
{
    gomem__arena_pool_drain();
    size_t sizes[] = {1024, 4096, 16384};
    for (size_t i = 0; i < 3; i++) {
        ck_assert_uint_eq(gomem__arena_pool_idle(sizes[i]), 0);
        gomem_arena *a = gomem_arena_new(sizes[i]);
        ck_assert_ptr_nonnull(a);
        void *p = gomem_arena_malloc(a, 10);
        ck_assert_ptr_nonnull(p);
        gomem_arena_destroy(a); /* still holding 10 bytes: reset in the pool */
        ck_assert_uint_eq(gomem__arena_pool_idle(sizes[i]), 1);
        gomem_arena *b = gomem_arena_new(sizes[i]);
        ck_assert_ptr_eq(b, a);
        ck_assert_uint_eq(gomem_arena_free_size(b), sizes[i]);
        ck_assert_int_eq(gomem__arena_check(b, 0), 0);
        ck_assert_uint_eq(gomem__arena_pool_idle(sizes[i]), 0);
        gomem_arena_destroy(b);
    }
    /* Other sizes are not pooled; the pool is capped. */
    gomem_arena_destroy(gomem_arena_new(2048));
    ck_assert_uint_eq(gomem__arena_pool_idle(2048), 0);
    gomem_arena *many[100];
    for (size_t i = 0; i < 100; i++)
        ck_assert_ptr_nonnull(many[i] = gomem_arena_new(1024));
    for (size_t i = 0; i < 100; i++)
        gomem_arena_destroy(many[i]);
    ck_assert_uint_eq(gomem__arena_pool_idle(1024), 64);
    gomem__arena_pool_drain();
    ck_assert_uint_eq(gomem__arena_pool_idle(1024), 0);
}
END_TEST

static int fail_all(size_t size)
{
    (void)size;
    return 1;
}

START_TEST(test_backing_failure)
{
    gomem__arena_pool_drain();
    gomem__arena_fail_hook = fail_all;
    EXPECT_NULL_ERRNO(gomem_arena_new(4096), ENOMEM);
    gomem__arena_fail_hook = NULL;
    gomem_arena *a = gomem_arena_new(4096);
    ck_assert_ptr_nonnull(a);
    gomem_arena_destroy(a);
    gomem__arena_pool_drain();
}
END_TEST

/* Randomized model test of an arena: a byte map against the arena, with
 * canaries in allocated memory. */
START_TEST(test_model)
{
    uint64_t seed = test_seed(0xA4E4Aull), rng = seed;
    long steps = test_steps(200000);
    const size_t size = 16384;
    gomem_arena *a = gomem_arena_new(size);
    unsigned char map[16384] = {0};
    for (long step = 0; step < steps; step++) {
        size_t off = test_range(&rng, 0, size - 1), n = test_range(&rng, 1, 512);
        if (n > size - off)
            n = size - off;
        int all_used = 1;
        for (size_t i = off; i < off + n; i++)
            all_used &= map[i] != 0;
        if (test_range(&rng, 0, 1)) {
            unsigned char *p = gomem_arena_malloc(a, n);
            if (p) {
                size_t o = (size_t)(p - a->base);
                for (size_t i = o; i < o + n; i++) {
                    REQUIRE(!map[i], "seed %#llx step %ld: overlap", (unsigned long long)seed, step);
                    map[i] = (unsigned char)(1 + ((i * 7) % 255));
                    p[i - o] = map[i];
                }
            } else {
                size_t run = 0, best = 0;
                for (size_t i = 0; i < size; i++) {
                    run = map[i] ? 0 : run + 1;
                    best = run > best ? run : best;
                }
                REQUIRE(errno == ENOMEM && best < n, "seed %#llx step %ld: no room for %zu, free run %zu",
                              (unsigned long long)seed, step, n, best);
            }
        } else {
            /* Canaries before the free: freed bytes are unaddressable to
             * memcheck and ASan in annotated builds. */
            for (size_t i = off; all_used && i < off + n; i++)
                REQUIRE(a->base[i] == map[i], "seed %#llx step %ld: canary",
                        (unsigned long long)seed, step);
            int r = gomem_arena_free(a, a->base + off, n);
            REQUIRE(r == (all_used ? 0 : -EINVAL), "seed %#llx step %ld: free = %d",
                          (unsigned long long)seed, step, r);
            if (r == 0)
                for (size_t i = off; i < off + n; i++)
                    map[i] = 0;
        }
        REQUIRE(gomem__arena_check(a, 0) == 0, "seed %#llx step %ld: check", (unsigned long long)seed, step);
    }
    gomem_arena_destroy(a);
    gomem__arena_pool_drain();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("arena");
    TCase *tc = tcase_create("arena");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_backings, 0, 3);
    tcase_add_test(tc, test_api);
    tcase_add_test(tc, test_pool);
    tcase_add_test(tc, test_backing_failure);
    tcase_add_test(tc, test_model);
    suite_add_tcase(s, tc);
    return test_run(s);
}
