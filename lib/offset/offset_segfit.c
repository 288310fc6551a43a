/* offset_segfit.c - the segregated-fit offset allocator (default variant).
 *
 * Free blocks are filed twice:
 *  - by size, in segregated classes: 32 classes per power of two (exact
 *    below 64 bytes), each a list with the most recently changed block at
 *    its head, and a two-level bitmap of the classes that hold blocks;
 *  - by address, in the B+tree of lib/offset/addrtree.h, which finds the
 *    neighbours a free checks and coalesces with, and holds the largest
 *    length under each node.
 *
 * alloc(n) takes the head of n's own class if it holds n bytes, else the
 * head of the lowest non-empty class whose every block holds n bytes:
 * O(1), two bit scans. Only when no such class has a block
 * (every block that fits is then in n's own class) does it search the
 * tree for the lowest-addressed block that fits: O(log n). So it refuses
 * only when no free run of n bytes exists.
 *
 * free(off, n) finds the blocks around [off, off + n) in the tree, refuses
 * an overlap, and coalesces: O(log n). */
#include "offset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrtree.h"
#include "run.h"
#define GOMEM__SC_BITS 5 /* 32 classes per power of two */
#include "sizeclass.h"

#if defined(__GNUC__)
#define SEG_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define SEG_ALWAYS_INLINE inline
#endif

typedef struct gomem__block block_t;

struct gomem__segfit {
    size_t size, free;
    /* The runs served without a search (run.h). Here an alloc takes from
     * hot again without a search when it takes last_n bytes again and
     * hot, once carved, stays in its class; or, not taken, when the
     * policy picks hot for n (seg_again_fits). */
    struct gomem__run run;
    size_t nclass;            /* classes that lengths up to size use */
    struct gomem__sc_map map; /* bit c: head[c] != &nil */
    block_t **head;           /* nclass lists, each ending at &nil */
    block_t nil;
    struct gomem__addrtree at;
};

#define seg_class gomem__sc_class
#define seg_fit_class gomem__sc_fit_class

/* The class lists end at t->nil, an empty block (length 0) that fits
 * nothing, rather than NULL, and each block keeps the address of the
 * pointer to it: filing and unfiling take no branch on the data. */
static inline void seg_push(struct gomem__segfit *t, block_t *b)
{
    size_t c = seg_class(b->len);
    block_t *h = t->head[c];
    b->cls = (uint32_t)c;
    b->next = h;
    b->pprev = &t->head[c];
    h->pprev = &b->next; /* t->nil's, when the class was empty: unused */
    t->head[c] = b;
    gomem__sc_set(&t->map, c);
}

static inline void seg_unlink(struct gomem__segfit *t, block_t *b)
{
    *b->pprev = b->next;
    b->next->pprev = b->pprev;
    gomem__sc_clear_if(&t->map, b->cls, t->head[b->cls] == &t->nil);
}

/* b heads its class's list. */
static inline int seg_is_head(const struct gomem__segfit *t, const block_t *b)
{
    return b->pprev == &t->head[b->cls];
}

/* b, left by a pair as it was, heads the lowest class that holds a block
 * and holds n bytes: then n's own class is empty or b's, and every class
 * from n's up to b's is empty, so the policy picks b for n. Two bit scans,
 * where a search would settle and scan from n's class. */
static inline int seg_again_fits(const struct gomem__segfit *t, const block_t *b, size_t n)
{
    return n <= b->len && seg_is_head(t, b) && gomem__sc_search(&t->map, 0) == b->cls;
}

/* The block alloc(n) takes, or NULL; n <= t->size. */
static SEG_ALWAYS_INLINE block_t *seg_choose(const struct gomem__segfit *t, size_t n)
{
    block_t *b = t->head[seg_class(n)];
    if (b->len >= n) /* t->nil when the class is empty: length 0 */
        return b;
    size_t c = gomem__sc_search(&t->map, seg_fit_class(n));
    if (GOMEM__LIKELY(c != SIZE_MAX))
        return t->head[c];
    return gomem__at_first_fit(&t->at, n);
}

/* b, out of its list, changed length: file it again at the head of its
 * class (O(1)). */
