/* check_arena.c - arenas on each backing, the arena pool, and failures. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>

#include "annotate.h"
#include "pool/arena.h"
#include "pool/buddy.h"
#include "testutil.h"

/* ck_assert_msg records a checkpoint (a write to check's pipe) each time it
 * passes; in loops of a million steps only a failure may cost anything. */
/* Debug builds put a redzone after each allocation that has room for one
 * (internal.h); 0 in other builds. */
#define RZ GOMEM__REDZONE

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
    unsigned char *p = gomem_arena_malloc(a, 100), *q = gomem_arena_malloc(a, 8092 - RZ);
    ck_assert_ptr_eq(p, a->base);
    ck_assert_ptr_eq(q, a->base + 100 + RZ);
    memset(p, 1, 100);
    memset(q, 2, 8092 - RZ);
    ck_assert_int_eq(gomem__arena_check(a, 0), 0);
    ck_assert_int_eq(gomem_arena_free(a, q + 10, 8082 - RZ), 0); /* tail */
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
    unsigned char *q = gomem_arena_malloc(a, 4000 - RZ); /* no room for a redzone */
    ck_assert_ptr_eq(q, p + 1000 + RZ);
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
    ck_assert_uint_eq(gomem_arena_free_size(a), 100 + RZ); /* q is RZ smaller */
    ck_assert_int_eq(gomem__arena_check(a, 0), 0);
    ck_assert_int_eq(gomem_arena_free(a, p, 100), 0);               /* head */
    if (RZ) {
        /* A range that holds a redzone byte is refused; one that ends
         * where a redzone starts frees it too. */
        ck_assert_int_eq(gomem_arena_free(a, p + 200, 4800), -EINVAL);
        ck_assert_int_eq(gomem_arena_free(a, p + 200, 801), -EINVAL);
        ck_assert_int_eq(gomem_arena_free(a, p + 1000 + RZ - 1, 2), -EINVAL);
        ck_assert_uint_eq(gomem_arena_free_size(a), 200 + RZ);
        ck_assert_int_eq(gomem_arena_free(a, p + 200, 800), 0);
        ck_assert_int_eq(gomem_arena_free(a, q, 4000 - RZ), 0);
    } else {
        ck_assert_int_eq(gomem_arena_free(a, p + 200, 4800), 0);    /* across allocations */
    }
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
    /* Sizes above 64 MiB are not pooled; each class is capped at 1 MiB of
     * idle arenas (64 at most, 1 at least). */
    gomem_arena_destroy(gomem_arena_new(((size_t)64 << 20) + 1));
    ck_assert_uint_eq(gomem__arena_pool_idle(((size_t)64 << 20) + 1), 0);
    gomem_arena *many[100];
    for (size_t i = 0; i < 100; i++)
        ck_assert_ptr_nonnull(many[i] = gomem_arena_new(1024));
    for (size_t i = 0; i < 100; i++)
        gomem_arena_destroy(many[i]);
    ck_assert_uint_eq(gomem__arena_pool_idle(1024), 64);
    const size_t caps[][2] = {{65536, 16}, {(size_t)1 << 20, 1}, {(size_t)4 << 20, 1}, {(size_t)64 << 20, 1}};
    for (size_t k = 0; k < 4; k++) {
        for (size_t i = 0; i < caps[k][1] + 2; i++)
            ck_assert_ptr_nonnull(many[i] = gomem_arena_new(caps[k][0]));
        for (size_t i = 0; i < caps[k][1] + 2; i++)
            gomem_arena_destroy(many[i]);
        ck_assert_uint_eq(gomem__arena_pool_idle(caps[k][0]), caps[k][1]);
    }
    gomem__arena_pool_drain();
    ck_assert_uint_eq(gomem__arena_pool_idle(1024), 0);
    ck_assert_uint_eq(gomem__arena_pool_idle((size_t)4 << 20), 0);
    ck_assert_uint_eq(gomem__arena_pool_idle((size_t)64 << 20), 0);
}
END_TEST

/* Every size up to 64 MiB has a class (the next power of two from 1 KiB):
 * one idle arena serves each size of its class, on every backing, with its
 * region and tree kept. */
