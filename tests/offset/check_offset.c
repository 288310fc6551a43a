/* check_offset.c - white-box tests of both offset-allocator variants.
 *
 * Both variants are linked whatever configure chose, and every test runs
 * once per variant: the same unit tests and the same randomized model. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "offset/offset.h"
#include "testutil.h"

/* ---------------------------------------------------------------- variants */

static const struct gomem__offset_ops *const variants[] = {&gomem__segfit_ops, &gomem__avl_ops};
#define NVARIANTS ((int)(sizeof variants / sizeof variants[0]))

/* ---------------------------------------------------------------- helpers */

/* The free blocks as a flat list, for comparisons. */
struct blocks {
    size_t n, cap;
    size_t *v; /* off, len pairs */
};

static int collect(size_t off, size_t len, void *arg)
{
    struct blocks *b = arg;
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->v = realloc(b->v, 2 * b->cap * sizeof *b->v);
        ck_assert_ptr_nonnull(b->v);
    }
    b->v[2 * b->n] = off;
    b->v[2 * b->n + 1] = len;
    b->n++;
    return 0;
}

static void snapshot(const struct gomem__offset_ops *v, const void *t, struct blocks *b)
{
    b->n = 0;
    ck_assert_int_eq(v->foreach_free(t, collect, b), 0);
}

static int same_blocks(const struct blocks *a, const struct blocks *b)
{
    return a->n == b->n && (a->n == 0 || !memcmp(a->v, b->v, 2 * a->n * sizeof *a->v));
}

/* Check the free list equals the given (off, len) pairs, and the invariants. */
static void expect_free(const struct gomem__offset_ops *v, const void *t, size_t npairs, const size_t *pairs)
{
    struct blocks b = {0, 0, NULL};
    snapshot(v, t, &b);
    ck_assert_msg(b.n == npairs, "%s: %zu free blocks, expected %zu", v->name, b.n, npairs);
    for (size_t i = 0; i < 2 * npairs; i++)
        ck_assert_msg(b.v[i] == pairs[i], "%s: free list item %zu is %zu, expected %zu", v->name,
                      i, b.v[i], pairs[i]);
    ck_assert_int_eq(v->check(t), 0);
    free(b.v);
}

static size_t must_alloc(const struct gomem__offset_ops *v, void *t, size_t n)
{
    size_t off = (size_t)-1;
    int r = v->alloc(t, n, &off);
    ck_assert_msg(r == 0, "%s: alloc(%zu) gave %d", v->name, n, r);
    ck_assert_int_eq(v->check(t), 0);
    return off;
}

/* ---------------------------------------------------------------- unit tests */

START_TEST(test_new_rejects_zero)
{
    const struct gomem__offset_ops *v = variants[_i];
    EXPECT_NULL_ERRNO(v->create(0), EINVAL);
}
END_TEST

START_TEST(test_carves_from_start)
{
    /* GoMem's own test: 1000 bytes, alloc(100) at 0, then alloc(200) at 100. */
    const struct gomem__offset_ops *v = variants[_i];
    void *t = v->create(1000);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(v->size(t), 1000);
    ck_assert_uint_eq(v->free_size(t), 1000);
    ck_assert_uint_eq(must_alloc(v, t, 100), 0);
    ck_assert_uint_eq(must_alloc(v, t, 200), 100);
    ck_assert_uint_eq(v->free_size(t), 700);
    expect_free(v, t, 1, (size_t[]){300, 700});
    v->destroy(t);
}
END_TEST

START_TEST(test_smallest_complete_case)
{
    /* GoMem's treap answers "no space" here although [0, 2) is free. */
    const struct gomem__offset_ops *v = variants[_i];
    void *t = v->create(4);
    ck_assert_uint_eq(must_alloc(v, t, 3), 0);
    ck_assert_int_eq(v->release(t, 0, 2), 0);
    ck_assert_uint_eq(must_alloc(v, t, 2), 0);
    expect_free(v, t, 1, (size_t[]){3, 1});
    v->destroy(t);
}
END_TEST

START_TEST(test_alloc_errors)
{
    const struct gomem__offset_ops *v = variants[_i];
    void *t = v->create(100);
    size_t off = 7;
    ck_assert_int_eq(v->alloc(t, 0, &off), -EINVAL);
    ck_assert_int_eq(v->alloc(t, 1, NULL), -EINVAL);
    ck_assert_int_eq(v->alloc(t, 101, &off), -ENOMEM);
    ck_assert_int_eq(v->alloc(t, SIZE_MAX, &off), -ENOMEM);
    ck_assert_uint_eq(off, 7);
    /* Fragment: 60 bytes free in total but no run longer than 20. */
    for (size_t i = 0; i < 5; i++)
        ck_assert_uint_eq(must_alloc(v, t, 20), i * 20);
    ck_assert_int_eq(v->release(t, 0, 20), 0);
    ck_assert_int_eq(v->release(t, 40, 20), 0);
    ck_assert_int_eq(v->release(t, 80, 20), 0);
    ck_assert_uint_eq(v->free_size(t), 60);
    ck_assert_int_eq(v->alloc(t, 21, &off), -ENOMEM);
    ck_assert_int_eq(v->find(t, 21, &off), -ENOMEM);
    ck_assert_uint_eq(off, 7);
    expect_free(v, t, 3, (size_t[]){0, 20, 40, 20, 80, 20});
    v->destroy(t);
}
END_TEST