static inline void seg_refile(struct gomem__segfit *t, block_t *b)
{
    seg_unlink(t, b);
    seg_push(t, b);
}

/* b was carved at its start since it was filed: file it where its new
 * length belongs. */
static inline void seg_file_carved(struct gomem__segfit *t, block_t *b)
{
    if (seg_class(b->len) != b->cls)
        seg_refile(t, b);
    gomem__at_shrank(b);
}

/* Carve the block the last alloc took from, or file the block the last
 * free grew, where its new length (and end) belongs. Every call but
 * free_size and size does this first, so the policy is as if it happened
 * in alloc. */
static GOMEM__NOINLINE void seg_settle_pending(struct gomem__segfit *t)
{
    block_t *b = gomem__run_carve(&t->run, &t->free);
    if (b)
        seg_file_carved(t, b);
    b = t->run.grown;
    if (b) {
        t->run.grown = NULL;
        if (!seg_is_head(t, b) || seg_class(b->len) != b->cls)
            seg_refile(t, b);
        gomem__at_grew(&t->at, b, t->run.grown_leaf, t->run.grown_idx);
    }
}

/* Most calls find nothing pending: test that here, file out of line. */
static SEG_ALWAYS_INLINE void seg_settle(struct gomem__segfit *t)
{
    if (t->run.taken || t->run.grown)
        seg_settle_pending(t);
}

/* Set up [0, size) as the one free block, the tree empty (after open or
 * restart). */
static void seg_init_range(struct gomem__segfit *t, size_t size)
{
    memset(&t->map, 0, sizeof t->map);
    for (size_t c = 0; c < t->nclass; c++)
        t->head[c] = &t->nil;
    t->size = t->free = size;
    seg_push(t, gomem__at_start(&t->at, size));
}

struct gomem__segfit *gomem__segfit_new(size_t size)
{
    if (size == 0) {
        errno = EINVAL;
        return NULL;
    }
    struct gomem__segfit *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->nclass = seg_class(size) + 1;
    if (gomem__at_open(&t->at, 1, &t->head, t->nclass)) {
        free(t);
        errno = ENOMEM;
        return NULL;
    }
    seg_init_range(t, size);
    return t;
}

void gomem__segfit_destroy(struct gomem__segfit *t)
{
    gomem__at_close(&t->at, t->head);
    free(t);
}

int gomem__segfit_find(const struct gomem__segfit *t, size_t n, size_t *off)
{
    if (n == 0 || !off)
        return -EINVAL;
    if (n > t->size)
        return -ENOMEM;
    seg_settle((struct gomem__segfit *)t); /* changes no answer: see above */
    const block_t *b = seg_choose(t, n);
    if (!b)
        return -ENOMEM;
    *off = b->off;
    return 0;
}

static GOMEM__NOINLINE int seg_alloc_any(struct gomem__segfit *t, size_t n, size_t *off)
{
    if (n == 0 || !off)
        return -EINVAL;
    if (n > t->size)
        return -ENOMEM;
    block_t *b = t->run.taken ? NULL : t->run.hot; /* as a pair left it */
    if (b)
        t->run.hot = NULL;
    if (!b || (n != t->run.last_n && !seg_again_fits(t, b, n))) {
        seg_settle(t);
        b = seg_choose(t, n);
        if (!b)
            return -ENOMEM;
    }
    if (b->len == n) {
        *off = b->off;
        t->free -= n;
        seg_unlink(t, b);
        gomem__at_remove(&t->at, b);
        return 0;
    }
    if (seg_is_head(t, b)) {
        gomem__run_take(&t->run, b, n, off);
        return 0;
    }
    *off = b->off; /* carve and file it now, as the policy says */
    t->free -= n;
    b->off += n;
    b->len -= n;
    seg_refile(t, b);
    gomem__at_shrank(b);
    return 0;
}

