/* offset_avl.c - the two-tree offset allocator (--enable-twotree): best fit.
 *
 * Free blocks are filed twice:
 *  - by size: in the size classes of lib/offset/sizeclass.h (exact below
 *    128, 64 per power of two above), each class an AVL tree ordered by
 *    (length, offset), with the bitmap of the classes that hold a block. A
 *    class holds few blocks, so its tree is shallow;
 *  - by address: in the B+tree of lib/offset/addrtree.h (shared with the
 *    default variant), which finds the neighbours a free checks and
 *    coalesces with.
 *
 * alloc(n) takes the best fit, the smallest block that holds n bytes and
 * the lowest-addressed one among equals: the first block of at least n in
 * n's own class, else the first block of the next class that holds any
 * (one bit scan). O(log n) in the worst case, like free. */
#include "offset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrtree.h"
#include "run.h"
/* 64 classes per power of two, not 32: half as many blocks in a class's
 * tree (random work, peer harness f: 63 -> 56 ns per call). */
#define GOMEM__SC_BITS 6
#include "sizeclass.h"

typedef struct gomem__block block_t;

/* The size side's use of a block's fields. */
#define LEFT(x) ((x)->next)
#define RIGHT(x) ((x)->prev)
#define HEIGHT(x) ((x)->aux)

struct gomem__avl {
    size_t size, free;
    size_t nclass;            /* classes that lengths up to size use */
    struct gomem__sc_map map; /* bit c: root[c] != NIL */
    block_t **root;           /* nclass trees */
    /* The runs served without a search (run.h): hot is filed under the
     * key (run.first_off, key_len), where the search for key_n bytes
     * found it: every other block of at least key_n bytes has at least
     * key_len (best fit), so while hot is pending, it is the best fit for
     * any n >= key_n it holds, and an alloc of such an n takes from it
     * again without a search. The block run.grown is filed under
     * grown_len. */
    struct gomem__run run;
    size_t key_len, key_n;
    size_t grown_len;
    struct gomem__addrtree at;
};

/* The empty tree: every missing child and every empty class points at
 * this node of height 0, so a height is read with no test for NULL (a
 * branch on the data, mispredicted about half the time in small trees).
 * Shared by every allocator and never written. */
static block_t avl_nil;
#define NIL (&avl_nil)

static inline uint32_t avl_h(const block_t *x)
{
    return HEIGHT(x);
}

static inline void avl_fix(block_t *x)
{
    uint32_t l = avl_h(LEFT(x)), r = avl_h(RIGHT(x));
    HEIGHT(x) = 1 + (l > r ? l : r);
}

/* a before b: by length, then by offset (offsets never repeat). */
static inline int avl_before(const block_t *a, const block_t *b)
{
    return a->len != b->len ? a->len < b->len : a->off < b->off;
}

static block_t *avl_rotate_right(block_t *x)
{
    block_t *y = LEFT(x);
    LEFT(x) = RIGHT(y);
    RIGHT(y) = x;
    avl_fix(x);
    avl_fix(y);
    return y;
}

static block_t *avl_rotate_left(block_t *x)
{
    block_t *y = RIGHT(x);
    RIGHT(x) = LEFT(y);
    LEFT(y) = x;
    avl_fix(x);
    avl_fix(y);
    return y;
}

static block_t *avl_balance(block_t *x)
{
    uint32_t l = avl_h(LEFT(x)), r = avl_h(RIGHT(x));
    if (l > r + 1) {
        if (avl_h(LEFT(LEFT(x))) < avl_h(RIGHT(LEFT(x))))
            LEFT(x) = avl_rotate_left(LEFT(x));
        return avl_rotate_right(x);
    }
    if (r > l + 1) {
        if (avl_h(RIGHT(RIGHT(x))) < avl_h(LEFT(RIGHT(x))))
            RIGHT(x) = avl_rotate_right(RIGHT(x));
        return avl_rotate_left(x);
    }
    HEIGHT(x) = 1 + (l > r ? l : r);
    return x;
}

static block_t *avl_insert(block_t *x, block_t *b)
{
    if (x == NIL) {
        LEFT(b) = RIGHT(b) = NIL;
        HEIGHT(b) = 1;
        return b;
    }
    if (avl_before(b, x))
        LEFT(x) = avl_insert(LEFT(x), b);
    else
        RIGHT(x) = avl_insert(RIGHT(x), b);
    return avl_balance(x);
}

