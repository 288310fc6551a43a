/* offset_treap.c - the single-tree offset allocator (default variant).
 *
 * One treap of the free blocks, ordered by offset, heap-ordered by random
 * priorities (so it stays balanced whatever the block sizes are). Each node
 * also holds the largest free length in its subtree, so alloc descends to
 * the lowest-addressed block that fits in O(log n) expected steps and fails
 * only when no block fits.
 *
 * alloc and free search from the root, remembering the links they passed
 * in t->path, change one node (or add/remove one), then repair the
 * subtree maxima along that path. */
#include "offset.h"

#include <stdio.h>
#include <stdlib.h>

#include "nodepool.h"

struct treap_node {
    struct treap_node *child[2]; /* below, above in address order */
    size_t off, len;   /* the free block [off, off + len) */
    size_t max[2];     /* the largest len in each child's subtree */
    uint32_t prio;     /* max-heap order */
};

struct gomem__treap {
    struct treap_node *root;
    size_t size;             /* the managed range is [0, size) */
    size_t free;             /* free bytes */
    size_t blocks;           /* free blocks (= nodes in the tree) */
    uint64_t rng;            /* xorshift state for priorities */
    struct treap_node ***path; /* links passed by the last search */
    size_t path_cap;
    struct gomem__nodepool pool;
};

/* The children's maxima live in the parent, so a search decides where to
 * go from the node it is on: one dependent load per level. */
static inline size_t treap_max(const struct treap_node *x)
{
    if (!x)
        return 0;
    size_t m = x->len > x->max[0] ? x->len : x->max[0];
    return m > x->max[1] ? m : x->max[1];
}

static inline void treap_update(struct treap_node *x)
{
    x->max[0] = treap_max(x->child[0]);
    x->max[1] = treap_max(x->child[1]);
}

static uint32_t treap_prio(struct gomem__treap *t)
{
    uint64_t x = t->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    t->rng = x;
    return (uint32_t)(x >> 32);
}

static GOMEM__NOINLINE int treap_grow_path(struct gomem__treap *t)
{
    size_t cap = t->path_cap ? t->path_cap * 2 : 64;
    struct treap_node ***p = realloc(t->path, cap * sizeof *p);
    if (!p)
        return -ENOMEM;
    t->path = p;
    t->path_cap = cap;
    return 0;
}

/* Record link at depth d of the current search; -ENOMEM if the path
 * cannot grow (nothing has been changed yet when this is called). */
static inline int treap_push(struct gomem__treap *t, size_t d, struct treap_node **link)
{
    if (GOMEM__UNLIKELY(d == t->path_cap) && treap_grow_path(t))
        return -ENOMEM;
    t->path[d] = link;
    return 0;
}

/* The subtree hanging at link, a child link of the path node at depth
 * d - 1, changed: carry its new maximum up the path, stopping where a
 * stored maximum is already right. */
static inline void treap_repair(struct gomem__treap *t, size_t d, struct treap_node **link)
{
    size_t m = treap_max(*link);
    while (d-- > 0) {
        struct treap_node *y = *t->path[d];
        size_t *kept = &y->max[link == &y->child[1]];
        if (*kept == m)
            return;
        *kept = m;
        m = treap_max(y);
        link = t->path[d];
    }
}

/* Join two treaps, every key of a below every key of b. */
static struct treap_node *treap_merge(struct treap_node *a, struct treap_node *b)
{
    if (!a)
        return b;
    if (!b)
        return a;
    if (a->prio > b->prio) {
        a->child[1] = treap_merge(a->child[1], b);
        treap_update(a);
        return a;
    }
    b->child[0] = treap_merge(a, b->child[0]);
    treap_update(b);
    return b;
}

/* Split x into keys below off (*lo) and the rest (*hi). */
static void treap_split(struct treap_node *x, size_t off, struct treap_node **lo,
                        struct treap_node **hi)
{
    if (!x) {
        *lo = *hi = NULL;
    } else if (x->off < off) {
        treap_split(x->child[1], off, &x->child[1], hi);
        treap_update(x);
        *lo = x;
    } else {
        treap_split(x->child[0], off, lo, &x->child[0]);
        treap_update(x);
        *hi = x;
    }
}

static void treap_release(struct gomem__treap *t, struct treap_node *x)
{
    if (!x)
        return;
    treap_release(t, x->child[0]);
    treap_release(t, x->child[1]);
    gomem__nodepool_put(&t->pool, x);
}

/* Make [0, size) the one free block; a node must be available. */
static void treap_init_range(struct gomem__treap *t, size_t size)
{
    struct treap_node *x = gomem__nodepool_get(&t->pool);
    x->child[0] = x->child[1] = NULL;
    x->off = 0;
    x->len = size;
    x->max[0] = x->max[1] = 0;
    x->prio = treap_prio(t);
    t->root = x;
    t->size = t->free = size;
    t->blocks = 1;
}