static GOMEM__NOINLINE int seg_free_any(struct gomem__segfit *t, size_t off, size_t n)
{
    size_t end;
    block_t *c = t->run.hot;
    if (t->run.taken && off == t->run.last_off && n == t->run.last_n) {
        /* [off, off + n) is the pending take from c's start: forget it.
         * After c's first carve that is a pair (gomem__segfit_free); after
         * several, the ones made are filed now. */
        t->run.taken = 0;
        t->run.hot = NULL;
        seg_file_carved(t, c);
        seg_settle(t);
        return 0;
    }
    /* Any other pending carve is filed after the descent below, which it
     * cannot change (it moves no key): the descent's loads need not wait
     * for it. A block a pair left is no longer as it was. */
    if (!t->run.taken)
        t->run.hot = NULL;
    /* A free that only grows t->run.grown further went the short path
     * (gomem__segfit_free); any other files it first: it moves a key. */
    if (t->run.grown)
        seg_settle(t);
    if (n == 0 || gomem__add_overflows(off, n, &end) || end > t->size)
        return -EINVAL;
    unsigned idx;
    struct gomem__at_leaf *l = gomem__at_find(&t->at, off, &idx);
    if (t->run.taken) /* t->run.grown is settled */
        seg_settle_pending(t);
    block_t *s = gomem__at_at(l, idx);   /* the first block ending after off */
    if (s && s->off < end)
        return -EINVAL;                  /* overlaps free space */
    block_t *p = gomem__at_before(l, idx); /* ends at or before off */
    int join_p = p && p->off + p->len == off;
    int join_s = s && s->off == end;
    if (join_s) {
        size_t start = off, grow = n;
        if (join_p) {
            start = p->off;
            grow += p->len;
            seg_unlink(t, p);
            gomem__at_remove(&t->at, p); /* before s grows: the tree knows s's length */
        }
        s->off = start;
        s->len += grow;
        if (!seg_is_head(t, s) || seg_class(s->len) != s->cls)
            seg_refile(t, s);
        gomem__at_longer(s); /* its end, the key, is unchanged */
    } else if (join_p) {
        p->len += n;
        /* Filed by the next call (seg_settle), unless it grows p again. */
        t->run.grown = p;
        t->run.grown_leaf = idx ? l : l->prev;
        t->run.grown_idx = idx ? idx - 1 : l->prev->h.n - 1;
        t->run.grown_next = s ? s->off : t->size;
    } else {
        block_t *b = gomem__at_block(&t->at);
        if (!b)
            return -ENOMEM;
        b->off = off;
        b->len = n;
        if (gomem__at_insert(&t->at, l, idx, b)) {
            gomem__nodepool_put(&t->at.blks, b);
            return -ENOMEM;
        }
        seg_push(t, b);
    }
    t->free += n;
    return 0;
}

/* The calls that runs of pairs, of allocs of one size and of in-order
 * frees make, decided as seg_alloc_any and seg_free_any would decide
 * them, without the registers the general paths save; every other call
 * goes on to those. */
GOMEM__HOT_ENTRY int gomem__segfit_alloc(struct gomem__segfit *t, size_t n, size_t *off)
{
    block_t *b = t->run.hot;
    if (b && off) {
        if (!t->run.taken) {
            if (GOMEM__LIKELY(n - 1 < b->len - 1 && seg_is_head(t, b) &&
                              (n == t->run.last_n || gomem__sc_search(&t->map, 0) == b->cls))) {
                /* The block a pair gave back, which the policy picks
                 * again (seg_again_fits): taken from, the carve left
                 * pending. */
                gomem__run_take(&t->run, b, n, off);
                return 0;
            }
        } else if (n == t->run.last_n && b->len - n > n && seg_class(b->len - n) == b->cls) {
            /* The last alloc took n bytes (n > 0) from b, the head of its
             * class, and nothing changed since: once carved, b is still
             * filed where its length belongs, every list and bit is as it
             * was, so the policy picks b again, and more than n bytes
             * remain. Carve the last take, and leave this one pending. */
            b->off += n;
            b->len -= n;
            t->free -= n;
            *off = b->off;
            t->run.last_off = b->off;
            return 0;
        }
    }
    return seg_alloc_any(t, n, off);
}

GOMEM__HOT_ENTRY int gomem__segfit_free(struct gomem__segfit *t, size_t off, size_t n)
{
    return gomem__run_free(&t->run, &t->free, off, n) ? 0 : seg_free_any(t, off, n);
}