/* Take the first node of x's subtree out into *min. */
static block_t *avl_take_min(block_t *x, block_t **min)
{
    if (LEFT(x) == NIL) {
        *min = x;
        return RIGHT(x);
    }
    LEFT(x) = avl_take_min(LEFT(x), min);
    return avl_balance(x);
}

/* Remove b, which is in x's subtree. */
static block_t *avl_remove(block_t *x, const block_t *b)
{
    if (x == b) {
        if (LEFT(x) == NIL)
            return RIGHT(x);
        if (RIGHT(x) == NIL)
            return LEFT(x);
        block_t *m;
        block_t *r = avl_take_min(RIGHT(x), &m);
        LEFT(m) = LEFT(x);
        RIGHT(m) = r;
        return avl_balance(m);
    }
    if (avl_before(b, x))
        LEFT(x) = avl_remove(LEFT(x), b);
    else
        RIGHT(x) = avl_remove(RIGHT(x), b);
    return avl_balance(x);
}

/* File b (off and len set) by size. */
static inline void avl_file(struct gomem__avl *t, block_t *b)
{
    size_t c = gomem__sc_class(b->len);
    b->cls = (uint32_t)c;
    if (t->root[c] == NIL)
        gomem__sc_set(&t->map, c);
    t->root[c] = avl_insert(t->root[c], b);
}

/* Take b out of its class, before its length or offset changes. */
static inline void avl_unfile(struct gomem__avl *t, block_t *b)
{
    size_t c = b->cls;
    t->root[c] = avl_remove(t->root[c], b);
    if (t->root[c] == NIL)
        gomem__sc_clear(&t->map, c);
}

/* hot was carved since it was filed under (run.first_off, key_len): file it
 * under its new key. */
static void avl_refile_carved(struct gomem__avl *t, block_t *b)
{
    size_t off = b->off, len = b->len;
    b->off = t->run.first_off; /* its key in the tree */
    b->len = t->key_len;
    avl_unfile(t, b);
    b->off = off;
    b->len = len;
    avl_file(t, b);
}

/* Carve what the last alloc took and file that block, or the block the
 * last free grew, under its new key. Every call but free_size and size
 * does this first, so every answer is as if it happened at once. */
static GOMEM__NOINLINE void avl_settle_pending(struct gomem__avl *t)
{
    block_t *b = gomem__run_carve(&t->run, &t->free);
    if (b)
        avl_refile_carved(t, b);
    b = t->run.grown;
    if (b) {
        size_t len = b->len;
        t->run.grown = NULL;
        b->len = t->grown_len;
        avl_unfile(t, b);
        b->len = len;
        avl_file(t, b);
        gomem__at_grew(&t->at, b, t->run.grown_leaf, t->run.grown_idx);
    }
}

/* Most calls find nothing pending: test that here, file out of line. */
static inline void avl_settle(struct gomem__avl *t)
{
    if (t->run.taken || t->run.grown)
        avl_settle_pending(t);
}

/* The best fit for n (<= t->size), or NULL. */
static const block_t *avl_best(const struct gomem__avl *t, size_t n)
{
    const block_t *best = NULL;
    for (const block_t *x = t->root[gomem__sc_class(n)]; x != NIL;) {
        if (x->len >= n) {
            best = x;
            x = LEFT(x);
        } else {
            x = RIGHT(x);
        }
    }
    if (best)
        return best;
    size_t c = gomem__sc_search(&t->map, gomem__sc_class(n) + 1);
    if (c == SIZE_MAX)
        return NULL;
    const block_t *x = t->root[c];
    while (LEFT(x) != NIL)
        x = LEFT(x);
    return x;
}

/* Set up [0, size) as the one free block, the tree empty (after open or
 * restart). */
static void avl_init_range(struct gomem__avl *t, size_t size)
{
    memset(&t->map, 0, sizeof t->map);
    for (size_t c = 0; c < t->nclass; c++)
        t->root[c] = NIL;
    t->size = t->free = size;
    avl_file(t, gomem__at_start(&t->at, size));
}

struct gomem__avl *gomem__avl_new(size_t size)
{
    if (size == 0) {
        errno = EINVAL;
        return NULL;
    }
    struct gomem__avl *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->nclass = gomem__sc_class(size) + 1;
    if (gomem__at_open(&t->at, 0, &t->root, t->nclass)) {
        free(t);
        errno = ENOMEM;
        return NULL;
    }
    avl_init_range(t, size);
    return t;
}

void gomem__avl_destroy(struct gomem__avl *t)
{
    gomem__at_close(&t->at, t->root);
    free(t);
}