struct gomem__treap *gomem__treap_new(size_t size)
{
    if (size == 0) {
        errno = EINVAL;
        return NULL;
    }
    struct gomem__treap *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    gomem__nodepool_init(&t->pool, sizeof(struct treap_node));
    t->rng = 0x9E3779B97F4A7C15ULL;
    if (gomem__nodepool_reserve(&t->pool)) {
        free(t);
        errno = ENOMEM;
        return NULL;
    }
    treap_init_range(t, size);
    return t;
}

void gomem__treap_destroy(struct gomem__treap *t)
{
    gomem__nodepool_destroy(&t->pool);
    free(t->path);
    free(t);
}

/* The lowest-addressed node with len >= n, or NULL. */
static const struct treap_node *treap_first_fit(const struct treap_node *x, size_t n)
{
    if (treap_max(x) < n)
        return NULL;
    for (;;) {
        int up = x->max[0] < n; /* no fit below x */
        if (up & (x->len >= n))
            return x;
        x = x->child[up];
    }
}

int gomem__treap_find(const struct gomem__treap *t, size_t n, size_t *off)
{
    if (n == 0 || !off)
        return -EINVAL;
    const struct treap_node *x = treap_first_fit(t->root, n);
    if (!x)
        return -ENOMEM;
    *off = x->off;
    return 0;
}

/* Take node x, reached through link, out of the tree. */
static GOMEM__NOINLINE void treap_remove(struct gomem__treap *t, struct treap_node *x,
                                         struct treap_node **link)
{
    *link = treap_merge(x->child[0], x->child[1]);
    gomem__nodepool_put(&t->pool, x);
    t->blocks--;
}

int gomem__treap_alloc(struct gomem__treap *t, size_t n, size_t *off)
{
    if (n == 0 || !off)
        return -EINVAL;
    if (treap_max(t->root) < n)
        return -ENOMEM;
    struct treap_node **link = &t->root, *x;
    size_t d = 0;
    /* The direction is computed, not branched on: it is random on real
     * workloads, and mispredictions would cost more than the tree walk. */
    for (;;) {
        x = *link;
        if (treap_push(t, d++, link))
            return -ENOMEM;
        int up = x->max[0] < n; /* no fit below x */
        if (up & (x->len >= n))
            break;
        link = &x->child[up];
    }
    *off = x->off;
    x->off += n;
    x->len -= n;
    t->free -= n;
    if (x->len == 0)
        treap_remove(t, x, link);
    treap_repair(t, d - 1, link); /* from x's parent up */
    return 0;
}

/* [p][n freed bytes][s] becomes p, and s leaves the tree. The search
 * path of the free has depth d, s at depth ds - 1. Everything below s on
 * the path is repaired first: p may be down there. */
static GOMEM__NOINLINE void treap_join_both(struct gomem__treap *t, struct treap_node *p,
                                            struct treap_node *s, size_t n, size_t d, size_t ds)
{
    p->len += n + s->len;
    for (size_t i = d; i-- > ds;)
        treap_update(*t->path[i]);
    *t->path[ds - 1] = treap_merge(s->child[0], s->child[1]);
    gomem__nodepool_put(&t->pool, s);
    t->blocks--;
    for (size_t i = ds - 1; i-- > 0;)
        treap_update(*t->path[i]);
}

/* A new block [off, off + n) that touches no free block: a node goes where
 * the search path (depth d, ending at the empty link leaf) first meets a
 * lower priority, taking the keys of that subtree on either side. */
static GOMEM__NOINLINE int treap_insert(struct gomem__treap *t, size_t off, size_t n, size_t d,
                                        struct treap_node **leaf)
{
    struct treap_node *y = gomem__nodepool_get(&t->pool);
    if (!y)
        return -ENOMEM;
    y->off = off;
    y->len = n;
    y->prio = treap_prio(t);
    size_t i = 0;
    while (i < d && (*t->path[i])->prio >= y->prio)
        i++;
    struct treap_node **at = i < d ? t->path[i] : leaf;
    treap_split(*at, off, &y->child[0], &y->child[1]);
    treap_update(y);
    *at = y;
    t->blocks++;
    treap_repair(t, i, at);
    return 0;
}