START_TEST(test_exhaust_and_refill)
{
    const struct gomem__offset_ops *v = variants[_i];
    void *t = v->create(64);
    ck_assert_uint_eq(must_alloc(v, t, 64), 0);
    ck_assert_uint_eq(v->free_size(t), 0);
    expect_free(v, t, 0, NULL);
    size_t off;
    ck_assert_int_eq(v->alloc(t, 1, &off), -ENOMEM);
    ck_assert_int_eq(v->release(t, 10, 4), 0);
    ck_assert_uint_eq(must_alloc(v, t, 4), 10);
    ck_assert_int_eq(v->release(t, 0, 64), 0);
    expect_free(v, t, 1, (size_t[]){0, 64});
    v->destroy(t);
}
END_TEST

START_TEST(test_free_subranges_coalesce)
{
    const struct gomem__offset_ops *v = variants[_i];
    void *t = v->create(1000);
    ck_assert_uint_eq(must_alloc(v, t, 1000), 0);
    /* head, tail, middle pieces of one allocation */
    ck_assert_int_eq(v->release(t, 0, 100), 0);
    expect_free(v, t, 1, (size_t[]){0, 100});
    ck_assert_int_eq(v->release(t, 900, 100), 0);
    expect_free(v, t, 2, (size_t[]){0, 100, 900, 100});
    ck_assert_int_eq(v->release(t, 400, 100), 0);
    expect_free(v, t, 3, (size_t[]){0, 100, 400, 100, 900, 100});
    /* joins the block before */
    ck_assert_int_eq(v->release(t, 100, 50), 0);
    expect_free(v, t, 3, (size_t[]){0, 150, 400, 100, 900, 100});
    /* joins the block after */
    ck_assert_int_eq(v->release(t, 850, 50), 0);
    expect_free(v, t, 3, (size_t[]){0, 150, 400, 100, 850, 150});
    /* joins both sides */
    ck_assert_int_eq(v->release(t, 150, 250), 0);
    expect_free(v, t, 2, (size_t[]){0, 500, 850, 150});
    ck_assert_int_eq(v->release(t, 500, 350), 0);
    expect_free(v, t, 1, (size_t[]){0, 1000});
    ck_assert_uint_eq(v->free_size(t), 1000);
    v->destroy(t);
}
END_TEST

START_TEST(test_invalid_frees_change_nothing)
{
    const struct gomem__offset_ops *v = variants[_i];
    void *t = v->create(1000);
    ck_assert_uint_eq(must_alloc(v, t, 300), 0);
    ck_assert_uint_eq(must_alloc(v, t, 300), 300);
    ck_assert_int_eq(v->release(t, 100, 100), 0);
    /* free: [100, 200) and [600, 1000) */
    struct blocks before = {0, 0, NULL}, after = {0, 0, NULL};
    snapshot(v, t, &before);
    const size_t bad[][2] = {
        {0, 0},            /* empty */
        {1000, 1},         /* past the end */
        {999, 2},          /* runs past the end */
        {SIZE_MAX, 2},     /* off + n overflows */
        {1, SIZE_MAX},     /* off + n overflows */
        {100, 100},        /* exactly a free block: double free */
        {150, 10},         /* inside a free block */
        {50, 100},         /* tail overlaps a free block */
        {150, 100},        /* head overlaps a free block */
        {50, 200},         /* covers a free block */
        {599, 2},          /* straddles into the free tail */
        {700, 10},         /* inside the free tail */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_msg(v->release(t, bad[i][0], bad[i][1]) == -EINVAL, "%s: free(%zu, %zu) accepted",
                      v->name, bad[i][0], bad[i][1]);
        snapshot(v, t, &after);
        ck_assert_msg(same_blocks(&before, &after), "%s: free(%zu, %zu) changed the allocator",
                      v->name, bad[i][0], bad[i][1]);
        ck_assert_uint_eq(v->free_size(t), 500);
        ck_assert_int_eq(v->check(t), 0);
    }
    free(before.v);
    free(after.v);
    v->destroy(t);
}
END_TEST

