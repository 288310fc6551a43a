/* check_buddy.c - the buddy allocator and the shared buddy pool. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "pool/buddy.h"
#include "testutil.h"

/* ck_assert_msg records a checkpoint (a write to check's pipe) each time it
 * passes; in loops of a million steps only a failure may cost anything. */
#define K GOMEM_BUDDY_MIN_BLOCK

START_TEST(test_new_errors)
{
    EXPECT_NULL_ERRNO(gomem_buddy_new(0), EINVAL);
    EXPECT_NULL_ERRNO(gomem_buddy_new(512), EINVAL);
    EXPECT_NULL_ERRNO(gomem_buddy_new(3 * K), EINVAL);
    EXPECT_NULL_ERRNO(gomem_buddy_new(SIZE_MAX), EINVAL);
    errno = 0;
    ck_assert_ptr_null(gomem_buddy_new((SIZE_MAX >> 1) + 1)); /* 2^63: no memory for the tree */
    ck_assert_int_eq(errno, ENOMEM);
    gomem_buddy_destroy(NULL);
    gomem_buddy *b = gomem_buddy_new(K);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_null(gomem_buddy_base(b));
    ck_assert_uint_eq(gomem_buddy_size(b), K);
    ck_assert_uint_eq(gomem_buddy_free_size(b), K);
    ck_assert_int_eq(gomem__buddy_check(b), 0);
    gomem_buddy_destroy(b);
}
END_TEST

START_TEST(test_alloc_free)
{
    gomem_buddy *b = gomem_buddy_new(16 * K);
    size_t off, o1, o2, o3;
    ck_assert_int_eq(gomem_buddy_alloc(NULL, 1, &off), -EINVAL);
    ck_assert_int_eq(gomem_buddy_alloc(b, 0, &off), -EINVAL);
    ck_assert_int_eq(gomem_buddy_alloc(b, 1, NULL), -EINVAL);
    ck_assert_int_eq(gomem_buddy_alloc(b, 16 * K + 1, &off), -EINVAL);
    ck_assert_int_eq(gomem_buddy_alloc(b, SIZE_MAX, &off), -EINVAL);
    /* 1 byte takes a 1 KiB block; 1025 bytes a 2 KiB one, aligned. */
    ck_assert_int_eq(gomem_buddy_alloc(b, 1, &o1), 0);
    ck_assert_uint_eq(o1, 0);
    ck_assert_int_eq(gomem_buddy_alloc(b, K + 1, &o2), 0);
    ck_assert_uint_eq(o2, 2 * K);
    ck_assert_int_eq(gomem_buddy_alloc(b, 4 * K, &o3), 0);
    ck_assert_uint_eq(o3, 4 * K);
    ck_assert_uint_eq(gomem_buddy_free_size(b), 16 * K - 7 * K);
    ck_assert_int_eq(gomem__buddy_check(b), 0);
    /* A 16 KiB request cannot fit any more. */
    ck_assert_int_eq(gomem_buddy_alloc(b, 16 * K, &off), -ENOMEM);
    /* Frees that are not the start of an allocated block. */
    ck_assert_int_eq(gomem_buddy_free(NULL, 0), -EINVAL);
    ck_assert_int_eq(gomem_buddy_free(b, 1), -EINVAL);         /* unaligned */
    ck_assert_int_eq(gomem_buddy_free(b, 16 * K), -EINVAL);    /* out of range */
    ck_assert_int_eq(gomem_buddy_free(b, SIZE_MAX), -EINVAL);  /* far out */
    ck_assert_int_eq(gomem_buddy_free(b, 3 * K), -EINVAL);     /* inside the 2 KiB block */
    ck_assert_int_eq(gomem_buddy_free(b, 5 * K), -EINVAL);     /* inside the 4 KiB block */
    ck_assert_int_eq(gomem_buddy_free(b, K), -EINVAL);         /* free space */
    ck_assert_int_eq(gomem_buddy_free(b, 8 * K), -EINVAL);     /* free space */
    ck_assert_uint_eq(gomem_buddy_free_size(b), 9 * K);
    ck_assert_int_eq(gomem__buddy_check(b), 0);
    ck_assert_int_eq(gomem_buddy_free(b, o2), 0);
    ck_assert_int_eq(gomem_buddy_free(b, o2), -EINVAL); /* double free */
    ck_assert_int_eq(gomem_buddy_free(b, o1), 0);
    ck_assert_int_eq(gomem_buddy_free(b, o3), 0);
    ck_assert_int_eq(gomem__buddy_check(b), 0);
    ck_assert_uint_eq(gomem_buddy_free_size(b), 16 * K);
    /* Everything merged back: the whole range is one block again. */
    ck_assert_int_eq(gomem_buddy_alloc(b, 16 * K, &off), 0);
    ck_assert_uint_eq(off, 0);
    ck_assert_int_eq(gomem_buddy_alloc(b, 1, &off), -ENOMEM);
    ck_assert_int_eq(gomem_buddy_free(b, K), -EINVAL); /* inside the whole block */
    ck_assert_int_eq(gomem_buddy_free(b, 0), 0);
    ck_assert_int_eq(gomem__buddy_check(b), 0);
    /* Fill with 1 KiB blocks, then the 17th fails. */
    for (size_t i = 0; i < 16; i++) {
        ck_assert_int_eq(gomem_buddy_alloc(b, K, &off), 0);
        ck_assert_uint_eq(off, i * K);
    }
    ck_assert_int_eq(gomem_buddy_alloc(b, 1, &off), -ENOMEM);
    ck_assert_int_eq(gomem__buddy_check(b), 0);
    gomem_buddy_destroy(b);
}
END_TEST

