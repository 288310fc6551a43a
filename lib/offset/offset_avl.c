/* offset_avl.c - the two-tree offset allocator (--enable-twotree).
 *
 * Every free block is one node threaded on two AVL trees: one ordered by
 * offset (to find the neighbours a free coalesces with) and one ordered by
 * (length, offset) (to find the best fit: the smallest block that fits,
 * the lowest offset on ties). */
#include "offset.h"

#include <stdio.h>
#include <stdlib.h>

#include "nodepool.h"

enum { BY_OFF, BY_SIZE, NTREES };

struct avl_node {
    struct avl_node *child[NTREES][2];
    int8_t height[NTREES];
    size_t off, len; /* the free block [off, off + len) */
};

struct gomem__avl {
    struct avl_node *root[NTREES];
    size_t size, free, blocks;
    struct gomem__nodepool pool;
};

static inline int avl_h(const struct avl_node *x, int k)
{
    return x ? x->height[k] : 0;
}

static inline void avl_fix_height(struct avl_node *x, int k)
{
    int l = avl_h(x->child[k][0], k), r = avl_h(x->child[k][1], k);
    x->height[k] = (int8_t)(1 + (l > r ? l : r));
}

/* a before b in tree k. Keys are unique: offsets never repeat. */
static inline int avl_before(const struct avl_node *a, const struct avl_node *b, int k)
{
    if (k == BY_SIZE && a->len != b->len)
        return a->len < b->len;
    return a->off < b->off;
}

/* Rotate x's child on side dir up into x's place. */
static struct avl_node *avl_rotate(struct avl_node *x, int k, int dir)
{
    struct avl_node *y = x->child[k][dir];
    x->child[k][dir] = y->child[k][!dir];
    y->child[k][!dir] = x;
    avl_fix_height(x, k);
    avl_fix_height(y, k);
    return y;
}

static struct avl_node *avl_balance(struct avl_node *x, int k)
{
    avl_fix_height(x, k);
    int bal = avl_h(x->child[k][1], k) - avl_h(x->child[k][0], k);
    if (bal > 1 || bal < -1) {
        int dir = bal > 0; /* the heavy side */
        struct avl_node *c = x->child[k][dir];
        if (avl_h(c->child[k][!dir], k) > avl_h(c->child[k][dir], k))
            x->child[k][dir] = avl_rotate(c, k, !dir);
        x = avl_rotate(x, k, dir);
    }
    return x;
}

static struct avl_node *avl_insert(struct avl_node *root, struct avl_node *n, int k)
{
    if (!root) {
        n->child[k][0] = n->child[k][1] = NULL;
        n->height[k] = 1;
        return n;
    }
    int dir = !avl_before(n, root, k);
    int was = avl_h(root->child[k][dir], k);
    root->child[k][dir] = avl_insert(root->child[k][dir], n, k);
    /* A subtree whose height held changes nothing above it. */
    return avl_h(root->child[k][dir], k) == was ? root : avl_balance(root, k);
}

/* Detach the leftmost node of root into *min; returns the new root. */
static struct avl_node *avl_remove_min(struct avl_node *root, int k, struct avl_node **min)
{
    if (!root->child[k][0]) {
        *min = root;
        return root->child[k][1];
    }
    root->child[k][0] = avl_remove_min(root->child[k][0], k, min);
    return avl_balance(root, k);
}

/* Remove n, which is in the tree. */
static struct avl_node *avl_remove(struct avl_node *root, struct avl_node *n, int k)
{
    if (root == n) {
        struct avl_node *l = n->child[k][0], *r = n->child[k][1], *m;
        if (!r)
            return l;
        r = avl_remove_min(r, k, &m);
        m->child[k][0] = l;
        m->child[k][1] = r;
        return avl_balance(m, k);
    }
    int dir = !avl_before(n, root, k);
    int was = avl_h(root->child[k][dir], k);
    root->child[k][dir] = avl_remove(root->child[k][dir], n, k);
    return avl_h(root->child[k][dir], k) == was ? root : avl_balance(root, k);
}

static void avl_add(struct gomem__avl *t, struct avl_node *x, int k)
{
    t->root[k] = avl_insert(t->root[k], x, k);
}