START_TEST(test_find)
{
    const struct gomem__offset_ops *v = variants[_i];
    void *t = v->create(1000);
    size_t off = 1;
    ck_assert_int_eq(v->find(t, 0, &off), -EINVAL);
    ck_assert_int_eq(v->find(t, 1, NULL), -EINVAL);
    ck_assert_int_eq(v->find(t, 10, &off), 0);
    ck_assert_uint_eq(off, 0);
    ck_assert_uint_eq(v->free_size(t), 1000); /* find allocates nothing */
    must_alloc(v, t, 500);
    ck_assert_int_eq(v->release(t, 100, 50), 0);
    for (size_t n = 1; n <= 500; n += 49) {
        size_t f, a;
        ck_assert_int_eq(v->find(t, n, &f), 0);
        ck_assert_int_eq(v->alloc(t, n, &a), 0);
        ck_assert_uint_eq(f, a);
        ck_assert_int_eq(v->release(t, a, n), 0);
    }
    v->destroy(t);
}
END_TEST

START_TEST(test_placement_policy)
{
    /* Free [0, 100) and [200, 250): first fit would take 0; good and best fit 200. */
    const struct gomem__offset_ops *v = variants[_i];
    void *t = v->create(250);
    must_alloc(v, t, 250);
    ck_assert_int_eq(v->release(t, 0, 100), 0);
    ck_assert_int_eq(v->release(t, 200, 50), 0);
    size_t off = must_alloc(v, t, 50);
    ck_assert_uint_eq(off, v->policy == GOMEM__FIT_FIRST ? 0 : 200);
    /* Equal sizes: the lowest offset wins in best fit; the block changed
     * last (here [0, 50)) in good fit. */
    ck_assert_int_eq(v->release(t, off, 50), 0);
    ck_assert_int_eq(v->release(t, 100, 50), 0);
    /* free: [0, 150), [200, 250) */
    must_alloc(v, t, 150);
    ck_assert_int_eq(v->release(t, 0, 50), 0);
    /* free: [0, 50), [200, 250) */
    ck_assert_uint_eq(must_alloc(v, t, 50), 0);
    v->destroy(t);
}
END_TEST

/* An alloc right after a pair (an alloc and the free of exactly its
 * range, with nothing checked between) takes what the policy says, for
 * any size: the pair's block when it heads the lowest non-empty class,
 * else the block the classes give. No check() between the calls: it
 * would settle what the pair left pending. */
START_TEST(test_alloc_after_pair)
{
    const struct gomem__offset_ops *v = variants[_i];
    void *t = v->create(1 << 20);
    size_t off = 1;
    ck_assert_int_eq(v->alloc(t, 64, &off), 0);
    ck_assert_uint_eq(off, 0);
    ck_assert_int_eq(v->release(t, 0, 64), 0);
    ck_assert_int_eq(v->alloc(t, 8192, &off), 0); /* larger: the one block */
    ck_assert_uint_eq(off, 0);
    ck_assert_int_eq(v->release(t, 0, 8192), 0);
    ck_assert_int_eq(v->alloc(t, 16, &off), 0); /* smaller: the one block */
    ck_assert_uint_eq(off, 0);
    ck_assert_int_eq(v->release(t, 0, 16), 0);
    expect_free(v, t, 1, (size_t[]){0, 1 << 20});
    /* A hole [0, 100) in a lower class than the block after 200. */
    ck_assert_uint_eq(must_alloc(v, t, 100), 0);
    ck_assert_uint_eq(must_alloc(v, t, 100), 100);
    ck_assert_int_eq(v->release(t, 0, 100), 0);
    ck_assert_int_eq(v->alloc(t, 1000, &off), 0); /* the hole is too short */
    ck_assert_uint_eq(off, 200);
    ck_assert_int_eq(v->release(t, 200, 1000), 0);
    ck_assert_int_eq(v->alloc(t, 50, &off), 0); /* both policies: the hole */
    ck_assert_uint_eq(off, 0);
    expect_free(v, t, 2, (size_t[]){50, 50, 200, (1 << 20) - 200});
    v->destroy(t);
}
END_TEST

START_TEST(test_reset)
{
    const struct gomem__offset_ops *v = variants[_i];
    void *t = v->create(100);
    for (int i = 0; i < 10; i++) {
        must_alloc(v, t, 5);
        ck_assert_int_eq(v->release(t, (size_t)i * 5 + 1, 2), 0);
    }
    ck_assert_int_eq(v->reset(t, 0), -EINVAL);
    ck_assert_uint_eq(v->size(t), 100);
    ck_assert_int_eq(v->reset(t, 4096), 0);
    ck_assert_uint_eq(v->size(t), 4096);
    ck_assert_uint_eq(v->free_size(t), 4096);
    expect_free(v, t, 1, (size_t[]){0, 4096});
    /* reset from a fully allocated state (no node left in the tree) */
    must_alloc(v, t, 4096);
    ck_assert_int_eq(v->reset(t, 10), 0);
    expect_free(v, t, 1, (size_t[]){0, 10});
    v->destroy(t);
}
END_TEST