/* Randomized model test: a bitmap of 1 KiB units against the buddy, with
 * content canaries in a shadow region at the returned offsets. */
#define MODEL_UNITS 128
#define MODEL_SIZE (MODEL_UNITS * K)

static unsigned char model_shadow[MODEL_SIZE];

static unsigned char canary(size_t off, size_t i)
{
    size_t x = off + i;
    return (unsigned char)(x ^ (x >> 8) ^ (off >> 10) * 37u);
}

START_TEST(test_model)
{
    uint64_t seed = test_seed(0xB0DD1E5ull), rng = seed;
    long steps = test_steps(1000000);
    gomem_buddy *b = gomem_buddy_new(MODEL_SIZE);
    unsigned char used[MODEL_UNITS] = {0};
    size_t live_off[MODEL_UNITS], live_len[MODEL_UNITS], nlive = 0;
    for (long step = 0; step < steps; step++) {
        size_t op = test_range(&rng, 0, 99);
        if (op < 50) {
            size_t n = test_range(&rng, 0, 15) ? test_range(&rng, 1, 4 * K) : test_range(&rng, 1, MODEL_SIZE);
            size_t units = 1;
            while (units * K < n)
                units *= 2;
            int fits = 0; /* an aligned run of units free units? */
            for (size_t u = 0; u < MODEL_UNITS && !fits; u += units) {
                fits = 1;
                for (size_t j = 0; j < units && fits; j++)
                    fits = !used[u + j];
            }
            size_t off = SIZE_MAX;
            int r = gomem_buddy_alloc(b, n, &off);
            REQUIRE(r == (fits ? 0 : -ENOMEM), "seed %#llx step %ld: alloc(%zu) = %d, fits %d",
                          (unsigned long long)seed, step, n, r, fits);
            if (r == 0) {
                REQUIRE(off % (units * K) == 0 && off + units * K <= MODEL_SIZE,
                              "seed %#llx step %ld: bad offset %zu", (unsigned long long)seed, step, off);
                for (size_t j = 0; j < units; j++) {
                    REQUIRE(!used[off / K + j], "seed %#llx step %ld: overlap at %zu",
                                  (unsigned long long)seed, step, off);
                    used[off / K + j] = 1;
                }
                for (size_t i = 0; i < units * K; i++)
                    model_shadow[off + i] = canary(off, i);
                live_off[nlive] = off;
                live_len[nlive++] = units * K;
            }
        } else if (op < 90 && nlive) {
            size_t k = test_range(&rng, 0, nlive - 1), off = live_off[k], len = live_len[k];
            for (size_t i = 0; i < len; i++)
                REQUIRE(model_shadow[off + i] == canary(off, i),
                              "seed %#llx step %ld: canary of block %zu broken at +%zu",
                              (unsigned long long)seed, step, off, i);
            REQUIRE(gomem_buddy_free(b, off) == 0, "seed %#llx step %ld: free(%zu)",
                          (unsigned long long)seed, step, off);
            memset(used + off / K, 0, len / K);
            live_off[k] = live_off[--nlive];
            live_len[k] = live_len[nlive];
        } else {
            /* A free of anything but a live block's start is refused. */
            size_t off = test_range(&rng, 0, 3) ? test_range(&rng, 0, MODEL_UNITS - 1) * K
                                                : test_range(&rng, 0, 2 * MODEL_SIZE);
            int live = 0;
            for (size_t k = 0; k < nlive; k++)
                live |= live_off[k] == off;
            if (!live)
                REQUIRE(gomem_buddy_free(b, off) == -EINVAL, "seed %#llx step %ld: bad free(%zu) accepted",
                              (unsigned long long)seed, step, off);
        }
        size_t bytes = 0;
        for (size_t u = 0; u < MODEL_UNITS; u++)
            bytes += used[u] ? K : 0;
        REQUIRE(gomem_buddy_free_size(b) == MODEL_SIZE - bytes, "seed %#llx step %ld: free size",
                      (unsigned long long)seed, step);
        REQUIRE(gomem__buddy_check(b) == 0, "seed %#llx step %ld: check failed", (unsigned long long)seed,
                      step);
    }
    gomem_buddy_destroy(b);
}
END_TEST

