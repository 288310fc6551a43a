/* check_scalable.c - the scalable allocator: every call, every error, and
 * a randomized model test with content canaries. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "annotate.h"
#include "pool/arena.h"
#include "pool/scalable.h"
#include "testutil.h"

/* ck_assert_msg records a checkpoint (a write to check's pipe) each time it
 * passes; in loops of a million steps only a failure may cost anything. */
#define MIB ((size_t)1 << 20)
/* Debug builds put a redzone after each allocation that has room for one
 * (internal.h); 0 in other builds. */
#define RZ GOMEM__REDZONE

static struct gomem_scalable_stats stats(gomem_scalable *s)
{
    struct gomem_scalable_stats st;
    ck_assert_int_eq(gomem_scalable_stats(s, &st), 0);
    return st;
}

START_TEST(test_errors)
{
    EXPECT_NULL_ERRNO(gomem_scalable_new(0), EINVAL);
    EXPECT_NULL_ERRNO(gomem_scalable_new(SIZE_MAX), ENOMEM);
    gomem_scalable_destroy(NULL);
    gomem_scalable *s = gomem_scalable_new(1024);
    ck_assert_ptr_nonnull(s);
    EXPECT_NULL_ERRNO(gomem_scalable_malloc(NULL, 1), EINVAL);
    EXPECT_NULL_ERRNO(gomem_scalable_malloc(s, 0), EINVAL);
    EXPECT_NULL_ERRNO(gomem_scalable_malloc(s, SIZE_MAX), ENOMEM);
    EXPECT_NULL_ERRNO(gomem_scalable_malloc(s, SIZE_MAX / 2), ENOMEM);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    EXPECT_NULL_ERRNO(gomem_scalable_borrow(NULL, 1), EINVAL);
    EXPECT_NULL_ERRNO(gomem_scalable_borrow(s, 0), EINVAL);
    EXPECT_NULL_ERRNO(gomem_scalable_borrow(s, SIZE_MAX), ENOMEM);

    unsigned char *p = gomem_scalable_malloc(s, 100);
    ck_assert_ptr_nonnull(p);
    int local;
    static char foreign[64];
    ck_assert_int_eq(gomem_scalable_free(NULL, p, 1), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(s, NULL, 1), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(s, p, 0), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(s, &local, 4), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(s, foreign, 64), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(s, p, 101), -EINVAL);          /* into free space */
    ck_assert_int_eq(gomem_scalable_free(s, p + 100, 1), -EINVAL);      /* free space */
    ck_assert_int_eq(gomem_scalable_free(s, p, 1024 + 1), -EINVAL);     /* past the arena */
    ck_assert_int_eq(gomem_scalable_free(s, p + 50, SIZE_MAX), -EINVAL); /* wraps */
    ck_assert_int_eq(gomem_scalable_free(s, (void *)(UINTPTR_MAX - 3), 8), -EINVAL);
    ck_assert_uint_eq(stats(s).in_use, 100);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    ck_assert_int_eq(gomem_scalable_free(s, p + 10, 10), 0);   /* middle */
    ck_assert_int_eq(gomem_scalable_free(s, p + 10, 10), -EINVAL); /* double */
    ck_assert_int_eq(gomem_scalable_free(s, p + 5, 10), -EINVAL);  /* overlaps */
    ck_assert_int_eq(gomem_scalable_free(s, p, 10), 0);
    ck_assert_int_eq(gomem_scalable_free(s, p + 20, 80), 0);
    ck_assert_int_eq(gomem_scalable_free(s, p + 20, 80), -EINVAL); /* double, bump tail */
    ck_assert_int_eq(gomem_scalable_free(s, p, 100), -EINVAL);
    ck_assert_uint_eq(stats(s).in_use, 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);

    ck_assert_int_eq(gomem_scalable_free_rest(NULL, p, 1, 0), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free_rest(s, p, 10, 11), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free_rest(s, NULL, 10, 1), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free_rest(s, p, 0, 0), -EINVAL);
    ck_assert_int_eq(gomem_scalable_stats(NULL, NULL), -EINVAL);
    ck_assert_int_eq(gomem_scalable_stats(s, NULL), -EINVAL);
    ck_assert_uint_eq(gomem_scalable_trim(NULL), 0);
    void *out = &local;
    ck_assert_int_eq(gomem_scalable_read(NULL, 0, 1, &out), -EINVAL);
    ck_assert_int_eq(gomem_scalable_read(s, 0, 1, NULL), -EINVAL);
    ck_assert_int_eq(gomem_scalable_read(s, 0, 0, &out), -EINVAL);
    ck_assert_int_eq(gomem_scalable_read(s, -1, 10, &out), -EBADF);
    ck_assert_ptr_null(out);
    ck_assert_uint_eq(stats(s).in_use, 0);
    gomem_scalable_destroy(s);
}
END_TEST

/* Sub-ranges of chunk allocations (above the size classes). */
START_TEST(test_partial_and_rest)
{
    gomem_scalable *s = gomem_scalable_new(16384);
    unsigned char *a = gomem_scalable_malloc(s, 5000), *b = gomem_scalable_malloc(s, 5000);
    ck_assert_ptr_eq(b, a + 5000 + RZ);
    memset(a, 1, 5000);
    memset(b, 2, 5000);
    ck_assert_int_eq(gomem_scalable_free_rest(s, a, 5000, 100), 0); /* keep the head */
    ck_assert_int_eq(gomem_scalable_free_rest(s, a, 100, 100), 0);  /* nothing */
    ck_assert_uint_eq(stats(s).in_use, 5100);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    ck_assert_int_eq(gomem_scalable_free(s, a + 100, 1), -EINVAL); /* freed by free_rest */
    ck_assert_int_eq(gomem_scalable_free(s, b + 4900, 100), 0); /* tail: bump */
    ck_assert_int_eq(gomem_scalable_free(s, b, 100), 0);        /* head */
    ck_assert_int_eq(gomem_scalable_free(s, b + 400, 100), 0);  /* middle */
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    ck_assert_int_eq(gomem_scalable_free(s, b + 100, 300), 0);
    ck_assert_int_eq(gomem_scalable_free(s, b + 500, 4400), 0);
    ck_assert_int_eq(gomem_scalable_free(s, a, 100), 0);
    struct gomem_scalable_stats st = stats(s);
    ck_assert_uint_eq(st.in_use, 0);
    ck_assert_uint_eq(st.malloc_bytes, 10000);
    ck_assert_uint_eq(st.free_bytes, 10000);
    ck_assert_uint_eq(st.arenas, 1);
    ck_assert_uint_eq(st.capacity, 16384);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    /* All free again: the whole arena serves one request. */
    unsigned char *c = gomem_scalable_malloc(s, 16384);
    ck_assert_ptr_eq(c, a);
    ck_assert_uint_eq(stats(s).arenas, 1);
    ck_assert_int_eq(gomem_scalable_free(s, c, 16384), 0);
    gomem_scalable_destroy(s);
}
END_TEST