static int stop_at_second(size_t off, size_t n, void *arg)
{
    (void)off;
    (void)n;
    return ++*(int *)arg == 2 ? 42 : 0;
}

START_TEST(test_foreach_free)
{
    const struct gomem__offset_ops *v = variants[_i];
    void *t = v->create(100);
    must_alloc(v, t, 100);
    for (size_t off = 90; off != (size_t)-10; off -= 10)
        ck_assert_int_eq(v->release(t, off, 5), 0);
    size_t want[20];
    for (size_t i = 0; i < 10; i++) {
        want[2 * i] = i * 10;
        want[2 * i + 1] = 5;
    }
    expect_free(v, t, 10, want);
    int calls = 0;
    ck_assert_int_eq(v->foreach_free(t, stop_at_second, &calls), 42);
    ck_assert_int_eq(calls, 2);
    ck_assert_int_eq(v->foreach_free(t, NULL, NULL), -EINVAL);
    v->destroy(t);
}
END_TEST

START_TEST(test_whole_address_space)
{
    const struct gomem__offset_ops *v = variants[_i];
    void *t = v->create(SIZE_MAX);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(must_alloc(v, t, SIZE_MAX - 1), 0);
    ck_assert_uint_eq(must_alloc(v, t, 1), SIZE_MAX - 1);
    ck_assert_int_eq(v->release(t, SIZE_MAX - 1, 1), 0);
    ck_assert_int_eq(v->release(t, SIZE_MAX - 1, 2), -EINVAL);
    ck_assert_int_eq(v->release(t, 0, SIZE_MAX - 1), 0);
    ck_assert_uint_eq(v->free_size(t), SIZE_MAX);
    ck_assert_int_eq(v->check(t), 0);
    v->destroy(t);
}
END_TEST

/* Free blocks whose sizes grow with their address: a tree that used sizes
 * as heap priorities would turn into a list here. */
START_TEST(test_stays_balanced)
{
    const struct gomem__offset_ops *v = variants[_i];
    const size_t n = 4096;
    size_t total = 0;
    for (size_t i = 1; i <= n; i++)
        total += 2 * i;
    void *t = v->create(total);
    must_alloc(v, t, total);
    size_t off = 0;
    for (size_t i = 1; i <= n; i++) { /* free i bytes, keep i allocated */
        ck_assert_int_eq(v->release(t, off, i), 0);
        off += 2 * i;
    }
    ck_assert_int_eq(v->check(t), 0);
    size_t depth = v->depth(t);
    /* Both variants index addresses with a B+tree of fanout 16 and at least
     * 4 entries per node but the root: at most 1 + log4(4096 / 4) = 6 levels. */
    ck_assert_msg(depth <= 6u, "%s: depth %zu with %zu blocks", v->name, depth, n);
    v->destroy(t);
}
END_TEST

/* ---------------------------------------------------------------- model */

/* The reference: the free runs as a sorted array of (off, len), coalesced,
 * each with the time it was created or last changed (for good fit). */
struct model {
    size_t n, cap;
    size_t *off, *len, *stamp;
    size_t clock;
};

static void model_init(struct model *m, size_t size)
{
    m->n = 1;
    m->cap = 16;
    m->off = malloc(m->cap * sizeof *m->off);
    m->len = malloc(m->cap * sizeof *m->len);
    m->stamp = malloc(m->cap * sizeof *m->stamp);
    ck_assert(m->off && m->len && m->stamp);
    m->off[0] = 0;
    m->len[0] = size;
    m->stamp[0] = 0;
    m->clock = 0;
}