START_TEST(test_classes)
{
    const struct gomem__backing *bk = backings[_i];
    gomem__arena_pool_drain();
    gomem_arena *a = gomem__arena_new_with(bk, 5000);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq(a->region.size, 8192);
    ck_assert_uint_eq(gomem_arena_size(a), 5000);
    ck_assert_int_eq(gomem_arena_contains(a, a->base + 4999), 1);
    ck_assert_int_eq(gomem_arena_contains(a, a->base + 5000), 0);
    EXPECT_NULL_ERRNO(gomem_arena_malloc(a, 5001), ENOMEM);
    unsigned char *p = gomem_arena_malloc(a, 3000);
    ck_assert_ptr_nonnull(p);
    memset(p, 7, 3000);
    unsigned char *base = a->base;
    gomem_arena_destroy(a); /* still holding 3000 bytes */

    gomem_arena *b = gomem__arena_new_with(bk, 8192); /* the same class */
    ck_assert_ptr_eq(b, a);
    ck_assert_ptr_eq(b->base, base);
    ck_assert_uint_eq(gomem_arena_size(b), 8192);
    ck_assert_uint_eq(gomem_arena_free_size(b), 8192);
    ck_assert_int_eq(gomem__arena_check(b, 0), 0);
    ck_assert_ptr_eq(gomem_arena_malloc(b, 8192), base);
    memset(base, 8, 8192);
    gomem_arena_destroy(b);

    gomem_arena *c = gomem__arena_new_with(bk, 4097); /* smaller, same class */
    ck_assert_ptr_eq(c, a);
    ck_assert_uint_eq(gomem_arena_size(c), 4097);
    ck_assert_uint_eq(gomem_arena_free_size(c), 4097);
    ck_assert_int_eq(gomem__arena_check(c, 0), 0);
    gomem_arena *d = gomem__arena_new_with(bk, 4097); /* the cache is empty */
    ck_assert_ptr_nonnull(d);
    ck_assert_ptr_ne(d, c);
    gomem_arena_destroy(c);
    gomem_arena_destroy(d);

    /* Sizes of 1 byte and of exactly 64 MiB are pooled; above is not. */
    gomem_arena *e = gomem__arena_new_with(bk, 1), *f = gomem__arena_new_with(bk, (size_t)64 << 20);
    gomem_arena *g = gomem__arena_new_with(bk, ((size_t)64 << 20) + 1);
    ck_assert_uint_eq(e->region.size, 1024);
    ck_assert_uint_eq(f->region.size, (size_t)64 << 20);
    ck_assert_uint_eq(g->region.size, ((size_t)64 << 20) + 1);
    ck_assert_int_eq(g->pool_class, -1);
    for (gomem_arena **x = (gomem_arena *[]){e, f, g, NULL}; *x; x++) {
        ck_assert_int_eq(gomem__arena_check(*x, 0), 0);
        ck_assert_ptr_nonnull(gomem_arena_malloc(*x, (*x)->size));
        (*x)->base[(*x)->size - 1] = 1;
        gomem_arena_destroy(*x);
    }
    ck_assert_uint_gt(gomem_arena_release_idle(), 0);
}
END_TEST

/* Counts the regions taken from a backing (gomem__arena_fail_hook). */
static size_t regions_taken;

static int count_regions(size_t size)
{
    (void)size;
    regions_taken++;
    return 0;
}

/* The large classes (8 to 64 MiB) keep one idle arena each, on every
 * backing: an arena of 16 or 64 MiB destroyed and made again is the same
 * arena on the same region, taken from no backing (no system call); a
 * smaller size of the class reuses it too; destroying a second idle arena
 * of a class gives it back at once; gomem_arena_release_idle empties the
 * cache. */