#if GOMEM__OFFSET_PUBLIC_IN_VARIANT && !GOMEM_HAVE_TWOTREE
GOMEM__OFFSET_PUBLIC(segfit)
#endif

size_t gomem__segfit_free_size(const struct gomem__segfit *t)
{
    return gomem__run_free_bytes(&t->run, t->free);
}

size_t gomem__segfit_size(const struct gomem__segfit *t)
{
    return t->size;
}

int gomem__segfit_reset(struct gomem__segfit *t, size_t size)
{
    if (size == 0)
        return -EINVAL;
    int r = gomem__at_restart(&t->at, &t->head, &t->nclass, seg_class(size) + 1);
    if (r)
        return r;
    t->run = (struct gomem__run){0};
    seg_init_range(t, size);
    return 0;
}

int gomem__segfit_foreach_free(const struct gomem__segfit *t, gomem_allocator_visit_fn fn,
                               void *arg)
{
    if (!fn)
        return -EINVAL;
    seg_settle((struct gomem__segfit *)t); /* changes no answer: see above */
    return gomem__at_foreach(&t->at, fn, arg);
}

size_t gomem__segfit_depth(const struct gomem__segfit *t)
{
    return t->at.height;
}

/* The invariant checker: compiled into the white-box test library only
 * (-DGOMEM__WHITEBOX) and debug builds, never into the release ones. */
#if defined(GOMEM__WHITEBOX) || defined(GOMEM__DEBUG)
#define SEG_FAIL(...) (fprintf(stderr, "gomem segfit check: " __VA_ARGS__), -EFAULT)

int gomem__segfit_check(const struct gomem__segfit *t)
{
    seg_settle((struct gomem__segfit *)t);
    int r = gomem__at_check(&t->at, "segfit");
    if (r)
        return r;
    size_t bytes = 0, blocks = 0, prev_end = 0;
    for (const block_t *b = gomem__at_first(&t->at); b; b = gomem__at_next(b)) {
        size_t end;
        if (b->len == 0)
            return SEG_FAIL("empty block at %zu\n", b->off);
        if (gomem__add_overflows(b->off, b->len, &end) || end > t->size)
            return SEG_FAIL("block [%zu, +%zu) out of range\n", b->off, b->len);
        if (blocks && b->off <= prev_end)
            return SEG_FAIL("block at %zu touches or overlaps the one before (ends %zu)\n",
                            b->off, prev_end);
        if (b->cls != seg_class(b->len))
            return SEG_FAIL("block [%zu, +%zu) filed in class %zu, not %zu\n", b->off, b->len,
                            (size_t)b->cls, seg_class(b->len));
        prev_end = end;
        bytes += b->len;
        blocks++;
    }
    if (bytes != t->free)
        return SEG_FAIL("free bytes %zu, counted %zu\n", t->free, bytes);
    size_t listed = 0;
    for (size_t c = 0; c < GOMEM__SC_MAX; c++) {
        int bit = gomem__sc_has(&t->map, c);
        const block_t *h = c < t->nclass ? t->head[c] : &t->nil;
        if (bit != (h != &t->nil))
            return SEG_FAIL("bitmap bit of class %zu is %d\n", c, bit);
        for (block_t *const *pp = c < t->nclass ? &t->head[c] : NULL; pp && *pp != &t->nil;
             pp = &(*pp)->next) {
            const block_t *b = *pp;
            if (b->pprev != pp || b->cls != c)
                return SEG_FAIL("class %zu list broken\n", c);
            if (++listed > blocks)
                return SEG_FAIL("class lists hold more blocks than the tree\n");
        }
    }
    for (size_t w = 0; w < GOMEM__SC_WORDS; w++)
        if ((int)((t->map.top >> w) & 1) != (t->map.word[w] != 0))
            return SEG_FAIL("top bitmap bit %zu wrong\n", w);
    if (listed != blocks)
        return SEG_FAIL("%zu blocks listed by size, %zu in the tree\n", listed, blocks);
    return 0;
}
#endif /* GOMEM__WHITEBOX */

GOMEM__OFFSET_OPS(segfit, "segfit", GOMEM__FIT_GOOD);