START_TEST(test_pool)
{
    gomem_buddy *b = gomem_buddy_get();
    ck_assert_ptr_nonnull(b);
    unsigned char *base = gomem_buddy_base(b);
    ck_assert_ptr_nonnull(base);
    ck_assert_uint_eq(gomem_buddy_size(b), GOMEM__BUDDY_POOL_SIZE);
    size_t off;
    ck_assert_int_eq(gomem_buddy_alloc(b, 3000, &off), 0);
    memset(base + off, 0xa5, 4096); /* the block is real memory */
    gomem_buddy *c = gomem_buddy_get(); /* b is held: another one */
    ck_assert_ptr_nonnull(c);
    ck_assert_ptr_ne(b, c);
    gomem_buddy_destroy(b); /* ignored for a pooled buddy */
    ck_assert_int_eq(gomem_buddy_put(b), 0);
    ck_assert_int_eq(gomem_buddy_put(b), -EINVAL); /* not held any more */
    ck_assert_int_eq(gomem_buddy_put(c), 0);
    ck_assert_int_eq(gomem_buddy_put(NULL), -EINVAL);
    gomem_buddy *own = gomem_buddy_new(K);
    ck_assert_int_eq(gomem_buddy_put(own), -EINVAL); /* not from the pool */
    gomem_buddy_destroy(own);
    gomem_buddy *again = gomem_buddy_get(); /* an idle one comes back */
    ck_assert(again == b || again == c);
    ck_assert_int_eq(gomem_buddy_put(again), 0);
    ck_assert_int_eq(gomem_buddy_free(b, off), 0);
    ck_assert_int_eq(gomem__buddy_check(b), 0);
}
END_TEST

START_TEST(test_pool_grows)
{
    /* Fill every pooled buddy with 4 MiB blocks (address space only), and
     * the pool must grow by another buddy; free them all afterwards. */
    size_t before = gomem__buddy_pool_count(), max = (before + 2) * (GOMEM__BUDDY_POOL_SIZE >> 22);
    gomem_buddy **owner = calloc(max, sizeof *owner);
    void **p = calloc(max, sizeof *p);
    size_t n = 0;
    while (gomem__buddy_pool_count() == before || n == 0) {
        ck_assert_uint_lt(n, max);
        ck_assert_int_eq(gomem__buddy_pool_alloc((size_t)4 << 20, &owner[n], &p[n]), 0);
        n++;
    }
    ck_assert_uint_eq(gomem__buddy_pool_count(), before + 1);
    memset(p[n - 1], 1, 4096);
    ck_assert_int_eq(gomem__buddy_pool_alloc(0, &owner[0], &p[0]), -EINVAL);
    ck_assert_int_eq(gomem__buddy_pool_alloc(GOMEM__BUDDY_POOL_SIZE + 1, &owner[0], &p[0]), -EINVAL);
    for (size_t i = 0; i < n; i++)
        gomem__buddy_pool_free(owner[i], p[i]);
    for (size_t i = 0; i < n; i++)
        ck_assert_uint_eq(gomem_buddy_free_size(owner[i]), GOMEM__BUDDY_POOL_SIZE);
    free(owner);
    free(p);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("buddy");
    TCase *tc = tcase_create("buddy");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_new_errors);
    tcase_add_test(tc, test_alloc_free);
    tcase_add_test(tc, test_model);
    tcase_add_test(tc, test_pool);
    tcase_add_test(tc, test_pool_grows);
    suite_add_tcase(s, tc);
    return test_run(s);
}