/* Index of the first run whose offset is > off. */
static size_t model_upper(const struct model *m, size_t off)
{
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->off[mid] <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void model_insert_at(struct model *m, size_t i, size_t off, size_t len)
{
    if (m->n == m->cap) {
        m->cap *= 2;
        m->off = realloc(m->off, m->cap * sizeof *m->off);
        m->len = realloc(m->len, m->cap * sizeof *m->len);
        m->stamp = realloc(m->stamp, m->cap * sizeof *m->stamp);
        ck_assert(m->off && m->len && m->stamp);
    }
    memmove(m->off + i + 1, m->off + i, (m->n - i) * sizeof *m->off);
    memmove(m->len + i + 1, m->len + i, (m->n - i) * sizeof *m->len);
    memmove(m->stamp + i + 1, m->stamp + i, (m->n - i) * sizeof *m->stamp);
    m->off[i] = off;
    m->len[i] = len;
    m->stamp[i] = ++m->clock;
    m->n++;
}

static void model_remove_at(struct model *m, size_t i)
{
    memmove(m->off + i, m->off + i + 1, (m->n - i - 1) * sizeof *m->off);
    memmove(m->len + i, m->len + i + 1, (m->n - i - 1) * sizeof *m->len);
    memmove(m->stamp + i, m->stamp + i + 1, (m->n - i - 1) * sizeof *m->stamp);
    m->n--;
}

/* Good fit's size classes, written out independently of the variant:
 * lengths below 64 are their own class; above, 32 classes per power of
 * two, each [k * 2^e, (k + 1) * 2^e) for 32 <= k < 64. */
static size_t model_class(size_t len)
{
    if (len < 64)
        return len;
    size_t e = 0;
    while (len >> e >= 64)
        e++;
    return 32 * (e + 1) + (len >> e) - 32;
}

/* The lowest class whose every length is >= n. */
static size_t model_fit_class(size_t n)
{
    size_t c = model_class(n);
    return model_class(n - 1) == c ? c + 1 : c;
}

/* The run of class c changed last, or SIZE_MAX. */
static size_t model_newest(const struct model *m, size_t c)
{
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < m->n; i++)
        if (model_class(m->len[i]) == c && (best == SIZE_MAX || m->stamp[i] > m->stamp[best]))
            best = i;
    return best;
}

/* Where the variant must place n bytes, or SIZE_MAX when nothing fits. */
static size_t model_fit(const struct model *m, int policy, size_t n)
{
    size_t best = SIZE_MAX;
    if (policy == GOMEM__FIT_GOOD) {
        /* the newest of n's own class if it holds n bytes */
        best = model_newest(m, model_class(n));
        if (best != SIZE_MAX && m->len[best] >= n)
            return best;
        /* else the newest of the lowest class whose every block fits */
        size_t fc = model_fit_class(n), bc = SIZE_MAX;
        best = SIZE_MAX;
        for (size_t i = 0; i < m->n; i++) {
            size_t c = model_class(m->len[i]);
            if (c >= fc && (c < bc || (c == bc && m->stamp[i] > m->stamp[best]))) {
                best = i;
                bc = c;
            }
        }
        if (best != SIZE_MAX)
            return best;
        policy = GOMEM__FIT_FIRST; /* else the lowest-addressed fit */
    }
    for (size_t i = 0; i < m->n; i++) {
        if (m->len[i] < n)
            continue;
        if (policy == GOMEM__FIT_FIRST)
            return i;
        if (best == SIZE_MAX || m->len[i] < m->len[best])
            best = i;
    }
    return best;
}

/* Does [off, off + n) overlap a free run? */
static int model_overlaps_free(const struct model *m, size_t off, size_t n)
{
    size_t i = model_upper(m, off);
    if (i > 0 && m->off[i - 1] + m->len[i - 1] > off)
        return 1;
    return i < m->n && m->off[i] < off + n;
}

/* Take [off, off + n) out of the free run that holds it. */
static void model_take(struct model *m, size_t off, size_t n)
{
    size_t i = model_upper(m, off) - 1;
    REQUIRE(m->off[i] <= off && off + n <= m->off[i] + m->len[i], "model: [%zu, +%zu) is not free", off, n);
    size_t end = m->off[i] + m->len[i];
    m->stamp[i] = ++m->clock;
    if (m->off[i] == off) {
        m->off[i] += n;
        m->len[i] -= n;
        if (!m->len[i])
            model_remove_at(m, i);
    } else {
        m->len[i] = off - m->off[i];
        if (off + n < end)
            model_insert_at(m, i + 1, off + n, end - off - n);
    }
}

/* Give [off, off + n) back, coalescing. */
static void model_give(struct model *m, size_t off, size_t n)
{
    size_t i = model_upper(m, off);
    int join_p = i > 0 && m->off[i - 1] + m->len[i - 1] == off;
    int join_s = i < m->n && m->off[i] == off + n;
    if (join_p && join_s) {
        m->len[i - 1] += n + m->len[i];
        m->stamp[i - 1] = ++m->clock;
        model_remove_at(m, i);
    } else if (join_p) {
        m->len[i - 1] += n;
        m->stamp[i - 1] = ++m->clock;
    } else if (join_s) {
        m->off[i] = off;
        m->len[i] += n;
        m->stamp[i] = ++m->clock;
    } else {
        model_insert_at(m, i, off, n);
    }
}

static size_t model_bytes(const struct model *m)
{
    size_t b = 0;
    for (size_t i = 0; i < m->n; i++)
        b += m->len[i];
    return b;
}

struct compare_ctx {
    const struct model *m;
    size_t i;
    int bad;
};

static int compare_block(size_t off, size_t len, void *arg)
{
    struct compare_ctx *c = arg;
    if (c->i >= c->m->n || c->m->off[c->i] != off || c->m->len[c->i] != len) {
        c->bad = 1;
        return 1;
    }
    c->i++;
    return 0;
}