START_TEST(test_growth)
{
    gomem_scalable *s = gomem_scalable_new(8192);
    void *p[16];
    size_t expect_cap = 8192;
    /* Fill arena after arena (chunk allocations, above the size classes):
     * each new one is twice the last, to 4 MiB. */
    p[0] = gomem_scalable_malloc(s, 8192);
    for (int i = 1; i < 11; i++) {
        size_t size = (size_t)8192 << i;
        if (size > 4 * MIB)
            size = 4 * MIB;
        p[i] = gomem_scalable_malloc(s, size);
        ck_assert_ptr_nonnull(p[i]);
        expect_cap += size;
        struct gomem_scalable_stats st = stats(s);
        ck_assert_uint_eq(st.capacity, expect_cap);
        ck_assert_uint_eq(st.arenas, (size_t)i + 1);
        ck_assert_int_eq(gomem__scalable_check(s), 0);
    }
    /* Above 4 MiB: an arena of its own, freed in parts. */
    unsigned char *big = gomem_scalable_malloc(s, 10 * MIB + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, 7, 10 * MIB + 1);
    ck_assert_uint_eq(stats(s).capacity, expect_cap + 10 * MIB + 1);
    ck_assert_int_eq(gomem_scalable_free(s, big + MIB, MIB), 0);
    ck_assert_int_eq(gomem_scalable_free(s, big + 10 * MIB, 2), -EINVAL); /* past it */
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    ck_assert_int_eq(gomem_scalable_free(s, big, MIB), 0);
    ck_assert_int_eq(gomem_scalable_free(s, big + 2 * MIB, 8 * MIB + 1), 0);
    /* Wholly free, and not the one to keep: gone. */
    ck_assert_uint_eq(stats(s).capacity, expect_cap);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    /* Free the others; every arena but one goes back. */
    for (int i = 10; i >= 0; i--) {
        size_t size = (size_t)8192 << i;
        ck_assert_int_eq(gomem_scalable_free(s, p[i], size > 4 * MIB ? 4 * MIB : size), 0);
        ck_assert_int_eq(gomem__scalable_check(s), 0);
    }
    struct gomem_scalable_stats st = stats(s);
    ck_assert_uint_eq(st.in_use, 0);
    ck_assert_uint_eq(st.arenas, 1);
    ck_assert_uint_gt(gomem_scalable_trim(s), 0);
    st = stats(s);
    ck_assert_uint_eq(st.arenas, 0);
    ck_assert_uint_eq(st.capacity, 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    /* Usable after trimming everything. */
    void *q = gomem_scalable_malloc(s, 10);
    ck_assert_ptr_nonnull(q);
    ck_assert_uint_eq(gomem_scalable_trim(s), 0); /* nothing wholly free */
    ck_assert_int_eq(gomem_scalable_free(s, q, 10), 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    gomem_scalable_destroy(s);
}
END_TEST

START_TEST(test_borrow)
{
    gomem_scalable *s = gomem_scalable_new(1024);
    unsigned char *b = gomem_scalable_borrow(s, 5000);
    ck_assert_ptr_nonnull(b);
    memset(b, 3, 5000);
    struct gomem_scalable_stats st = stats(s);
    ck_assert_uint_eq(st.malloc_bytes, 0);
    ck_assert_uint_eq(st.in_use, 0);
    ck_assert_int_eq(gomem_scalable_free(s, b, 5000), -EINVAL); /* not allocated */
    unsigned char *p = gomem_scalable_malloc(s, 5000); /* from the chunk, as borrow */
    ck_assert_ptr_eq(p, b);
    /* A borrow larger than what is left grows the allocator. */
    unsigned char *big = gomem_scalable_borrow(s, 100000);
    ck_assert_ptr_nonnull(big);
    memset(big, 4, 100000);
    ck_assert_uint_eq(stats(s).in_use, 5000);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    ck_assert_int_eq(gomem_scalable_free(s, p, 5000), 0);
    ck_assert_uint_eq(stats(s).in_use, 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    gomem_scalable_destroy(s);
}
END_TEST

START_TEST(test_read)
{
    gomem_scalable *s = gomem_scalable_new(4096);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    ck_assert_int_eq(write(fds[1], "hello, world", 12), 12);
    void *out = NULL;
    ck_assert_int_eq(gomem_scalable_read(s, fds[0], 100, &out), 12);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(memcmp(out, "hello, world", 12), 0);
    ck_assert_uint_eq(stats(s).in_use, 12); /* the tail went back */
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    ck_assert_int_eq(gomem_scalable_free(s, (char *)out + 12, 1), -EINVAL);
    /* A short request reads only that much. */
    ck_assert_int_eq(write(fds[1], "abcdef", 6), 6);
    void *o2;
    ck_assert_int_eq(gomem_scalable_read(s, fds[0], 4, &o2), 4);
    ck_assert_int_eq(memcmp(o2, "abcd", 4), 0);
    ck_assert_int_eq(gomem_scalable_free(s, o2, 4), 0);
    ck_assert_int_eq(gomem_scalable_read(s, fds[0], 4, &o2), 2);
    ck_assert_int_eq(gomem_scalable_free(s, o2, 2), 0);
    /* Non-blocking and empty: -EAGAIN, nothing allocated. */
    ck_assert_int_eq(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
    ck_assert_int_eq(gomem_scalable_read(s, fds[0], 100, &o2), -EAGAIN);
    ck_assert_ptr_null(o2);
    ck_assert_uint_eq(stats(s).in_use, 12);
    /* End of file: 0, nothing allocated, no counter moved. */
    close(fds[1]);
    struct gomem_scalable_stats before = stats(s);
    ck_assert_int_eq(gomem_scalable_read(s, fds[0], 100, &o2), 0);
    ck_assert_ptr_null(o2);
    ck_assert_int_eq(gomem_scalable_read(s, fds[0], 5 * MIB, &o2), 0); /* a big one too */
    ck_assert_ptr_null(o2);
    struct gomem_scalable_stats after = stats(s);
    ck_assert_uint_eq(after.in_use, 12);
    ck_assert_uint_eq(after.malloc_bytes, before.malloc_bytes);
    ck_assert_uint_eq(after.free_bytes, before.free_bytes);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    close(fds[0]);
    ck_assert_int_eq(gomem_scalable_read(s, fds[0], 100, &o2), -EBADF);
    ck_assert_int_eq(gomem_scalable_free(s, out, 12), 0);
    ck_assert_uint_eq(stats(s).in_use, 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    gomem_scalable_destroy(s);
}
END_TEST

static int fail_backing;
static int fail_hook(size_t size)
{
    (void)size;
    return fail_backing;
}

START_TEST(test_backing_failure)
{
    gomem__arena_pool_drain();
    gomem__arena_fail_hook = fail_hook;
    fail_backing = 1;
    EXPECT_NULL_ERRNO(gomem_scalable_new(4096), ENOMEM);
    fail_backing = 0;
    gomem_scalable *s = gomem_scalable_new(8192);
    ck_assert_ptr_nonnull(s);
    void *p = gomem_scalable_malloc(s, 8000);
    ck_assert_ptr_nonnull(p);
    fail_backing = 1;
    errno = 0;
    ck_assert_ptr_null(gomem_scalable_malloc(s, 8000)); /* needs a new arena */
    ck_assert_int_eq(errno, ENOMEM);
    EXPECT_NULL_ERRNO(gomem_scalable_borrow(s, 8000), ENOMEM);
    /* No arena for a span: a small request is served from the chunk. */
    void *q = gomem_scalable_malloc(s, 96);
    ck_assert_ptr_nonnull(q);
    ck_assert_ptr_eq(q, (unsigned char *)p + 8000 + RZ);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    fail_backing = 0;
    void *r = gomem_scalable_malloc(s, 8000);
    ck_assert_ptr_nonnull(r);
    void *t = gomem_scalable_malloc(s, 96); /* a span now */
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(gomem_scalable_free(s, p, 8000), 0);
    ck_assert_int_eq(gomem_scalable_free(s, q, 96), 0);
    ck_assert_int_eq(gomem_scalable_free(s, q, 96), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(s, r, 8000), 0);
    ck_assert_int_eq(gomem_scalable_free(s, t, 96), 0);
    ck_assert_uint_eq(stats(s).in_use, 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    gomem__arena_fail_hook = NULL;
    gomem_scalable_destroy(s);
    gomem__arena_pool_drain();
}
END_TEST


/* A first arena above 4 MiB does not make later ones as large. */
START_TEST(test_growth_cap)
{
    gomem_scalable *s = gomem_scalable_new(8 * MIB);
    void *big = gomem_scalable_malloc(s, 8 * MIB);
    ck_assert_ptr_nonnull(big);
    void *one = gomem_scalable_malloc(s, 1);
    ck_assert_ptr_nonnull(one);
    struct gomem_scalable_stats st = stats(s);
    ck_assert_uint_eq(st.arenas, 2);
    ck_assert_uint_eq(st.capacity, 8 * MIB + 4 * MIB);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    ck_assert_int_eq(gomem_scalable_free(s, big, 8 * MIB), 0);
    ck_assert_int_eq(gomem_scalable_free(s, one, 1), 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    gomem_scalable_destroy(s);
}
END_TEST

/* Out-of-order frees held by the thread: coalesced, popped back to the
 * chunk, refused when freed twice, given to the tree when too many
 * (chunk allocations: above the size classes). */
START_TEST(test_pending)
{
    gomem_scalable *s = gomem_scalable_new(MIB);
    unsigned char *p[60];
    for (int i = 0; i < 60; i++) {
        p[i] = gomem_scalable_malloc(s, 4100);
        ck_assert_ptr_nonnull(p[i]);
        canary_fill(p[i], 4100);
    }
    for (int i = 0; i < 59; i += 2) /* every other one: 30 separate blocks */
        ck_assert_int_eq(gomem_scalable_free(s, p[i], 4100), 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    for (int i = 0; i < 59; i += 2) {
        ck_assert_int_eq(gomem_scalable_free(s, p[i], 4100), -EINVAL);
        ck_assert_int_eq(gomem_scalable_free(s, p[i] + 4099, 2), -EINVAL); /* meets p[i + 1] too */
    }
    ck_assert_uint_eq(stats(s).in_use, 30 * 4100);
    for (int i = 1; i < 60; i += 2) {
        ck_assert(canary_intact(p[i], 4100));
        ck_assert_int_eq(gomem_scalable_free(s, p[i], 4100), 0);
        ck_assert_int_eq(gomem__scalable_check(s), 0);
    }
    ck_assert_uint_eq(stats(s).in_use, 0);
    /* FIFO: all of it comes back to the chunk, the next batch reuses it
     * (a fresh chunk: the one above has blocks the tree took). */
    (void)gomem_scalable_trim(s);
    for (int i = 0; i < 60; i++)
        p[i] = gomem_scalable_malloc(s, 4100);
    for (int i = 0; i < 60; i++)
        ck_assert_int_eq(gomem_scalable_free(s, p[i], 4100), 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    ck_assert_ptr_eq(gomem_scalable_malloc(s, 4100), p[0]);
    ck_assert_int_eq(gomem_scalable_free(s, p[0], 4100), 0);
    /* A sub-range of a held-back block is free too; middles still work. */
    unsigned char *a = gomem_scalable_malloc(s, 4300), *b = gomem_scalable_malloc(s, 4300);
    ck_assert_int_eq(gomem_scalable_free(s, a + 100, 100), 0);
    ck_assert_int_eq(gomem_scalable_free(s, a + 150, 10), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(s, a + 50, 100), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(s, a, 100), 0);
    ck_assert_int_eq(gomem_scalable_free(s, a + 200, 4100), 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    ck_assert_int_eq(gomem_scalable_free(s, b, 4300), 0);
    ck_assert_uint_eq(stats(s).in_use, 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    gomem_scalable_destroy(s);
}
END_TEST

/* A batch freed in the order it was taken extends the one pending block
 * inline: refused when it meets free bytes or runs past cur, and when
 * another thread's free raised low past the block's end. */
struct lowjob {
    gomem_scalable *s;
    unsigned char *p;
    int r;
};

static void *free_in_thread(void *arg)
{
    struct lowjob *j = arg;
    j->r = gomem_scalable_free(j->s, j->p, 5000);
    return NULL;
}

START_TEST(test_pending_in_order)
{
    gomem_scalable *s = gomem_scalable_new(MIB);
    unsigned char *p[4];
    for (int i = 0; i < 4; i++) {
        p[i] = gomem_scalable_malloc(s, 5000);
        canary_fill(p[i], 5000);
    }
    ck_assert_ptr_eq(p[3], p[0] + 15000);
    ck_assert_int_eq(gomem_scalable_free(s, p[0], 5000), 0); /* pending [p0, p1) */
    ck_assert_int_eq(gomem_scalable_free(s, p[1], 5000), 0); /* extends it to p2 */
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    ck_assert_uint_eq(stats(s).in_use, 10000);
    ck_assert_int_eq(gomem_scalable_free(s, p[1], 5000), -EINVAL);     /* double */
    ck_assert_int_eq(gomem_scalable_free(s, p[1] + 50, 5000), -EINVAL); /* meets it */
    ck_assert_int_eq(gomem_scalable_free(s, p[2], 10001), -EINVAL);      /* past cur */
    ck_assert_int_eq(gomem_scalable_free(s, p[2], 0), -EINVAL);
    ck_assert_uint_eq(stats(s).in_use, 10000);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    ck_assert(canary_intact(p[2], 5000) && canary_intact(p[3], 5000));
    ck_assert_int_eq(gomem_scalable_free(s, p[2], 50), 0);  /* a head: extends */
    ck_assert_int_eq(gomem_scalable_free(s, p[2] + 50, 9950), 0); /* reaches cur */
    ck_assert_uint_eq(stats(s).in_use, 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    ck_assert_int_eq(gomem_scalable_free(s, p[3], 5000), -EINVAL); /* the free tail now */
    ck_assert_ptr_eq(gomem_scalable_malloc(s, 5000), p[0]);       /* the chunk took all back */
    ck_assert_int_eq(gomem_scalable_free(s, p[0], 5000), 0);

    /* Another thread frees the block right after the pending one: low
     * passes it, and the owner's second free of it is refused. */
    for (int i = 0; i < 4; i++)
        p[i] = gomem_scalable_malloc(s, 5000);
    ck_assert_int_eq(gomem_scalable_free(s, p[0], 5000), 0); /* pending [p0, p1) */
    struct lowjob j = {s, p[1], 1};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, free_in_thread, &j), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(j.r, 0);
    ck_assert_uint_eq(stats(s).in_use, 10000);
    ck_assert_int_eq(gomem_scalable_free(s, p[1], 5000), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(s, p[1], 50), -EINVAL);
    ck_assert_uint_eq(stats(s).in_use, 10000);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    ck_assert_int_eq(gomem_scalable_free(s, p[2], 5000), 0);
    ck_assert_int_eq(gomem_scalable_free(s, p[3], 5000), 0);
    ck_assert_uint_eq(stats(s).in_use, 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    gomem_scalable_destroy(s);
}
END_TEST

static int count_arena(void *base, size_t size, size_t free_bytes, void *arg)
{
    size_t *v = arg;
    ck_assert_ptr_nonnull(base);
    ck_assert_uint_le(free_bytes, size);
    v[0]++;
    v[1] += size;
    v[2] += free_bytes;
    return v[3] && v[0] == v[3] ? 42 : 0;
}

static int sum_free(size_t off, size_t n, void *arg)
{
    size_t *v = arg;
    ck_assert_uint_ge(off, v[1]); /* in order */
    v[0] += n;
    v[1] = off + n;
    return 0;
}

START_TEST(test_foreach)
{
    size_t v[4] = {0, 0, 0, 0};
    ck_assert_int_eq(gomem_scalable_foreach_arena(NULL, count_arena, v), -EINVAL);
    gomem_scalable *s = gomem_scalable_new(4096);
    ck_assert_int_eq(gomem_scalable_foreach_arena(s, NULL, v), -EINVAL);
    ck_assert_int_eq(gomem_scalable_foreach_arena(s, count_arena, v), 0);
    ck_assert_uint_eq(v[0], 1);
    ck_assert_uint_eq(v[1], 4096);
    ck_assert_uint_eq(v[2], 4096);
    void *p = gomem_scalable_malloc(s, 1000), *q = gomem_scalable_malloc(s, 8000);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(q);
    memset(v, 0, sizeof v);
    ck_assert_int_eq(gomem_scalable_foreach_arena(s, count_arena, v), 0);
    struct gomem_scalable_stats st = stats(s);
    ck_assert_uint_eq(v[0], st.arenas);
    ck_assert_uint_eq(v[1], st.capacity);
    ck_assert_uint_eq(v[1] - v[2], st.in_use);
    /* A callback that stops: its value comes back. */
    memset(v, 0, sizeof v);
    v[3] = 1;
    ck_assert_int_eq(gomem_scalable_foreach_arena(s, count_arena, v), 42);
    ck_assert_uint_eq(v[0], 1);
    ck_assert_int_eq(gomem_scalable_free(s, p, 1000), 0);
    ck_assert_int_eq(gomem_scalable_free(s, q, 8000), 0);

    /* An arena's free blocks. */
    ck_assert_int_eq(gomem_arena_foreach_free(NULL, sum_free, v), -EINVAL);
    gomem_arena *a = gomem_arena_new(4096);
    ck_assert_int_eq(gomem_arena_foreach_free(a, NULL, v), -EINVAL);
    unsigned char *x = gomem_arena_malloc(a, 1000);
    ck_assert_int_eq(gomem_arena_free(a, x + 100, 100), 0);
    size_t w[2] = {0, 0};
    ck_assert_int_eq(gomem_arena_foreach_free(a, sum_free, w), 0);
    ck_assert_uint_eq(w[0] + RZ, gomem_arena_free_size(a)); /* a redzone is not a free block */
    ck_assert_uint_eq(gomem_arena_free_size(a), 4096 - 900);
    gomem_arena_destroy(a);
    gomem_scalable_destroy(s);
}
END_TEST

START_TEST(test_recycle)
{
    ck_assert_int_eq(gomem_scalable_recycle(NULL), -EINVAL);
    gomem_scalable *s = gomem_scalable_new(1024);
    unsigned char *p = gomem_scalable_malloc(s, 100), *q = gomem_scalable_malloc(s, 100000);
    unsigned char *big = gomem_scalable_malloc(s, 5 * MIB);
    ck_assert_ptr_nonnull(p);
    ck_assert_ptr_nonnull(q);
    ck_assert_ptr_nonnull(big);
    ck_assert_int_eq(gomem_scalable_free(s, q + 10, 10), 0); /* held back */
    ck_assert_ptr_nonnull(gomem_scalable_borrow(s, 500));
    ck_assert_int_eq(gomem_scalable_recycle(s), 0);
    struct gomem_scalable_stats st = stats(s);
    ck_assert_uint_eq(st.arenas, 0);
    ck_assert_uint_eq(st.capacity, 0);
    ck_assert_uint_eq(st.in_use, 0);
    ck_assert_uint_eq(st.malloc_bytes, 100 + 100000 + 5 * MIB);
    ck_assert_uint_eq(st.free_bytes, st.malloc_bytes);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    /* Empty and usable; the old memory is gone. */
    ck_assert_int_eq(gomem_scalable_free(s, p, 100), -EINVAL);
    ck_assert_int_eq(gomem_scalable_recycle(s), 0); /* twice: nothing to do */
    unsigned char *r = gomem_scalable_malloc(s, 2000);
    ck_assert_ptr_nonnull(r);
    canary_fill(r, 2000);
    ck_assert_uint_eq(stats(s).in_use, 2000);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    ck_assert_int_eq(gomem_scalable_free(s, r, 2000), 0);
    gomem_scalable_destroy(s);
    gomem__arena_pool_drain();
}
END_TEST

/* ---------------------------------------------------------------- spans */

/* Requests up to 4 KiB come from size-class spans: a whole block freed is
 * kept for the next malloc of its class; every bad free that meets a
 * kept block or a block's slack is refused with nothing changed; heads,
 * middles and tails work; the counters stay exact. */
START_TEST(test_spans)
{
    gomem_scalable *s = gomem_scalable_new(MIB);
    ck_assert_int_eq(gomem__scalable_spans(s, 1), 0); /* a thread starts with its chunk */
    unsigned char *a = gomem_scalable_malloc(s, 1000), *b = gomem_scalable_malloc(s, 1000);
    unsigned char *c = gomem_scalable_malloc(s, 100);
    ck_assert_ptr_eq(b, a + 1024); /* class 1024: neighbours in one span */
    canary_fill(a, 1000);
    canary_fill(b, 1000);
    canary_fill(c, 100);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    /* Slack: handed out to nobody. */
    ck_assert_int_eq(gomem_scalable_free(s, a + 1000, 1), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(s, a, 1001), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(s, a + 500, 600), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(s, a, 2024), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(s, a, 0), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(s, a + 10, SIZE_MAX), -EINVAL);
    ck_assert_uint_eq(stats(s).in_use, 2100);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    /* A whole block goes back to its span; then it is free. */
    ck_assert_int_eq(gomem_scalable_free(s, a, 1000), 0);
    ck_assert_uint_eq(stats(s).in_use, 1100);
    ck_assert_int_eq(gomem_scalable_free(s, a, 1000), -EINVAL);    /* double */
    /* A free block's len holds 0x8000 | the next free block: no n that
     * matches it passes for a live block's length. */
    for (size_t k = 0; k <= 256; k++)
        ck_assert_int_eq(gomem_scalable_free(s, a, 0x8000 + k), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(s, a + 10, 10), -EINVAL); /* inside it */
    ck_assert_int_eq(gomem_scalable_free(s, a + 1020, 8), -EINVAL); /* it and b */
    ck_assert_int_eq(gomem_scalable_free(s, b - 1, 2), -EINVAL);
    ck_assert_uint_eq(stats(s).in_use, 1100);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    ck_assert(canary_intact(b, 1000) && canary_intact(c, 100));
    /* The next malloc of the class takes it back. */
    unsigned char *d = gomem_scalable_malloc(s, 900);
    ck_assert_ptr_eq(d, a);
    canary_fill(d, 900);
    ck_assert_uint_eq(stats(s).in_use, 2000);
    /* A tail (free_rest): the rest stays, the tail is free. */
    ck_assert_int_eq(gomem_scalable_free_rest(s, d, 900, 300), 0);
    ck_assert_int_eq(gomem_scalable_free(s, d + 300, 1), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(s, d + 299, 2), -EINVAL);
    ck_assert_uint_eq(stats(s).in_use, 1400);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    ck_assert_int_eq(gomem_scalable_free(s, d, 300), 0); /* what is left, whole */
    ck_assert_int_eq(gomem_scalable_free(s, d, 300), -EINVAL);
    /* A head, then the rest. */
    ck_assert_int_eq(gomem_scalable_free(s, b, 100), 0);
    ck_assert_int_eq(gomem_scalable_free(s, b, 100), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(s, b + 50, 100), -EINVAL);
    ck_assert(canary_intact(b + 100, 900));
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    ck_assert_int_eq(gomem_scalable_free(s, b + 100, 900), 0);
    ck_assert_int_eq(gomem_scalable_free(s, b + 100, 900), -EINVAL);
    /* A middle, then both sides. */
    ck_assert_int_eq(gomem_scalable_free(s, c + 10, 10), 0);
    ck_assert_int_eq(gomem_scalable_free(s, c + 10, 10), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(s, c + 5, 10), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(s, c + 100, 1), -EINVAL); /* slack */
    ck_assert_int_eq(gomem_scalable_free(s, c, 10), 0);
    ck_assert_int_eq(gomem_scalable_free(s, c + 20, 80), 0);
    struct gomem_scalable_stats st = stats(s);
    ck_assert_uint_eq(st.in_use, 0);
    ck_assert_uint_eq(st.malloc_bytes, 3000);
    ck_assert_uint_eq(st.free_bytes, 3000);
    ck_assert_int_eq(gomem__scalable_check(s), 0);

    /* Many blocks of every class: two spans and more per class, freed in
     * another order; spans go back, and trim takes the rest. */
    static unsigned char *q[3000];
    static size_t qn[3000];
    uint64_t rng = 0x5EED;
    size_t total = 0;
    for (int i = 0; i < 3000; i++) {
        qn[i] = test_range(&rng, 1, 4096);
        q[i] = gomem_scalable_malloc(s, qn[i]);
        ck_assert_ptr_nonnull(q[i]);
        canary_fill(q[i], qn[i]);
        total += qn[i];
    }
    ck_assert_uint_eq(stats(s).in_use, total);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    for (int i = 0; i < 3000; i += 2) {
        ck_assert(canary_intact(q[i], qn[i]));
        ck_assert_int_eq(gomem_scalable_free(s, q[i], qn[i]), 0);
        total -= qn[i];
    }
    ck_assert_uint_eq(stats(s).in_use, total);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    for (int i = 0; i < 3000; i += 2)
        ck_assert_int_eq(gomem_scalable_free(s, q[i], qn[i]), -EINVAL);
    for (int i = 1; i < 3000; i += 2) {
        ck_assert(canary_intact(q[i], qn[i]));
        ck_assert_int_eq(gomem_scalable_free(s, q[i], qn[i]), 0);
    }
    ck_assert_uint_eq(stats(s).in_use, 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    /* Two allocators in turn: a free on the one not called last still
     * finds the thread's span, and the block is kept there. */
    gomem_scalable *s2 = gomem_scalable_new(MIB);
    unsigned char *e = gomem_scalable_malloc(s, 200), *f = gomem_scalable_malloc(s2, 200);
    ck_assert_int_eq(gomem_scalable_free(s2, e, 200), -EINVAL); /* foreign to s2 */
    ck_assert_int_eq(gomem_scalable_free(s, e, 200), 0);
    ck_assert_int_eq(gomem_scalable_free(s2, f, 200), 0);
    ck_assert_int_eq(gomem_scalable_free(s, e, 200), -EINVAL);
    ck_assert_ptr_eq(gomem_scalable_malloc(s, 200), e);
    ck_assert_int_eq(gomem_scalable_free(s, e, 200), 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    ck_assert_int_eq(gomem__scalable_check(s2), 0);
    gomem_scalable_destroy(s2);
    ck_assert_uint_eq(stats(s).in_use, 0);
    ck_assert_uint_gt(gomem_scalable_trim(s), 0);
    ck_assert_uint_eq(stats(s).arenas, 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    gomem_scalable_destroy(s);
    gomem__arena_pool_drain();
}
END_TEST

/* A span carved over broken blocks of another: a free there that starts in
 * the old span's broken block finds the new span, and a free block of it
 * is refused even when n equals that block's len encoding (LEN_FREE |
 * next), which once passed for a live block's length there. */
START_TEST(test_span_over_broken)
{
    gomem_scalable *s = gomem_scalable_new(MIB);
    gomem__scalable_spans(s, 1);
    unsigned char *x[16];
    for (int i = 0; i < 16; i++) /* the first 16 blocks of a span of class 4096 */
        ck_assert_ptr_nonnull(x[i] = gomem_scalable_malloc(s, 4096));
    for (int i = 1; i < 16; i++)
        ck_assert_ptr_eq(x[i], x[0] + 4096 * i);
    /* A middle breaks each of blocks 0..13, then their sides go: 56 KiB
     * of the old span are the tree's, free. */
    for (int i = 0; i < 14; i++) {
        ck_assert_int_eq(gomem_scalable_free(s, x[i] + 100, 100), 0);
        ck_assert_int_eq(gomem_scalable_free(s, x[i], 100), 0);
        ck_assert_int_eq(gomem_scalable_free(s, x[i] + 200, 4096 - 200), 0);
    }
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    /* A new span of class 16 is carved there; its block 1 is free. */
    unsigned char *t = gomem_scalable_malloc(s, 16);
    ck_assert_ptr_eq(t, x[0]);
    ck_assert_int_eq(gomem_scalable_free(s, x[15], 4096), 0);
    for (size_t k = 0; k <= 256; k++) {
        /* Taken and freed again, x[15] makes the old span the hint. */
        ck_assert_ptr_eq(gomem_scalable_malloc(s, 4096), x[15]);
        ck_assert_int_eq(gomem_scalable_free(s, x[15], 4096), 0);
        ck_assert_int_eq(gomem_scalable_free(s, t + 16, 0x8000 + k), -EINVAL);
    }
    ck_assert_uint_eq(stats(s).in_use, 16 + 4096);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    ck_assert_int_eq(gomem_scalable_free(s, t, 16), 0);
    ck_assert_int_eq(gomem_scalable_free(s, x[14], 4096), 0);
    ck_assert_uint_eq(stats(s).in_use, 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    gomem_scalable_destroy(s);
}
END_TEST

/* A thread whose frees stray from the order it allocated in (to the
 * tree, past the blocks it holds back, or of older chunks) turns to spans
 * at its next refill; in order and inside a chunk, it keeps its chunk. */
START_TEST(test_spans_switch)
{
    gomem_scalable *s = gomem_scalable_new(MIB);
    static unsigned char *p[400];
    for (int round = 0; round < 20; round++) { /* FIFO batches in a chunk: no stray free */
        for (int i = 0; i < 100; i++)
            p[i] = gomem_scalable_malloc(s, 2000);
        for (int i = 0; i < 100; i++)
            ck_assert_int_eq(gomem_scalable_free(s, p[i], 2000), 0);
    }
    ck_assert_int_eq(gomem__scalable_spans(s, -1), 0);
    for (int i = 0; i < 400; i++) {
        p[i] = gomem_scalable_malloc(s, 2000);
        canary_fill(p[i], 2000);
    }
    for (int i = 0; i < 400; i += 2) /* every other one: 200 apart, most to the tree */
        ck_assert_int_eq(gomem_scalable_free(s, p[i], 2000), 0);
    unsigned char *q[200];
    for (int i = 0; i < 200; i++) /* past the chunk's end: a refill */
        q[i] = gomem_scalable_malloc(s, 2000);
    ck_assert_int_eq(gomem__scalable_spans(s, -1), 1);
    unsigned char *r = gomem_scalable_malloc(s, 2000);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    for (int i = 1; i < 400; i += 2) {
        ck_assert(canary_intact(p[i], 2000));
        ck_assert_int_eq(gomem_scalable_free(s, p[i], 2000), 0);
    }
    for (int i = 0; i < 200; i++)
        ck_assert_int_eq(gomem_scalable_free(s, q[i], 2000), 0);
    ck_assert_int_eq(gomem_scalable_free(s, r, 2000), 0);
    ck_assert_int_eq(gomem_scalable_free(s, r, 2000), -EINVAL);
    ck_assert_uint_eq(stats(s).in_use, 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    gomem_scalable_destroy(s);
}
END_TEST

/* A thread on spans in one allocator and on its chunk in another, calling
 * them in turn: each keeps its mode (the checker holds the thread's key
 * to it), and frees and mallocs of either find their blocks. */
START_TEST(test_spans_two_allocators)
{
    gomem_scalable *a = gomem_scalable_new(MIB), *b = gomem_scalable_new(MIB);
    static unsigned char *pa[300], *pb[300];
    gomem__scalable_spans(a, 1);
    for (int i = 0; i < 300; i++) {
        pa[i] = gomem_scalable_malloc(a, 100 + (size_t)i);
        pb[i] = gomem_scalable_malloc(b, 100 + (size_t)i);
        canary_fill(pa[i], 100 + (size_t)i);
        canary_fill(pb[i], 100 + (size_t)i);
    }
    ck_assert_int_eq(gomem__scalable_spans(a, -1), 1);
    ck_assert_int_eq(gomem__scalable_check(a), 0);
    ck_assert_int_eq(gomem__scalable_spans(b, -1), 0);
    ck_assert_int_eq(gomem__scalable_check(b), 0);
    for (int i = 299; i >= 0; i -= 3) { /* out of order, in turn */
        ck_assert(canary_intact(pa[i], 100 + (size_t)i));
        ck_assert_int_eq(gomem_scalable_free(a, pa[i], 100 + (size_t)i), 0);
        ck_assert_int_eq(gomem_scalable_free(b, pb[i], 100 + (size_t)i), 0);
        ck_assert_int_eq(gomem_scalable_free(a, pa[i], 100 + (size_t)i), -EINVAL);
        ck_assert_int_eq(gomem_scalable_free(b, pb[i], 100 + (size_t)i), -EINVAL);
    }
    ck_assert_int_eq(gomem__scalable_check(a), 0);
    ck_assert_int_eq(gomem__scalable_check(b), 0);
    for (int i = 0; i < 300; i++) {
        if (i % 3 == 299 % 3)
            continue;
        ck_assert(canary_intact(pb[i], 100 + (size_t)i));
        ck_assert_int_eq(gomem_scalable_free(b, pb[i], 100 + (size_t)i), 0);
        ck_assert(canary_intact(pa[i], 100 + (size_t)i));
        ck_assert_int_eq(gomem_scalable_free(a, pa[i], 100 + (size_t)i), 0);
    }
    ck_assert_int_eq(gomem__scalable_spans(a, -1), 1);
    ck_assert_uint_eq(stats(a).in_use, 0);
    ck_assert_uint_eq(stats(b).in_use, 0);
    ck_assert_int_eq(gomem__scalable_check(a), 0);
    ck_assert_int_eq(gomem__scalable_check(b), 0);
    gomem_scalable_destroy(a);
    gomem_scalable_destroy(b);
}
END_TEST

/* k malloc+free pairs of n bytes, each free accepted. */
static void pairs(gomem_scalable *s, int k, size_t n)
{
    for (int i = 0; i < k; i++) {
        unsigned char *x = gomem_scalable_malloc(s, n);
        ck_assert_ptr_nonnull(x);
        ck_assert_int_eq(gomem_scalable_free(s, x, n), 0);
    }
}

/* A thread on spans whose frees keep leaving a span wholly free, none
 * filling up meanwhile (pairs), turns back to its chunk after
 * SPANS_IDLE (1024) of them; a span that fills up between starts the
 * count again. Blocks still in spans go back to them either way. */
START_TEST(test_spans_switch_back)
{
    gomem_scalable *s = gomem_scalable_new(MIB);
    static unsigned char *p[200];
    gomem__scalable_spans(s, 1);
    unsigned char *keep = gomem_scalable_malloc(s, 100); /* another class's span */
    canary_fill(keep, 100);
    pairs(s, 1000, 1000);
    ck_assert_int_eq(gomem__scalable_spans(s, -1), 1); /* 1000 < 1024 */
    /* 200 blocks of 64 bytes fill the first span of their class (at most
     * 128 blocks of 64 B; a span has at least 4 KiB): one of it freed
     * lists it again, and the count starts over. */
    for (int i = 0; i < 200; i++)
        p[i] = gomem_scalable_malloc(s, 64);
    ck_assert_int_eq(gomem_scalable_free(s, p[0], 64), 0);
    pairs(s, 1000, 1000);
    ck_assert_int_eq(gomem__scalable_spans(s, -1), 1);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    pairs(s, 100, 1000);
    ck_assert_int_eq(gomem__scalable_spans(s, -1), 0); /* back to the chunk */
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    /* The chunk serves the next pair: the same address twice. */
    unsigned char *a = gomem_scalable_malloc(s, 1000);
    ck_assert_int_eq(gomem_scalable_free(s, a, 1000), 0);
    ck_assert_ptr_eq(gomem_scalable_malloc(s, 1000), a);
    ck_assert_int_eq(gomem_scalable_free(s, a, 1000), 0);
    /* Blocks in spans still go back to them, once. */
    ck_assert(canary_intact(keep, 100));
    ck_assert_int_eq(gomem_scalable_free(s, keep, 100), 0);
    ck_assert_int_eq(gomem_scalable_free(s, keep, 100), -EINVAL);
    for (int i = 1; i < 200; i++)
        ck_assert_int_eq(gomem_scalable_free(s, p[i], 64), 0);
    ck_assert_int_eq(gomem_scalable_free(s, p[5], 64), -EINVAL);
    ck_assert_uint_eq(stats(s).in_use, 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    gomem_scalable_destroy(s);
}
END_TEST

/* A pair whose span also holds a long-lived block never leaves the span
 * wholly free; each of its frees gives back the block the thread's last
 * malloc took, which counts the same: the thread goes back to its chunk
 * at the SPANS_IDLE-th (1024th) pair, and the long-lived block stays
 * valid in its span. A pair of another class between does not count. */
START_TEST(test_spans_switch_back_beside_long_lived)
{
    gomem_scalable *s = gomem_scalable_new(MIB);
    gomem__scalable_spans(s, 1);
    unsigned char *keep = gomem_scalable_malloc(s, 1000); /* the pairs' span */
    canary_fill(keep, 1000);
    pairs(s, 1023, 1000);
    ck_assert_int_eq(gomem__scalable_spans(s, -1), 1);
    /* Two blocks of 64 B then freed in malloc order: the first is not the
     * last malloc's block, and leaves its span with a block still in it. */
    unsigned char *a = gomem_scalable_malloc(s, 64), *b = gomem_scalable_malloc(s, 64);
    ck_assert_int_eq(gomem_scalable_free(s, a, 64), 0);
    ck_assert_int_eq(gomem__scalable_spans(s, -1), 1);
    ck_assert_int_eq(gomem_scalable_free(s, b, 64), 0); /* empties its span: counts */
    ck_assert_int_eq(gomem__scalable_spans(s, -1), 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    ck_assert(canary_intact(keep, 1000));
    ck_assert_int_eq(gomem_scalable_free(s, keep, 1000), 0);
    ck_assert_int_eq(gomem_scalable_free(s, keep, 1000), -EINVAL);
    ck_assert_uint_eq(stats(s).in_use, 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    gomem_scalable_destroy(s);
}
END_TEST

/* The same when the pair's span is full but for the pair's block: each
 * malloc fills the span and each free lists it again, which does not
 * start the count over, as a span filled by other mallocs does. */
START_TEST(test_spans_switch_back_full_span)
{
    gomem_scalable *s = gomem_scalable_new(MIB);
    static unsigned char *p[127];
    gomem__scalable_spans(s, 1);
    for (int i = 0; i < 127; i++) { /* 127 of the 128 blocks of a 64-byte span */
        p[i] = gomem_scalable_malloc(s, 64);
        canary_fill(p[i], 64);
    }
    pairs(s, 1023, 64);
    ck_assert_int_eq(gomem__scalable_spans(s, -1), 1);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    pairs(s, 1, 64);
    ck_assert_int_eq(gomem__scalable_spans(s, -1), 0);
    for (int i = 0; i < 127; i++) {
        ck_assert(canary_intact(p[i], 64));
        ck_assert_int_eq(gomem_scalable_free(s, p[i], 64), 0);
    }
    ck_assert_uint_eq(stats(s).in_use, 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    gomem_scalable_destroy(s);
}
END_TEST

/* Spans left wholly free by frees made while the thread is on its chunk
 * (blocks from an earlier time on spans) do not count toward turning it
 * back: the count starts when its strays turn it to spans, and it goes
 * back at the SPANS_IDLE-th (1024th) pair exactly. */
START_TEST(test_spans_switch_back_count)
{
    static const size_t sizes[] = {16,  32,  48,  64,  80,  96,  112,  128,  160,  192,  224,  256,  320,  384,
                                   448, 512, 640, 768, 896, 1024, 1280, 1536, 1792, 2048, 2560, 3072, 3584, 4096};
    enum { NSIZES = sizeof sizes / sizeof sizes[0] };
    gomem_scalable *s = gomem_scalable_new(MIB);
    static unsigned char *one[NSIZES], *p[400], *q[200];
    gomem__scalable_spans(s, 1);
    for (int i = 0; i < NSIZES; i++) /* a span of each class, one block in it */
        one[i] = gomem_scalable_malloc(s, sizes[i]);
    gomem__scalable_spans(s, 0);
    for (int i = 0; i < NSIZES; i++) /* 28 spans wholly free, kept: not counted */
        ck_assert_int_eq(gomem_scalable_free(s, one[i], sizes[i]), 0);
    ck_assert_int_eq(gomem__scalable_spans(s, -1), 0);
    /* Strays, then a refill: spans (as in test_spans_switch). */
    for (int i = 0; i < 400; i++)
        p[i] = gomem_scalable_malloc(s, 2000);
    for (int i = 0; i < 400; i += 2)
        ck_assert_int_eq(gomem_scalable_free(s, p[i], 2000), 0);
    for (int i = 0; i < 200; i++)
        q[i] = gomem_scalable_malloc(s, 2000);
    ck_assert_int_eq(gomem__scalable_spans(s, -1), 1);
    pairs(s, 1023, 1000); /* each leaves the kept span of class 1024 wholly free */
    ck_assert_int_eq(gomem__scalable_spans(s, -1), 1);
    pairs(s, 1, 1000);
    ck_assert_int_eq(gomem__scalable_spans(s, -1), 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    for (int i = 1; i < 400; i += 2)
        ck_assert_int_eq(gomem_scalable_free(s, p[i], 2000), 0);
    for (int i = 0; i < 200; i++)
        ck_assert_int_eq(gomem_scalable_free(s, q[i], 2000), 0);
    ck_assert_uint_eq(stats(s).in_use, 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    gomem_scalable_destroy(s);
}
END_TEST

/* Another thread's frees of blocks in the owner's spans: a kept (free)
 * block and slack refused, a whole block and a middle taken (the lock's
 * way), and the owner sees them. */
struct spanjob {
    gomem_scalable *s;
    unsigned char *x, *y, *z;
    int r[7];
};

static void *span_other(void *arg)
{
    struct spanjob *j = arg;
    j->r[0] = gomem_scalable_free(j->s, j->y, 500);       /* kept by the owner */
    j->r[1] = gomem_scalable_free(j->s, j->y + 10, 10);   /* inside it */
    j->r[2] = gomem_scalable_free(j->s, j->x + 400, 200); /* slack, and y */
    j->r[3] = gomem_scalable_free(j->s, j->x, 500);       /* good: whole */
    j->r[4] = gomem_scalable_free(j->s, j->x, 500);       /* double */
    j->r[5] = gomem_scalable_free(j->s, j->z + 100, 100); /* good: a middle */
    j->r[6] = gomem_scalable_free(j->s, j->z + 500, 1);   /* slack */
    return NULL;
}

START_TEST(test_spans_threads)
{
    gomem_scalable *s = gomem_scalable_new(MIB);
    gomem__scalable_spans(s, 1);
    unsigned char *x = gomem_scalable_malloc(s, 500), *y = gomem_scalable_malloc(s, 500);
    unsigned char *z = gomem_scalable_malloc(s, 500);
    ck_assert_ptr_eq(y, x + 512);
    canary_fill(z, 500);
    ck_assert_int_eq(gomem_scalable_free(s, y, 500), 0); /* kept in the span */
    struct spanjob j = {s, x, y, z, {1, 1, 1, 1, 1, 1, 1}};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, span_other, &j), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(j.r[0], -EINVAL);
    ck_assert_int_eq(j.r[1], -EINVAL);
    ck_assert_int_eq(j.r[2], -EINVAL);
    ck_assert_int_eq(j.r[3], 0);
    ck_assert_int_eq(j.r[4], -EINVAL);
    ck_assert_int_eq(j.r[5], 0);
    ck_assert_int_eq(j.r[6], -EINVAL);
    ck_assert_uint_eq(stats(s).in_use, 400);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    /* The owner: the other thread's frees are seen. */
    ck_assert_int_eq(gomem_scalable_free(s, x, 500), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(s, z + 100, 100), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(s, z + 150, 100), -EINVAL);
    ck_assert(canary_intact(z, 100) && canary_intact(z + 200, 300));
    ck_assert_int_eq(gomem_scalable_free(s, z, 100), 0);
    ck_assert_int_eq(gomem_scalable_free(s, z + 200, 300), 0);
    ck_assert_uint_eq(stats(s).in_use, 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    /* The span still serves its class. */
    unsigned char *w = gomem_scalable_malloc(s, 500);
    ck_assert_ptr_eq(w, y);
    ck_assert_int_eq(gomem_scalable_free(s, w, 500), 0);
    gomem_scalable_destroy(s);
}
END_TEST

/* A thread exits with blocks kept in its spans and blocks still live:
 * the kept ones go to the tree (a free of them is refused), the live
 * ones stay allocated and are freed here, the counters exact. */
struct exitjob {
    gomem_scalable *s;
    unsigned char *kept[3], *live[3];
    size_t n[3];
};

static void *span_exit(void *arg)
{
    struct exitjob *j = arg;
    static const size_t sizes[3] = {16, 700, 4096};
    gomem__scalable_spans(j->s, 1);
    for (int i = 0; i < 3; i++) {
        j->n[i] = sizes[i];
        j->kept[i] = gomem_scalable_malloc(j->s, sizes[i]);
        j->live[i] = gomem_scalable_malloc(j->s, sizes[i]);
        canary_fill(j->live[i], sizes[i]);
        if (gomem_scalable_free(j->s, j->kept[i], sizes[i]) != 0)
            j->kept[i] = NULL;
    }
    return NULL;
}

START_TEST(test_spans_thread_exit)
{
    gomem_scalable *s = gomem_scalable_new(MIB);
    struct exitjob j = {s, {NULL}, {NULL}, {0}};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, span_exit, &j), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_uint_eq(stats(s).in_use, 16 + 700 + 4096);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    for (int i = 0; i < 3; i++) {
        ck_assert_ptr_nonnull(j.kept[i]);
        ck_assert_int_eq(gomem_scalable_free(s, j.kept[i], j.n[i]), -EINVAL);
        ck_assert_int_eq(gomem_scalable_free(s, j.live[i], j.n[i] + 1), -EINVAL); /* slack went too */
    }
    ck_assert_uint_eq(stats(s).in_use, 16 + 700 + 4096);
    for (int i = 0; i < 3; i++) {
        ck_assert(canary_intact(j.live[i], j.n[i]));
        ck_assert_int_eq(gomem_scalable_free(s, j.live[i], j.n[i]), 0);
        ck_assert_int_eq(gomem_scalable_free(s, j.live[i], j.n[i]), -EINVAL);
    }
    ck_assert_uint_eq(stats(s).in_use, 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    (void)gomem_scalable_trim(s);
    ck_assert_uint_eq(stats(s).arenas, 0);
    gomem_scalable_destroy(s);
    gomem__arena_pool_drain();
}
END_TEST

/* ---------------------------------------------------------------- threads */

struct xjob {
    gomem_scalable *s;
    unsigned char *p;   /* in: to free; out: left allocated */
    size_t n;
    int r[8];
};

/* Another thread's view: frees of the owner's memory, good and bad. */
static void *xthread_free(void *arg)
{
    struct xjob *j = arg;
    int local;
    j->r[4] = gomem_scalable_free(j->s, j->p, 0);              /* n == 0 */
    j->r[5] = gomem_scalable_free(j->s, j->p, SIZE_MAX);       /* overflows */
    j->r[6] = gomem_scalable_free(j->s, &local, sizeof local); /* foreign */
    j->r[7] = gomem_scalable_free(j->s, j->p + j->n - 50, 100); /* meets the pending block */
    j->r[0] = gomem_scalable_free(j->s, j->p, j->n);           /* good */
    j->r[1] = gomem_scalable_free(j->s, j->p, j->n);           /* double */
    j->r[2] = gomem_scalable_free(j->s, j->p + j->n + RZ, 1);  /* owner's pending block */
    j->r[3] = gomem_scalable_free(j->s, j->p + 3 * (j->n + RZ), 1); /* owner's free tail */
    return NULL;
}

/* A thread that exits with memory in its chunk and held back. */
static void *xthread_exit(void *arg)
{
    struct xjob *j = arg;
    unsigned char *a = gomem_scalable_malloc(j->s, 5000), *b = gomem_scalable_malloc(j->s, 5000);
    unsigned char *c = gomem_scalable_malloc(j->s, 5000);
    j->r[0] = a && b && c && gomem_scalable_free(j->s, a, 5000) == 0; /* pending at exit */
    j->p = b;                                                      /* left allocated */
    j->n = 5000;
    (void)c; /* freed by the main thread */
    j->r[1] = c ? (int)(c - b) : 0;
    return NULL;
}

START_TEST(test_cross_thread)
{
    gomem_scalable *s = gomem_scalable_new(MIB);
    unsigned char *p = gomem_scalable_malloc(s, 5000), *h = gomem_scalable_malloc(s, 5000);
    unsigned char *keep = gomem_scalable_malloc(s, 5000);
    ck_assert_int_eq(gomem_scalable_free(s, h, 5000), 0); /* pending: [p + 5000 + RZ, +5000) */
    ck_assert_ptr_eq(h, p + 5000 + RZ);
    ck_assert_ptr_eq(keep, p + 10000 + 2 * RZ);
    struct xjob j = {s, p, 5000, {1, 1, 1, 1, 1, 1, 1, 1}};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, xthread_free, &j), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(j.r[0], 0);
    ck_assert_int_eq(j.r[1], -EINVAL);
    ck_assert_int_eq(j.r[2], -EINVAL);
    ck_assert_int_eq(j.r[3], -EINVAL);
    for (int i = 4; i < 8; i++)
        ck_assert_int_eq(j.r[i], -EINVAL);
    ck_assert_uint_eq(stats(s).in_use, 5000);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    /* The owner sees the other thread's free: a double free is refused. */
    ck_assert_int_eq(gomem_scalable_free(s, p, 5000), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(s, p, 10000), -EINVAL);
    ck_assert_int_eq(gomem_scalable_free(s, keep, 5000), 0);
    ck_assert_uint_eq(stats(s).in_use, 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);

    /* Thread exit gives the cached bytes back; what it left allocated
     * stays so and can be freed here. */
    struct xjob e = {s, NULL, 0, {0}};
    ck_assert_int_eq(pthread_create(&t, NULL, xthread_exit, &e), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(e.r[0], 1);
    ck_assert_uint_eq(stats(s).in_use, 10000);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    ck_assert_int_eq(gomem_scalable_free(s, e.p - 5000 - RZ, 5000), -EINVAL); /* was pending */
    ck_assert_int_eq(gomem_scalable_free(s, e.p + 10000 + 2 * RZ, 1), -EINVAL); /* was its tail */
    ck_assert_int_eq(gomem_scalable_free(s, e.p, 5000), 0);
    ck_assert_int_eq(gomem_scalable_free(s, e.p + e.r[1], 5000), 0);
    ck_assert_uint_eq(stats(s).in_use, 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    /* A new thread takes over the cache of the one that exited. */
    ck_assert_int_eq(pthread_create(&t, NULL, xthread_exit, &e), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq(e.r[0], 1);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    /* Destroy with another thread's allocations outstanding: no leak. */
    gomem_scalable_destroy(s);
    gomem__arena_pool_drain();
}
END_TEST

static void *destroyer(void *arg)
{
    gomem_scalable_destroy(arg);
    return NULL;
}

/* One thread switching between allocators; one of them destroyed by
 * another thread, and a new one possibly at its address. */
START_TEST(test_two_allocators)
{
    gomem_scalable *a = gomem_scalable_new(4096), *b = gomem_scalable_new(4096);
    for (int i = 0; i < 1000; i++) {
        unsigned char *pa = gomem_scalable_malloc(a, 10), *pb = gomem_scalable_malloc(b, 10);
        ck_assert_ptr_nonnull(pa);
        ck_assert_ptr_nonnull(pb);
        ck_assert_int_eq(gomem_scalable_free(a, pb, 10), -EINVAL);
        ck_assert_int_eq(gomem_scalable_free(a, pa, 10), 0);
        ck_assert_int_eq(gomem_scalable_free(b, pb, 10), 0);
    }
    ck_assert_int_eq(gomem__scalable_check(a), 0);
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, destroyer, a), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    gomem_scalable *c = gomem_scalable_new(4096);
    unsigned char *pc = gomem_scalable_malloc(c, 10);
    ck_assert_ptr_nonnull(pc);
    ck_assert_uint_eq(stats(c).in_use, 10);
    ck_assert_int_eq(gomem_scalable_free(c, pc, 10), 0);
    ck_assert_int_eq(gomem__scalable_check(c), 0);
    gomem_scalable_destroy(b);
    gomem_scalable_destroy(c);
    gomem__arena_pool_drain();
}
END_TEST

/* ---------------------------------------------------------------- model */

struct live {
    unsigned char *p;
    size_t n;
};

#define MAXLIVE 256

/* Bytes of a batch still allocated: bn[from..m). */
static size_t batch_left(const size_t *bn, size_t from, size_t m)
{
    size_t t = 0;
    for (size_t i = from; i < m; i++)
        t += bn[i];
    return t;
}

START_TEST(test_model)
{
    uint64_t seed = test_seed(0x5CA1AB1Eull), rng = seed;
    long steps = test_steps(1000000);
    gomem_scalable *s = gomem_scalable_new(1024);
    static struct live live[MAXLIVE + 1];
    size_t nlive = 0, in_use = 0;
#define SAY "seed %#llx step %ld: "
#define ARGS (unsigned long long)seed, step
    for (long step = 0; step < steps; step++) {
        size_t op = test_range(&rng, 0, 99);
        if ((op < 40 && nlive < MAXLIVE) || nlive == 0) {
            size_t r = test_range(&rng, 0, 99999), n;
            if (r == 0)
                n = test_range(&rng, 4 * MIB + 1, 6 * MIB); /* a dedicated arena */
            else if (r < 1000)
                n = test_range(&rng, 16385, 300000);
            else if (r < 20000)
                n = test_range(&rng, 2049, 16384);
            else
                n = test_range(&rng, 1, 2048);
            unsigned char *p = gomem_scalable_malloc(s, n);
            REQUIRE(p != NULL, SAY "malloc(%zu) failed", ARGS, n);
            canary_fill(p, n);
            live[nlive].p = p;
            live[nlive++].n = n;
            in_use += n;
        } else if (op < 75) {
            /* Free a whole allocation, or its head, tail or a middle part. */
            size_t k = test_range(&rng, 0, nlive - 1);
            struct live l = live[k];
            REQUIRE(canary_intact(l.p, l.n), SAY "canary of %p+%zu broken", ARGS, (void *)l.p, l.n);
            size_t how = nlive < MAXLIVE ? test_range(&rng, 0, 3) : 0, off = 0, len = l.n;
            if (l.n > 1 && how == 1) {
                len = test_range(&rng, 1, l.n - 1); /* head */
            } else if (l.n > 1 && how == 2) {
                off = test_range(&rng, 1, l.n - 1); /* tail */
                len = l.n - off;
            } else if (l.n > 2 && how == 3) {
                off = test_range(&rng, 1, l.n - 2); /* middle */
                len = test_range(&rng, 1, l.n - off - 1);
            }
            REQUIRE(gomem_scalable_free(s, l.p + off, len) == 0, SAY "free(%p+%zu, %zu)", ARGS,
                          (void *)l.p, off, len);
            in_use -= len;
            /* The same range again is a double free. */
            REQUIRE(gomem_scalable_free(s, l.p + off, len) == -EINVAL, SAY "double free accepted", ARGS);
            live[k] = live[--nlive];
            if (off) {
                live[nlive].p = l.p;
                live[nlive++].n = off;
            }
            if (off + len < l.n) {
                live[nlive].p = l.p + off + len;
                live[nlive++].n = l.n - off - len;
            }
        } else if (op < 80) {
            /* Invalid frees change nothing. */
            int local;
            REQUIRE(gomem_scalable_free(s, &local, sizeof local) == -EINVAL, SAY "foreign", ARGS);
            struct live l = live[test_range(&rng, 0, nlive - 1)];
            REQUIRE(gomem_scalable_free(s, l.p, SIZE_MAX / 2) == -EINVAL, SAY "past arena", ARGS);
        } else if (op < 85) {
            /* free_rest: keep a head of an allocation. */
            size_t k = test_range(&rng, 0, nlive - 1);
            struct live l = live[k];
            REQUIRE(canary_intact(l.p, l.n), SAY "canary", ARGS);
            size_t keep = test_range(&rng, 1, l.n);
            REQUIRE(gomem_scalable_free_rest(s, l.p, l.n, keep) == 0, SAY "free_rest", ARGS);
            in_use -= l.n - keep;
            live[k].n = keep;
        } else if (op < 90) {
            size_t n = test_range(&rng, 1, 4096);
            unsigned char *b = gomem_scalable_borrow(s, n);
            REQUIRE(b != NULL, SAY "borrow", ARGS);
            memset(b, 0xEE, n); /* must not touch any live allocation */
        } else if (op < 91) {
            (void)gomem_scalable_trim(s);
            gomem__scalable_spans(s, (int)test_range(&rng, 0, 1)); /* either way from here */
        } else if (op < 93) {
            /* A batch taken and freed in the same order (each free
             * extends the block the last one left pending), with a
             * double free and an overlapping free refused at each step. */
            unsigned char *b[8];
            size_t bn[8], m = test_range(&rng, 2, 8);
            for (size_t i = 0; i < m; i++) {
                bn[i] = test_range(&rng, 1, 2048);
                b[i] = gomem_scalable_malloc(s, bn[i]);
                REQUIRE(b[i] != NULL, SAY "batch malloc", ARGS);
                canary_fill(b[i], bn[i]);
            }
            for (size_t i = 0; i < m; i++) {
                REQUIRE(canary_intact(b[i], bn[i]), SAY "batch canary", ARGS);
                REQUIRE(gomem_scalable_free(s, b[i], bn[i]) == 0, SAY "batch free %zu", ARGS, i);
                REQUIRE(gomem_scalable_free(s, b[i], bn[i]) == -EINVAL, SAY "batch double free", ARGS);
                if (i + 1 < m)
                    REQUIRE(gomem_scalable_free(s, b[i] + bn[i] - 1, 2) == -EINVAL, SAY "batch overlap", ARGS);
                struct gomem_scalable_stats bs;
                gomem_scalable_stats(s, &bs);
                REQUIRE(bs.in_use == in_use + batch_left(bn, i + 1, m), SAY "batch stats",
                        ARGS);
            }
        } else {
            /* Read a live allocation's canary; nothing else. */
            struct live l = live[test_range(&rng, 0, nlive - 1)];
            REQUIRE(canary_intact(l.p, l.n), SAY "canary", ARGS);
        }
        struct gomem_scalable_stats st;
        gomem_scalable_stats(s, &st);
        REQUIRE(st.in_use == in_use, SAY "in use %zu, model %zu", ARGS, st.in_use, in_use);
        REQUIRE(gomem__scalable_check(s) == 0, SAY "check failed", ARGS);
    }
    for (size_t k = 0; k < nlive; k++) {
        REQUIRE(canary_intact(live[k].p, live[k].n), "canary at the end");
        ck_assert_int_eq(gomem_scalable_free(s, live[k].p, live[k].n), 0);
    }
    ck_assert_uint_eq(stats(s).in_use, 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    (void)gomem_scalable_trim(s); /* the spans and the chunk, then every arena */
    ck_assert_uint_eq(stats(s).arenas, 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    gomem_scalable_destroy(s);
    gomem__arena_pool_drain();
}
END_TEST

#ifdef GOMEM__DEBUG
/* Debug builds fill freed bytes with GOMEM__FREE_PATTERN on each of the
 * scalable allocator's free paths: back to the owner's chunk tail, held
 * back by the owner, and through the lock (another thread). Each freed
 * range is made readable to the tools, read, and made inaccessible again. */
static int freed_is_pattern(unsigned char *p, size_t n)
{
    int ok = 1;
    GOMEM__ASAN_UNPOISON(p, n);
    GOMEM__MC_DEFINED(p, n);
    for (size_t i = 0; i < n; i++)
        ok &= p[i] == GOMEM__FREE_PATTERN;
    GOMEM__POOL_FREED(p, n);
    return ok;
}

static void *free_elsewhere(void *arg)
{
    void **job = arg;
    job[2] = (void *)(intptr_t)gomem_scalable_free(job[0], job[1], 64);
    return NULL;
}

START_TEST(test_free_pattern)
{
    gomem_scalable *s = gomem_scalable_new(65536);
    unsigned char *a = gomem_scalable_malloc(s, 64), *b = gomem_scalable_malloc(s, 64);
    unsigned char *c = gomem_scalable_malloc(s, 64);
    ck_assert(a && b && c);
    memset(a, 0x22, 64);
    memset(b, 0x22, 64);
    memset(c, 0x22, 64);
    ck_assert_int_eq(gomem_scalable_free(s, b, 64), 0); /* held back by the owner */
    ck_assert(freed_is_pattern(b, 64));
    ck_assert_int_eq(gomem_scalable_free(s, c, 64), 0); /* back to the tail */
    ck_assert(freed_is_pattern(c, 64));
    void *job[3] = {s, a, (void *)(intptr_t)1};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, free_elsewhere, job), 0); /* through the lock */
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_int_eq((int)(intptr_t)job[2], 0);
    ck_assert(freed_is_pattern(a, 64));
    ck_assert_uint_eq(stats(s).in_use, 0);
    ck_assert_int_eq(gomem__scalable_check(s), 0);
    gomem_scalable_destroy(s);
}
END_TEST
#endif

int main(void)
{
    Suite *s = suite_create("scalable");
    TCase *tc = tcase_create("scalable");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_errors);
    tcase_add_test(tc, test_partial_and_rest);
    tcase_add_test(tc, test_growth);
    tcase_add_test(tc, test_borrow);
    tcase_add_test(tc, test_read);
    tcase_add_test(tc, test_backing_failure);
    tcase_add_test(tc, test_growth_cap);
    tcase_add_test(tc, test_pending);
#ifndef GOMEM__DEBUG
    /* The owner's inline frees and the size-class spans lay blocks end to
     * end; debug builds serve every request from the chunk or the lock,
     * with a redzone after it (see internal.h), so these are release
     * paths only. */
    tcase_add_test(tc, test_pending_in_order);
#else
    (void)test_pending_in_order;
    (void)test_spans;
    (void)test_span_over_broken;
    (void)test_spans_threads;
    (void)test_spans_switch;
    (void)test_spans_switch_back;
    (void)test_spans_switch_back_count;
    (void)test_spans_switch_back_beside_long_lived;
    (void)test_spans_switch_back_full_span;
    (void)test_spans_two_allocators;
#endif
    tcase_add_test(tc, test_foreach);
    tcase_add_test(tc, test_recycle);
    tcase_add_test(tc, test_cross_thread);
#ifndef GOMEM__DEBUG
    tcase_add_test(tc, test_spans);
    tcase_add_test(tc, test_span_over_broken);
    tcase_add_test(tc, test_spans_threads);
    tcase_add_test(tc, test_spans_switch);
    tcase_add_test(tc, test_spans_switch_back);
    tcase_add_test(tc, test_spans_switch_back_count);
    tcase_add_test(tc, test_spans_switch_back_beside_long_lived);
    tcase_add_test(tc, test_spans_switch_back_full_span);
    tcase_add_test(tc, test_spans_two_allocators);
#endif
    tcase_add_test(tc, test_spans_thread_exit);
    tcase_add_test(tc, test_two_allocators);
    tcase_add_test(tc, test_model);
#ifdef GOMEM__DEBUG
    tcase_add_test(tc, test_free_pattern);
#endif
    suite_add_tcase(s, tc);
    return test_run(s);
}