static void avl_del(struct gomem__avl *t, struct avl_node *x, int k)
{
    t->root[k] = avl_remove(t->root[k], x, k);
}

static void avl_release(struct gomem__avl *t, struct avl_node *x)
{
    if (!x)
        return;
    avl_release(t, x->child[BY_OFF][0]);
    avl_release(t, x->child[BY_OFF][1]);
    gomem__nodepool_put(&t->pool, x);
}

static void avl_init_range(struct gomem__avl *t, size_t size)
{
    struct avl_node *x = gomem__nodepool_get(&t->pool);
    x->off = 0;
    x->len = size;
    t->root[BY_OFF] = t->root[BY_SIZE] = NULL;
    avl_add(t, x, BY_OFF);
    avl_add(t, x, BY_SIZE);
    t->size = t->free = size;
    t->blocks = 1;
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
    gomem__nodepool_init(&t->pool, sizeof(struct avl_node));
    if (gomem__nodepool_reserve(&t->pool)) {
        free(t);
        errno = ENOMEM;
        return NULL;
    }
    avl_init_range(t, size);
    return t;
}

void gomem__avl_destroy(struct gomem__avl *t)
{
    gomem__nodepool_destroy(&t->pool);
    free(t);
}

/* The smallest block with len >= n, lowest offset on ties, or NULL. */
static struct avl_node *avl_best_fit(const struct gomem__avl *t, size_t n)
{
    struct avl_node *x = t->root[BY_SIZE], *best = NULL;
    while (x) {
        if (x->len >= n) {
            best = x;
            x = x->child[BY_SIZE][0];
        } else {
            x = x->child[BY_SIZE][1];
        }
    }
    return best;
}

int gomem__avl_find(const struct gomem__avl *t, size_t n, size_t *off)
{
    if (n == 0 || !off)
        return -EINVAL;
    const struct avl_node *x = avl_best_fit(t, n);
    if (!x)
        return -ENOMEM;
    *off = x->off;
    return 0;
}

int gomem__avl_alloc(struct gomem__avl *t, size_t n, size_t *off)
{
    if (n == 0 || !off)
        return -EINVAL;
    struct avl_node *x = avl_best_fit(t, n);
    if (!x)
        return -ENOMEM;
    *off = x->off;
    avl_del(t, x, BY_SIZE);
    x->off += n; /* still between its neighbours: the offset tree holds */
    x->len -= n;
    t->free -= n;
    if (x->len) {
        avl_add(t, x, BY_SIZE);
    } else {
        avl_del(t, x, BY_OFF);
        gomem__nodepool_put(&t->pool, x);
        t->blocks--;
    }
    return 0;
}

int gomem__avl_free(struct gomem__avl *t, size_t off, size_t n)
{
    size_t end;
    if (n == 0 || gomem__add_overflows(off, n, &end) || end > t->size)
        return -EINVAL;
    struct avl_node *x = t->root[BY_OFF], *p = NULL, *s = NULL;
    while (x) {
        if (x->off <= off) {
            p = x;
            x = x->child[BY_OFF][1];
        } else {
            s = x;
            x = x->child[BY_OFF][0];
        }
    }
    if ((p && p->off + p->len > off) || (s && s->off < end))
        return -EINVAL; /* overlaps free space: a double free */
    int join_p = p && p->off + p->len == off;
    int join_s = s && s->off == end;

    if (join_p && join_s) {
        avl_del(t, p, BY_SIZE);
        avl_del(t, s, BY_SIZE);
        avl_del(t, s, BY_OFF);
        p->len += n + s->len;
        avl_add(t, p, BY_SIZE);
        gomem__nodepool_put(&t->pool, s);
        t->blocks--;
    } else if (join_p) {
        avl_del(t, p, BY_SIZE);
        p->len += n;
        avl_add(t, p, BY_SIZE);
    } else if (join_s) {
        avl_del(t, s, BY_SIZE);
        s->off = off; /* still between p and s: the offset tree holds */
        s->len += n;
        avl_add(t, s, BY_SIZE);
    } else {
        struct avl_node *y = gomem__nodepool_get(&t->pool);
        if (!y)
            return -ENOMEM;
        y->off = off;
        y->len = n;
        avl_add(t, y, BY_OFF);
        avl_add(t, y, BY_SIZE);
        t->blocks++;
    }
    t->free += n;
    return 0;
}