START_TEST(test_large)
{
    const struct gomem__backing *bk = backings[_i];
    const size_t mib = (size_t)1 << 20, sizes[] = {16 * mib, 64 * mib};
    gomem__arena_pool_drain();
    for (size_t i = 0; i < 2; i++) {
        size_t size = sizes[i];
        gomem_arena *a = gomem__arena_new_with(bk, size);
        ck_assert_ptr_nonnull(a);
        ck_assert_int_ge(a->pool_class, 0);
        ck_assert_uint_eq(a->region.size, size);
        unsigned char *base = a->base;
        ck_assert_ptr_eq(gomem_arena_malloc(a, 4096), base);
        memset(base, 1, 4096);
        gomem_arena_destroy(a); /* still holding 4096 bytes */
        ck_assert_uint_eq(gomem__arena_pool_idle_with(bk, size), 1);

        regions_taken = 0;
        gomem__arena_fail_hook = count_regions;
        gomem_arena *b = gomem__arena_new_with(bk, size);
        gomem_arena_destroy(b);
        gomem_arena *c = gomem__arena_new_with(bk, size / 2 + 1); /* smaller, same class */
        gomem__arena_fail_hook = NULL;
        ck_assert_uint_eq(regions_taken, 0);
        ck_assert_ptr_eq(b, a);
        ck_assert_ptr_eq(c, a);
        ck_assert_ptr_eq(c->base, base);
        ck_assert_uint_eq(gomem_arena_size(c), size / 2 + 1);
        ck_assert_uint_eq(gomem_arena_free_size(c), size / 2 + 1);
        ck_assert_uint_eq(gomem__arena_pool_idle_with(bk, size), 0);
        ck_assert_int_eq(gomem__arena_check(c, 0), 0);

        /* The bound: two idle arenas of the class, one kept. */
        gomem_arena *d = gomem__arena_new_with(bk, size);
        ck_assert_ptr_nonnull(d);
        ck_assert_ptr_ne(d->base, base);
        gomem_arena_destroy(c);
        gomem_arena_destroy(d);
        ck_assert_uint_eq(gomem__arena_pool_idle_with(bk, size), 1);
        gomem_arena *e = gomem__arena_new_with(bk, size);
        ck_assert_ptr_eq(e, a); /* the first destroyed was kept */
        gomem_arena_destroy(e);
    }
    /* Other backings' caches are their own. */
    for (size_t k = 0; k < 3; k++)
        ck_assert_uint_eq(gomem__arena_pool_idle_with(backings[k], 16 * mib), backings[k] == bk);
    size_t released = gomem_arena_release_idle();
    ck_assert_uint_ge(released, 80 * mib);
    ck_assert_uint_eq(gomem__arena_pool_idle_with(bk, 16 * mib), 0);
    ck_assert_uint_eq(gomem__arena_pool_idle_with(bk, 64 * mib), 0);
    ck_assert_uint_eq(gomem_arena_release_idle(), 0);
    ck_assert_uint_eq(gomem__buddy_pool_count(), 0);
}
END_TEST

/* gomem_arena_release_idle empties the cache of every backing and unmaps
 * the pooled buddies that are idle, and everything works afterwards. */
START_TEST(test_release_idle)
{
    gomem__arena_pool_drain();
    ck_assert_uint_eq(gomem_arena_release_idle(), 0);
    for (size_t i = 0; i < 3; i++)
        gomem_arena_destroy(gomem__arena_new_with(backings[i], 65536));
    ck_assert_uint_eq(gomem__buddy_pool_count(), 1);
    ck_assert_uint_eq(gomem_arena_release_idle(), 3 * 65536 + GOMEM__BUDDY_POOL_SIZE);
    ck_assert_uint_eq(gomem__buddy_pool_count(), 0);
    ck_assert_uint_eq(gomem__arena_pool_idle(65536), 0);

    /* A buddy handed out, or one with a block in use, stays. */
    gomem_buddy *held = gomem_buddy_get();
    ck_assert_ptr_nonnull(held);
    gomem_arena *live = gomem__arena_new_with(&gomem__backing_buddy, ((size_t)64 << 20) + 1);
    ck_assert_ptr_nonnull(live);
    ck_assert_uint_eq(gomem__buddy_pool_count(), 1);
    ck_assert_uint_eq(gomem_arena_release_idle(), 0);
    ck_assert_int_eq(gomem_buddy_put(held), 0);
    ck_assert_uint_eq(gomem_arena_release_idle(), 0); /* live holds a block */
    ck_assert_uint_eq(gomem__buddy_pool_count(), 1);
    memset(live->base, 1, 4096);
    gomem_arena_destroy(live); /* not pooled: its block goes back at once */
    ck_assert_uint_eq(gomem_arena_release_idle(), GOMEM__BUDDY_POOL_SIZE);
    ck_assert_uint_eq(gomem__buddy_pool_count(), 0);

    gomem_arena *a = gomem__arena_new_with(&gomem__backing_buddy, 4096);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(gomem_arena_malloc(a, 4096));
    memset(a->base, 2, 4096);
    gomem_arena_destroy(a);
    ck_assert_uint_eq(gomem_arena_release_idle(), 4096 + GOMEM__BUDDY_POOL_SIZE);
}
END_TEST