int gomem__treap_free(struct gomem__treap *t, size_t off, size_t n)
{
    size_t end;
    if (n == 0 || gomem__add_overflows(off, n, &end) || end > t->size)
        return -EINVAL;
    /* Search for off, remembering the predecessor p (the last node at or
     * below off) and the successor s, with their depths. */
    struct treap_node **link = &t->root, *x, *p = NULL, *s = NULL;
    size_t d = 0, dp = 0, ds = 0;
    while ((x = *link) != NULL) {
        if (treap_push(t, d, link))
            return -ENOMEM;
        d++;
        int up = x->off <= off;
        p = up ? x : p;
        dp = up ? d : dp;
        s = up ? s : x;
        ds = up ? ds : d;
        link = &x->child[up];
    }
    if ((p && p->off + p->len > off) || (s && s->off < end))
        return -EINVAL; /* overlaps free space: a double free */
    int join_p = p && p->off + p->len == off;
    int join_s = s && s->off == end;

    if (join_p && join_s) {
        treap_join_both(t, p, s, n, d, ds);
    } else if (join_p) {
        p->len += n;
        treap_repair(t, dp - 1, t->path[dp - 1]);
    } else if (join_s) {
        s->off = off; /* still between p and s: order holds */
        s->len += n;
        treap_repair(t, ds - 1, t->path[ds - 1]);
    } else if (treap_insert(t, off, n, d, link)) {
        return -ENOMEM;
    }
    t->free += n;
    return 0;
}

size_t gomem__treap_free_size(const struct gomem__treap *t)
{
    return t->free;
}

size_t gomem__treap_size(const struct gomem__treap *t)
{
    return t->size;
}

int gomem__treap_reset(struct gomem__treap *t, size_t size)
{
    if (size == 0)
        return -EINVAL;
    if (!t->root && gomem__nodepool_reserve(&t->pool))
        return -ENOMEM;
    treap_release(t, t->root);
    treap_init_range(t, size);
    return 0;
}

static int treap_walk(const struct treap_node *x, gomem_allocator_visit_fn fn, void *arg)
{
    while (x) {
        int r = treap_walk(x->child[0], fn, arg);
        if (r)
            return r;
        if ((r = fn(x->off, x->len, arg)) != 0)
            return r;
        x = x->child[1];
    }
    return 0;
}

int gomem__treap_foreach_free(const struct gomem__treap *t, gomem_allocator_visit_fn fn, void *arg)
{
    return fn ? treap_walk(t->root, fn, arg) : -EINVAL;
}

static size_t treap_height(const struct treap_node *x)
{
    if (!x)
        return 0;
    size_t l = treap_height(x->child[0]), r = treap_height(x->child[1]);
    return 1 + (l > r ? l : r);
}

size_t gomem__treap_depth(const struct gomem__treap *t)
{
    return treap_height(t->root);
}

/* The invariant checker: compiled into the white-box test library only
 * (-DGOMEM__WHITEBOX), never into the installed ones. */
#ifdef GOMEM__WHITEBOX
struct treap_audit {
    size_t size, bytes, blocks;
    size_t prev_end; /* end of the previous block in address order */
    int any;
};

#define TREAP_FAIL(...) (fprintf(stderr, "gomem treap check: " __VA_ARGS__), -EFAULT)

static int treap_audit(const struct treap_node *x, struct treap_audit *a)
{
    if (!x)
        return 0;
    if (x->child[0] && x->child[0]->prio > x->prio)
        return TREAP_FAIL("heap order broken at offset %zu\n", x->off);
    if (x->child[1] && x->child[1]->prio > x->prio)
        return TREAP_FAIL("heap order broken at offset %zu\n", x->off);
    int r = treap_audit(x->child[0], a);
    if (r)
        return r;
    size_t end;
    if (x->len == 0)
        return TREAP_FAIL("empty block at offset %zu\n", x->off);
    if (gomem__add_overflows(x->off, x->len, &end) || end > a->size)
        return TREAP_FAIL("block [%zu, +%zu) out of range\n", x->off, x->len);
    if (a->any && x->off <= a->prev_end)
        return TREAP_FAIL("block at %zu out of order or touching the previous one (ends %zu)\n",
                          x->off, a->prev_end);
    if (x->max[0] != treap_max(x->child[0]) || x->max[1] != treap_max(x->child[1]))
        return TREAP_FAIL("subtree maxima %zu, %zu at offset %zu, expected %zu, %zu\n", x->max[0],
                          x->max[1], x->off, treap_max(x->child[0]), treap_max(x->child[1]));
    a->prev_end = end;
    a->any = 1;
    a->bytes += x->len;
    a->blocks++;
    return treap_audit(x->child[1], a);
}

int gomem__treap_check(const struct gomem__treap *t)
{
    struct treap_audit a = {t->size, 0, 0, 0, 0};
    int r = treap_audit(t->root, &a);
    if (r)
        return r;
    if (a.bytes != t->free)
        return TREAP_FAIL("free bytes %zu, counted %zu\n", t->free, a.bytes);
    if (a.blocks != t->blocks)
        return TREAP_FAIL("free blocks %zu, counted %zu\n", t->blocks, a.blocks);
    return 0;
}
#endif /* GOMEM__WHITEBOX */

GOMEM__OFFSET_OPS(treap, "treap", 0);