int gomem__avl_find(const struct gomem__avl *t, size_t n, size_t *off)
{
    if (n == 0 || !off)
        return -EINVAL;
    if (n > t->size)
        return -ENOMEM;
    avl_settle((struct gomem__avl *)t); /* changes no answer: see above */
    const block_t *b = avl_best(t, n);
    if (!b)
        return -ENOMEM;
    *off = b->off;
    return 0;
}

static GOMEM__NOINLINE int avl_alloc_any(struct gomem__avl *t, size_t n, size_t *off)
{
    if (n == 0 || !off)
        return -EINVAL;
    if (n > t->size)
        return -ENOMEM;
    if (!t->run.taken)
        t->run.hot = NULL; /* as a pair left it, but not the best fit for n */
    avl_settle(t);
    block_t *b = (block_t *)avl_best(t, n);
    if (!b)
        return -ENOMEM;
    if (b->len == n) {
        *off = b->off;
        t->free -= n;
        avl_unfile(t, b);
        gomem__at_remove(&t->at, b);
        return 0;
    }
    gomem__run_take(&t->run, b, n, off);
    t->key_len = b->len;
    t->key_n = n;
    return 0;
}

static GOMEM__NOINLINE int avl_free_any(struct gomem__avl *t, size_t off, size_t n)
{
    size_t end;
    block_t *c = t->run.hot;
    if (t->run.taken) {
        if (off == t->run.last_off && n == t->run.last_n) {
            /* [off, off + n) is the pending take from c's start, and c
             * was carved before it (else gomem__avl_free forgot it): c
             * is filed anew. */
            t->run.taken = 0;
            t->run.hot = NULL;
            avl_refile_carved(t, c);
            avl_settle(t);
            return 0;
        }
        /* Else filed after the descent below, which it cannot change (it
         * moves no key of the address tree): the descent's loads need not
         * wait for it. */
    } else {
        t->run.hot = NULL; /* no longer as a pair left it */
    }
    if (t->run.grown) /* gomem__avl_free grew it if it could */
        avl_settle(t);
    if (n == 0 || gomem__add_overflows(off, n, &end) || end > t->size)
        return -EINVAL;
    unsigned idx;
    struct gomem__at_leaf *l = gomem__at_find(&t->at, off, &idx);
    if (t->run.taken) /* t->run.grown is settled */
        avl_settle_pending(t);
    block_t *s = gomem__at_at(l, idx);     /* the first block ending after off */
    if (s && s->off < end)
        return -EINVAL;                    /* overlaps free space */
    block_t *p = gomem__at_before(l, idx); /* ends at or before off */
    int join_p = p && p->off + p->len == off;
    int join_s = s && s->off == end;
    if (join_s) {
        avl_unfile(t, s);
        s->off = off;
        s->len += n;
        if (join_p) {
            avl_unfile(t, p);
            s->off = p->off;
            s->len += p->len;
            gomem__at_remove(&t->at, p);
        }
        avl_file(t, s);
    } else if (join_p) {
        /* Filed again by the next call (avl_settle), unless it grows p
         * again. */
        t->run.grown = p;
        t->grown_len = p->len;
        t->run.grown_leaf = idx ? l : l->prev;
        t->run.grown_idx = idx ? idx - 1 : l->prev->h.n - 1;
        t->run.grown_next = s ? s->off : t->size;
        p->len += n;
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
        avl_file(t, b);
    }
    t->free += n;
    return 0;
}

/* The calls that runs of pairs, of allocs the last search's block still
 * fits best and of in-order frees make, decided as avl_alloc_any and
 * avl_free_any would decide them, without the registers the general
 * paths save; every other call goes on to those. */
GOMEM__HOT_ENTRY int gomem__avl_alloc(struct gomem__avl *t, size_t n, size_t *off)
{
    block_t *b = t->run.hot;
    if (b && off && n >= t->key_n) { /* key_n >= 1 */
        size_t pend = t->run.taken ? t->run.last_n : 0;
        if (GOMEM__LIKELY(n < b->len - pend)) {
            /* The best fit again (see key_n): carve the last take, and
             * leave this one pending. */
            b->off += pend;
            b->len -= pend;
            t->free -= pend;
            *off = b->off;
            t->run.last_off = b->off;
            t->run.last_n = n;
            t->run.taken = 1;
            return 0;
        }
    }
    return avl_alloc_any(t, n, off);
}

GOMEM__HOT_ENTRY int gomem__avl_free(struct gomem__avl *t, size_t off, size_t n)
{
    return gomem__run_free(&t->run, &t->free, off, n) ? 0 : avl_free_any(t, off, n);
}