/* Threads creating and destroying arenas of every class on every backing
 * at once, while one of them empties the cache now and then: each arena
 * is whole and its own (canaries) and every check holds. */
struct cache_worker {
    uint64_t seed;
    long steps;
    int releases;
    int bad; /* the first failed step + 1, or 0 */
};

static void *cache_worker(void *arg)
{
    struct cache_worker *w = arg;
    uint64_t rng = w->seed;
    for (long step = 0; step < w->steps && !w->bad; step++) {
        const struct gomem__backing *bk = backings[test_range(&rng, 0, 2)];
        size_t size = (size_t)1 << test_range(&rng, 10, 22);
        size = test_range(&rng, size / 2 + 1, size);
        gomem_arena *a = gomem__arena_new_with(bk, size);
        size_t n = test_range(&rng, 1, size < 4096 ? size : 4096);
        unsigned char *p = a ? gomem_arena_malloc(a, n) : NULL;
        if (!p || gomem_arena_size(a) != size || gomem__arena_check(a, 0) != 0) {
            w->bad = (int)step + 1;
            break;
        }
        canary_fill(p, n);
        if (!canary_intact(p, n) || gomem_arena_free(a, p, n) != 0 || gomem_arena_free_size(a) != size)
            w->bad = (int)step + 1;
        gomem_arena_destroy(a);
        if (w->releases && step % 97 == 0)
            (void)gomem_arena_release_idle();
    }
    return NULL;
}

START_TEST(test_threads)
{
    struct cache_worker w[4];
    pthread_t t[4];
    long steps = test_steps(20000);
    for (int i = 0; i < 4; i++) {
        w[i] = (struct cache_worker){test_seed(0xCAC4Eull) + (uint64_t)i * 7919, steps, i == 0, 0};
        ck_assert_int_eq(pthread_create(&t[i], NULL, cache_worker, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(pthread_join(t[i], NULL), 0);
        ck_assert_msg(w[i].bad == 0, "thread %d (seed %#llx) failed at step %d", i,
                      (unsigned long long)w[i].seed, w[i].bad - 1);
    }
    gomem__arena_pool_drain();
    ck_assert_uint_eq(gomem__buddy_pool_count(), 0);
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
    unsigned char map[16384] = {0}, rz[16384 + RZ] = {0}; /* rz: redzone bytes */
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
                    REQUIRE(!map[i] && !rz[i], "seed %#llx step %ld: overlap", (unsigned long long)seed, step);
                    map[i] = (unsigned char)(1 + ((i * 7) % 255));
                    p[i - o] = map[i];
                }
#ifdef GOMEM__DEBUG
                if (gomem__rz_at(a, p + n)) {
                    for (size_t i = o + n; i < o + n + RZ; i++) {
                        REQUIRE(i < size && !map[i] && !rz[i], "seed %#llx step %ld: redzone overlap",
                                (unsigned long long)seed, step);
                        rz[i] = 1;
                    }
                } else {
                    REQUIRE(o + n + RZ > size || map[o + n] || rz[o + n] ||
                                gomem_arena_find(a, n + RZ) == NULL,
                            "seed %#llx step %ld: no redzone though there was room",
                            (unsigned long long)seed, step);
                }
#endif
            } else {
                size_t run = 0, best = 0;
                for (size_t i = 0; i < size; i++) {
                    run = map[i] || rz[i] ? 0 : run + 1;
                    best = run > best ? run : best;
                }
                REQUIRE(errno == ENOMEM && best < n, "seed %#llx step %ld: no room for %zu, free run %zu",
                              (unsigned long long)seed, step, n, best);
            }
        } else {
            /* The canaries are read before the free: freed bytes are no
             * longer the test's to read (memcheck and ASan see to it). */
            for (size_t i = off; all_used && i < off + n; i++)
                REQUIRE(a->base[i] == map[i], "seed %#llx step %ld: canary", (unsigned long long)seed,
                        step);
            int r = gomem_arena_free(a, a->base + off, n);
            REQUIRE(r == (all_used ? 0 : -EINVAL), "seed %#llx step %ld: free = %d",
                          (unsigned long long)seed, step, r);
            if (r == 0) {
                memset(map + off, 0, n);
                if (rz[off + n]) /* the allocation's redzone goes with its last bytes */
                    memset(rz + off + n, 0, RZ);
            }
        }
        REQUIRE(gomem__arena_check(a, 0) == 0, "seed %#llx step %ld: check", (unsigned long long)seed, step);
    }
    gomem_arena_destroy(a);
    gomem__arena_pool_drain();
}
END_TEST