/* Live allocations, for frees of whole ranges and pieces. */
struct live {
    size_t n, cap;
    size_t *off, *len;
};

static void live_add(struct live *l, size_t off, size_t len)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->off = realloc(l->off, l->cap * sizeof *l->off);
        l->len = realloc(l->len, l->cap * sizeof *l->len);
        ck_assert(l->off && l->len);
    }
    l->off[l->n] = off;
    l->len[l->n] = len;
    l->n++;
}

static void live_remove(struct live *l, size_t i)
{
    l->n--;
    l->off[i] = l->off[l->n];
    l->len[i] = l->len[l->n];
}

static void run_model(const struct gomem__offset_ops *v, uint64_t seed, long steps, size_t size,
                      size_t max_block, size_t target_live, int fills_up)
{
    uint64_t rng = seed;
    void *t = v->create(size);
    ck_assert_ptr_nonnull(t);
    struct model m;
    struct live l = {0, 0, NULL, NULL};
    model_init(&m, size);
    long allocs = 0, refused = 0, invalid = 0;
    size_t max_blocks = 0;

    for (long step = 0; step < steps; step++) {
        unsigned op = (unsigned)test_range(&rng, 0, 99);
        const char *what;
        if (l.n < target_live ? op < 60 : op < 40) {
            what = "alloc";
            size_t n = test_range(&rng, 1, test_range(&rng, 0, 9) ? max_block / 4 : max_block);
            size_t fit = model_fit(&m, v->policy, n);
            size_t off = SIZE_MAX;
            int r = v->alloc(t, n, &off);
            if (fit == SIZE_MAX) {
                REQUIRE(r == -ENOMEM, "%s seed %#llx step %ld: alloc(%zu) gave %d, no fit",
                              v->name, (unsigned long long)seed, step, n, r);
                refused++;
            } else {
                REQUIRE(r == 0, "%s seed %#llx step %ld: alloc(%zu) refused (%d) but a fit exists",
                              v->name, (unsigned long long)seed, step, n, r);
                REQUIRE(off == m.off[fit], "%s seed %#llx step %ld: alloc(%zu) at %zu, expected %zu",
                              v->name, (unsigned long long)seed, step, n, off, m.off[fit]);
                model_take(&m, off, n);
                if (test_range(&rng, 0, 3) == 0) {
                    /* A pair (GoMem's borrow): free it at once and take the
                     * same size again, through the variants' fast paths. */
                    what = "alloc pair";
                    r = v->release(t, off, n);
                    REQUIRE(r == 0, "%s seed %#llx step %ld: pair free(%zu, %zu) gave %d",
                            v->name, (unsigned long long)seed, step, off, n, r);
                    model_give(&m, off, n);
                    REQUIRE(v->check(t) == 0, "%s seed %#llx step %ld (pair free): invariant broken",
                            v->name, (unsigned long long)seed, step);
                    fit = model_fit(&m, v->policy, n);
                    r = v->alloc(t, n, &off);
                    REQUIRE(r == 0 && off == m.off[fit],
                            "%s seed %#llx step %ld: pair alloc(%zu) gave %d at %zu, expected %zu",
                            v->name, (unsigned long long)seed, step, n, r, off, m.off[fit]);
                    model_take(&m, off, n);
                }
                live_add(&l, off, n);
                allocs++;
            }
        } else if (op >= 97) {
            /* A run, with no check in between (the checker settles what
             * the variants leave pending): up to 8 allocs, of one size or
             * of several, then maybe their frees in address order, each in
             * one or two pieces, with a double free tried on the way. */
            what = "run";
            size_t n = test_range(&rng, 1, max_block / 4), offs[8], lens[8];
            unsigned k = (unsigned)test_range(&rng, 2, 8), got = 0;
            int mixed = test_range(&rng, 0, 2) == 0;
            for (unsigned j = 0; j < k; j++) {
                if (mixed)
                    n = test_range(&rng, 1, max_block / 4);
                size_t fit = model_fit(&m, v->policy, n);
                size_t off = SIZE_MAX;
                int r = v->alloc(t, n, &off);
                if (fit == SIZE_MAX) {
                    REQUIRE(r == -ENOMEM, "%s seed %#llx step %ld: run alloc(%zu) gave %d, no fit",
                            v->name, (unsigned long long)seed, step, n, r);
                    refused++;
                    break;
                }
                REQUIRE(r == 0 && off == m.off[fit],
                        "%s seed %#llx step %ld: run alloc(%zu) gave %d at %zu, expected %zu",
                        v->name, (unsigned long long)seed, step, n, r, off, m.off[fit]);
                model_take(&m, off, n);
                offs[got] = off;
                lens[got++] = n;
                allocs++;
                /* free_size settles nothing: it counts what is pending. */
                REQUIRE(v->free_size(t) == model_bytes(&m),
                        "%s seed %#llx step %ld: free_size %zu during a run, model %zu", v->name,
                        (unsigned long long)seed, step, v->free_size(t), model_bytes(&m));
            }
            if (got && test_range(&rng, 0, 2) == 0) {
                /* The last one back at once (a pair after several carves),
                 * then one more alloc of any size. */
                int r = v->release(t, offs[got - 1], lens[got - 1]);
                REQUIRE(r == 0, "%s seed %#llx step %ld: run pair free gave %d", v->name,
                        (unsigned long long)seed, step, r);
                got--;
                model_give(&m, offs[got], lens[got]);
                n = test_range(&rng, 1, max_block / 4);
                size_t fit = model_fit(&m, v->policy, n), off = SIZE_MAX;
                r = v->alloc(t, n, &off);
                REQUIRE(fit == SIZE_MAX ? r == -ENOMEM : r == 0 && off == m.off[fit],
                        "%s seed %#llx step %ld: alloc(%zu) after a run pair gave %d at %zu",
                        v->name, (unsigned long long)seed, step, n, r, off);
                if (r == 0) {
                    model_take(&m, off, n);
                    offs[got] = off;
                    lens[got++] = n;
                    allocs++;
                }
            }
            if (test_range(&rng, 0, 1)) {
                for (unsigned j = 1; j < got; j++) /* address order */
                    for (unsigned i = j; i > 0 && offs[i - 1] > offs[i]; i--) {
                        size_t x = offs[i], y = lens[i];
                        offs[i] = offs[i - 1];
                        lens[i] = lens[i - 1];
                        offs[i - 1] = x;
                        lens[i - 1] = y;
                    }
                for (unsigned j = 0; j < got; j++) {
                    n = lens[j];
                    size_t h = test_range(&rng, 0, 2) ? n : test_range(&rng, 1, n);
                    int r = v->release(t, offs[j], h);
                    if (r == 0 && h < n)
                        r = v->release(t, offs[j] + h, n - h) ? -1 : 0;
                    REQUIRE(r == 0, "%s seed %#llx step %ld: run free(%zu, %zu) in pieces failed",
                            v->name, (unsigned long long)seed, step, offs[j], n);
                    model_give(&m, offs[j], n);
                    if (test_range(&rng, 0, 3) == 0) {
                        size_t a = test_range(&rng, 0, n - 1), before = v->free_size(t);
                        r = v->release(t, offs[j] + a, test_range(&rng, 1, n));
                        REQUIRE(r == -EINVAL && before == v->free_size(t),
                                "%s seed %#llx step %ld: run double free gave %d", v->name,
                                (unsigned long long)seed, step, r);
                        invalid++;
                    }
                }
            } else {
                for (unsigned j = 0; j < got; j++)
                    live_add(&l, offs[j], lens[j]);
            }
        } else if (op < 95 && l.n > 0) {
            /* a whole allocation, its head, its tail or a middle piece */
            size_t i = (size_t)test_range(&rng, 0, l.n - 1);
            size_t off = l.off[i], len = l.len[i], a = 0, b = len;
            switch (test_range(&rng, 0, 9)) {
            case 7: what = "free head"; b = test_range(&rng, 1, len); break;
            case 8: what = "free tail"; a = test_range(&rng, 0, len - 1); break;
            case 9:
                what = "free middle";
                a = test_range(&rng, 0, len - 1);
                b = test_range(&rng, a + 1, len);
                break;
            default: what = "free whole"; break;
            }
            int r = v->release(t, off + a, b - a);
            REQUIRE(r == 0, "%s seed %#llx step %ld: %s free(%zu, %zu) gave %d", v->name,
                          (unsigned long long)seed, step, what, off + a, b - a, r);
            model_give(&m, off + a, b - a);
            live_remove(&l, i);
            if (a > 0)
                live_add(&l, off, a);
            if (b < len)
                live_add(&l, off + b, len - b);
        } else {
            /* an invalid free: empty, out of range, or over free space */
            what = "invalid free";
            size_t off, n;
            switch (test_range(&rng, 0, 3)) {
            case 0: off = test_range(&rng, 0, size); n = 0; break;
            case 1: off = test_range(&rng, size - 1, SIZE_MAX); n = test_range(&rng, 2, SIZE_MAX); break;
            default: {
                if (m.n == 0)
                    continue;
                size_t j = (size_t)test_range(&rng, 0, m.n - 1);
                size_t in = m.off[j] + test_range(&rng, 0, m.len[j] - 1);
                size_t lo = in - test_range(&rng, 0, in < 64 ? in : 64);
                off = lo;
                n = in - lo + test_range(&rng, 1, 64);
                if (off + n > size)
                    n = size - off;
                REQUIRE(model_overlaps_free(&m, off, n), "test bug: not a double free"); /* truly one */
                break;
            }
            }
            size_t before = v->free_size(t);
            int r = v->release(t, off, n);
            REQUIRE(r == -EINVAL, "%s seed %#llx step %ld: invalid free(%zu, %zu) gave %d",
                          v->name, (unsigned long long)seed, step, off, n, r);
            REQUIRE(before == v->free_size(t), "%s seed %#llx step %ld: invalid free changed free_size", v->name, (unsigned long long)seed, step);
            invalid++;
        }
        /* After every step: invariants, byte count, and the exact free list. */
        REQUIRE(v->check(t) == 0, "%s seed %#llx step %ld (%s): invariant broken", v->name,
                      (unsigned long long)seed, step, what);
        struct compare_ctx c = {&m, 0, 0};
        v->foreach_free(t, compare_block, &c);
        REQUIRE(!c.bad && c.i == m.n, "%s seed %#llx step %ld (%s): free list differs from the model",
                      v->name, (unsigned long long)seed, step, what);
        if (m.n > max_blocks)
            max_blocks = m.n;
        REQUIRE(v->free_size(t) == model_bytes(&m), "%s seed %#llx step %ld: free_size %zu, model %zu",
                      v->name, (unsigned long long)seed, step, v->free_size(t), model_bytes(&m));
    }
    /* Give everything back: one free block again. */
    while (l.n) {
        ck_assert_int_eq(v->release(t, l.off[l.n - 1], l.len[l.n - 1]), 0);
        l.n--;
    }
    ck_assert_int_eq(v->check(t), 0);
    ck_assert_uint_eq(v->free_size(t), size);
    if (getenv("GOMEM_TEST_VERBOSE"))
        fprintf(stderr, "%s: %ld steps, %ld allocs, %ld refused, %ld invalid, %zu live at the end, %zu free blocks max\n",
                v->name, steps, allocs, refused, invalid, l.n, max_blocks);
    REQUIRE(allocs > steps / 10 && (refused > 0 || !fills_up) && invalid > 0,
                  "%s: the run exercised too little (allocs %ld, refused %ld, invalid %ld)", v->name,
                  allocs, refused, invalid);
    free(m.off);
    free(m.len);
    free(m.stamp);
    free(l.off);
    free(l.len);
    v->destroy(t);
}