#if GOMEM__OFFSET_PUBLIC_IN_VARIANT && GOMEM_HAVE_TWOTREE
GOMEM__OFFSET_PUBLIC(avl)
#endif

size_t gomem__avl_free_size(const struct gomem__avl *t)
{
    return gomem__run_free_bytes(&t->run, t->free);
}

size_t gomem__avl_size(const struct gomem__avl *t)
{
    return t->size;
}

int gomem__avl_reset(struct gomem__avl *t, size_t size)
{
    if (size == 0)
        return -EINVAL;
    int r = gomem__at_restart(&t->at, &t->root, &t->nclass, gomem__sc_class(size) + 1);
    if (r)
        return r;
    t->run = (struct gomem__run){0};
    avl_init_range(t, size);
    return 0;
}

int gomem__avl_foreach_free(const struct gomem__avl *t, gomem_allocator_visit_fn fn, void *arg)
{
    if (!fn)
        return -EINVAL;
    avl_settle((struct gomem__avl *)t); /* changes no answer: see above */
    return gomem__at_foreach(&t->at, fn, arg);
}

/* The height of the address index: its levels. */
size_t gomem__avl_depth(const struct gomem__avl *t)
{
    return t->at.height;
}

/* The invariant checker: compiled into the white-box test library only
 * (-DGOMEM__WHITEBOX) and debug builds, never into the release ones. */
#if defined(GOMEM__WHITEBOX) || defined(GOMEM__DEBUG)
#define AVL_FAIL(...) (fprintf(stderr, "gomem avl check: " __VA_ARGS__), -EFAULT)

/* Audit class c's tree under x: order, heights, balance, classes. */
static int avl_audit(const block_t *x, size_t c, const block_t **prev, size_t *count)
{
    if (x == NIL)
        return 0;
    int r = avl_audit(LEFT(x), c, prev, count);
    if (r)
        return r;
    if (x->cls != c || gomem__sc_class(x->len) != c)
        return AVL_FAIL("block [%zu, +%zu) in the tree of class %zu\n", x->off, x->len, c);
    if (*prev && !avl_before(*prev, x))
        return AVL_FAIL("class %zu out of order at [%zu, +%zu)\n", c, x->off, x->len);
    uint32_t l = avl_h(LEFT(x)), rh = avl_h(RIGHT(x));
    if (HEIGHT(x) != 1 + (l > rh ? l : rh) || l > rh + 1 || rh > l + 1)
        return AVL_FAIL("height or balance wrong at [%zu, +%zu)\n", x->off, x->len);
    *prev = x;
    ++*count;
    return avl_audit(RIGHT(x), c, prev, count);
}

int gomem__avl_check(const struct gomem__avl *t)
{
    avl_settle((struct gomem__avl *)t);
    int r = gomem__at_check(&t->at, "avl");
    if (r)
        return r;
    size_t bytes = 0, blocks = 0, prev_end = 0;
    for (const block_t *b = gomem__at_first(&t->at); b; b = gomem__at_next(b)) {
        size_t end;
        if (b->len == 0)
            return AVL_FAIL("empty block at %zu\n", b->off);
        if (gomem__add_overflows(b->off, b->len, &end) || end > t->size)
            return AVL_FAIL("block [%zu, +%zu) out of range\n", b->off, b->len);
        if (blocks && b->off <= prev_end)
            return AVL_FAIL("block at %zu touches or overlaps the one before (ends %zu)\n",
                            b->off, prev_end);
        prev_end = end;
        bytes += b->len;
        blocks++;
    }
    if (bytes != t->free)
        return AVL_FAIL("free bytes %zu, counted %zu\n", t->free, bytes);
    if (HEIGHT(NIL) != 0 || LEFT(NIL) || RIGHT(NIL))
        return AVL_FAIL("the empty tree was written\n");
    size_t filed = 0;
    for (size_t c = 0; c < GOMEM__SC_MAX; c++) {
        const block_t *x = c < t->nclass ? t->root[c] : NIL;
        if (gomem__sc_has(&t->map, c) != (x != NIL))
            return AVL_FAIL("bitmap bit of class %zu wrong\n", c);
        const block_t *prev = NULL;
        if ((r = avl_audit(x, c, &prev, &filed)) != 0)
            return r;
    }
    if (filed != blocks)
        return AVL_FAIL("%zu blocks filed by size, %zu in the tree\n", filed, blocks);
    return 0;
}
#endif /* GOMEM__WHITEBOX */

GOMEM__OFFSET_OPS(avl, "avl (twotree)", GOMEM__FIT_BEST);