#ifdef GOMEM__DEBUG
/* Debug builds fill freed bytes with GOMEM__FREE_PATTERN: read back (made
 * readable to memcheck and ASan for the purpose, then inaccessible again),
 * a freed byte is the pattern, and its neighbours kept their contents. */
START_TEST(test_free_pattern)
{
    gomem_arena *a = gomem_arena_new(4096);
    ck_assert_ptr_nonnull(a);
    unsigned char *p = gomem_arena_malloc(a, 100);
    ck_assert_ptr_nonnull(p);
    memset(p, 0x11, 100);
    ck_assert_int_eq(gomem_arena_free(a, p + 10, 20), 0);
    GOMEM__ASAN_UNPOISON(p + 10, 20);
    GOMEM__MC_DEFINED(p + 10, 20);
    for (size_t i = 10; i < 30; i++)
        ck_assert_uint_eq(p[i], GOMEM__FREE_PATTERN);
    GOMEM__POOL_FREED(p + 10, 20);
    ck_assert_uint_eq(p[9], 0x11);
    ck_assert_uint_eq(p[30], 0x11);
    ck_assert_int_eq(gomem_arena_free(a, p, 10), 0);
    ck_assert_int_eq(gomem_arena_free(a, p + 30, 70), 0); /* with its redzone */
    ck_assert_uint_eq(gomem_arena_free_size(a), 4096);
    ck_assert_int_eq(gomem__arena_check(a, 0), 0);
    gomem_arena_destroy(a);
}
END_TEST

/* A broken structure stops a debug build at its next call (abort, after a
 * message naming the arena on stderr). */
START_TEST(test_broken_aborts)
{
    gomem_arena *a = gomem_arena_new(4096);
    ck_assert_ptr_nonnull(a);
    a->used += 1; /* the byte accounting no longer adds up */
    (void)gomem_arena_malloc(a, 10);
    ck_abort_msg("a broken arena was not noticed");
}
END_TEST
#endif

int main(void)
{
    Suite *s = suite_create("arena");
    TCase *tc = tcase_create("arena");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_backings, 0, 3);
    tcase_add_test(tc, test_api);
    tcase_add_test(tc, test_pool);
    tcase_add_loop_test(tc, test_classes, 0, 3);
    tcase_add_loop_test(tc, test_large, 0, 3);
    tcase_add_test(tc, test_release_idle);
    tcase_add_test(tc, test_threads);
    tcase_add_test(tc, test_backing_failure);
    tcase_add_test(tc, test_model);
#ifdef GOMEM__DEBUG
    tcase_add_test(tc, test_free_pattern);
    /* Needs a process of its own (check's fork): not under valgrind. */
    const char *fork = getenv("CK_FORK");
    if (!getenv("VALGRIND") && !(fork && !strcmp(fork, "no")))
        tcase_add_test_raise_signal(tc, test_broken_aborts, SIGABRT);
#endif
    suite_add_tcase(s, tc);
    return test_run(s);
}