START_TEST(test_model_tight)
{
    /* A small range that fills up: many refusals, many neighbours. */
    run_model(variants[_i], test_seed(0x5eed0001u) + (uint64_t)_i, test_steps(1000000), 64 * 1024,
              4096, 64, 1);
}
END_TEST

START_TEST(test_model_wide)
{
    /* About 1,000 live blocks of up to 16 KiB in a 4 MiB range. */
    run_model(variants[_i], test_seed(0x5eed0002u) + (uint64_t)_i, test_steps(100000), 4 << 20,
              16384, 1000, 0);
}
END_TEST

static Suite *offset_suite(void)
{
    Suite *s = suite_create("offset");
    TCase *tc = tcase_create("unit");
    tcase_add_loop_test(tc, test_new_rejects_zero, 0, NVARIANTS);
    tcase_add_loop_test(tc, test_carves_from_start, 0, NVARIANTS);
    tcase_add_loop_test(tc, test_smallest_complete_case, 0, NVARIANTS);
    tcase_add_loop_test(tc, test_alloc_errors, 0, NVARIANTS);
    tcase_add_loop_test(tc, test_exhaust_and_refill, 0, NVARIANTS);
    tcase_add_loop_test(tc, test_free_subranges_coalesce, 0, NVARIANTS);
    tcase_add_loop_test(tc, test_invalid_frees_change_nothing, 0, NVARIANTS);
    tcase_add_loop_test(tc, test_find, 0, NVARIANTS);
    tcase_add_loop_test(tc, test_placement_policy, 0, NVARIANTS);
    tcase_add_loop_test(tc, test_alloc_after_pair, 0, NVARIANTS);
    tcase_add_loop_test(tc, test_reset, 0, NVARIANTS);
    tcase_add_loop_test(tc, test_foreach_free, 0, NVARIANTS);
    tcase_add_loop_test(tc, test_whole_address_space, 0, NVARIANTS);
    tcase_add_loop_test(tc, test_stays_balanced, 0, NVARIANTS);
    suite_add_tcase(s, tc);
    TCase *model = tcase_create("model");
    tcase_set_timeout(model, 600);
    tcase_add_loop_test(model, test_model_tight, 0, NVARIANTS);
    tcase_add_loop_test(model, test_model_wide, 0, NVARIANTS);
    suite_add_tcase(s, model);
    return s;
}

int main(void)
{
    return test_run(offset_suite());
}