size_t gomem__avl_free_size(const struct gomem__avl *t)
{
    return t->free;
}

size_t gomem__avl_size(const struct gomem__avl *t)
{
    return t->size;
}

int gomem__avl_reset(struct gomem__avl *t, size_t size)
{
    if (size == 0)
        return -EINVAL;
    if (!t->root[BY_OFF] && gomem__nodepool_reserve(&t->pool))
        return -ENOMEM;
    avl_release(t, t->root[BY_OFF]);
    avl_init_range(t, size);
    return 0;
}

static int avl_walk(const struct avl_node *x, gomem_allocator_visit_fn fn, void *arg)
{
    while (x) {
        int r = avl_walk(x->child[BY_OFF][0], fn, arg);
        if (r)
            return r;
        if ((r = fn(x->off, x->len, arg)) != 0)
            return r;
        x = x->child[BY_OFF][1];
    }
    return 0;
}

int gomem__avl_foreach_free(const struct gomem__avl *t, gomem_allocator_visit_fn fn, void *arg)
{
    return fn ? avl_walk(t->root[BY_OFF], fn, arg) : -EINVAL;
}

size_t gomem__avl_depth(const struct gomem__avl *t)
{
    int a = avl_h(t->root[BY_OFF], BY_OFF), b = avl_h(t->root[BY_SIZE], BY_SIZE);
    return (size_t)(a > b ? a : b);
}

struct avl_audit {
    size_t size, bytes, blocks;
    const struct avl_node *prev;
};

#define AVL_FAIL(...) (fprintf(stderr, "gomem avl check: " __VA_ARGS__), -EFAULT)

/* Check tree k below x: order, heights, balance; by offset also the
 * blocks themselves. Returns the height, or -EFAULT. */
static int avl_audit(const struct avl_node *x, int k, struct avl_audit *a)
{
    if (!x)
        return 0;
    int hl = avl_audit(x->child[k][0], k, a);
    if (hl < 0)
        return hl;
    if (a->prev && !avl_before(a->prev, x, k))
        return AVL_FAIL("tree %d out of order at offset %zu\n", k, x->off);
    if (k == BY_OFF) {
        size_t end;
        if (x->len == 0)
            return AVL_FAIL("empty block at offset %zu\n", x->off);
        if (gomem__add_overflows(x->off, x->len, &end) || end > a->size)
            return AVL_FAIL("block [%zu, +%zu) out of range\n", x->off, x->len);
        if (a->prev && a->prev->off + a->prev->len >= x->off)
            return AVL_FAIL("block at %zu touches or overlaps the previous one\n", x->off);
        a->bytes += x->len;
    }
    a->blocks++;
    a->prev = x;
    int hr = avl_audit(x->child[k][1], k, a);
    if (hr < 0)
        return hr;
    if (hl - hr > 1 || hr - hl > 1)
        return AVL_FAIL("tree %d unbalanced at offset %zu (%d, %d)\n", k, x->off, hl, hr);
    int h = 1 + (hl > hr ? hl : hr);
    if (x->height[k] != h)
        return AVL_FAIL("tree %d height %d at offset %zu, expected %d\n", k, x->height[k], x->off, h);
    return h;
}

int gomem__avl_check(const struct gomem__avl *t)
{
    for (int k = 0; k < NTREES; k++) {
        struct avl_audit a = {t->size, 0, 0, NULL};
        int r = avl_audit(t->root[k], k, &a);
        if (r < 0)
            return r;
        if (a.blocks != t->blocks)
            return AVL_FAIL("tree %d holds %zu blocks, expected %zu\n", k, a.blocks, t->blocks);
        if (k == BY_OFF && a.bytes != t->free)
            return AVL_FAIL("free bytes %zu, counted %zu\n", t->free, a.bytes);
    }
    return 0;
}

GOMEM__OFFSET_OPS(avl, "avl (twotree)", GOMEM__FIT_BEST);
