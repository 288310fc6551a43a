/* addrtree.c - the B+tree address index of the offset allocators. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addrtree.h"

#define FAN GOMEM__AT_FAN
#define MINFILL GOMEM__AT_MIN

typedef struct gomem__at_node node_t;
typedef struct gomem__at_leaf leaf_t;
typedef struct gomem__at_inner inner_t;
typedef struct gomem__block block_t;

static size_t node_size(void)
{
    return sizeof(leaf_t) > sizeof(inner_t) ? sizeof(leaf_t) : sizeof(inner_t);
}

static leaf_t *leaf_new(struct gomem__addrtree *t)
{
    leaf_t *l = gomem__nodepool_get(&t->nodes);
    if (!l)
        return NULL;
    l->h.n = 0;
    l->h.is_leaf = 1;
    l->h.parent = NULL;
    l->h.max = 0;
    l->h.other = 0;
    l->h.arg = l->h.arg2 = NULL;
    l->prev = l->next = NULL;
    for (unsigned i = 0; i < FAN; i++) {
        l->end[i] = SIZE_MAX;
        l->b[i] = NULL;
    }
    return l;
}

static inner_t *inner_new(struct gomem__addrtree *t)
{
    inner_t *x = gomem__nodepool_get(&t->nodes);
    if (!x)
        return NULL;
    x->h.n = 0;
    x->h.is_leaf = 0;
    x->h.parent = NULL;
    x->h.max = 0;
    x->h.other = 0;
    x->h.arg = x->h.arg2 = NULL;
    for (unsigned i = 0; i < FAN - 1; i++)
        x->sep[i] = SIZE_MAX;
    for (unsigned i = 0; i < FAN; i++)
        x->child[i] = NULL;
    return x;
}

int gomem__at_init(struct gomem__addrtree *t, int maxima)
{
    t->maxima = maxima;
    gomem__nodepool_init(&t->nodes, node_size());
    gomem__nodepool_init(&t->blks, sizeof(block_t));
    t->blocks = 0;
    t->height = 1;
    leaf_t *l = leaf_new(t);
    if (!l) {
        gomem__nodepool_destroy(&t->nodes);
        return -ENOMEM;
    }
    t->root = &l->h;
    return 0;
}

void gomem__at_destroy(struct gomem__addrtree *t)
{
    gomem__nodepool_destroy(&t->nodes);
    gomem__nodepool_destroy(&t->blks);
}

int gomem__at_open(struct gomem__addrtree *t, int maxima, block_t ***lists, size_t nclass)
{
    *lists = calloc(nclass, sizeof **lists);
    if (!*lists)
        return -ENOMEM;
    if (gomem__at_init(t, maxima)) {
        free(*lists);
        return -ENOMEM;
    }
    if (gomem__nodepool_reserve(&t->blks)) {
        gomem__at_close(t, *lists);
        return -ENOMEM;
    }
    return 0;
}

void gomem__at_close(struct gomem__addrtree *t, block_t **lists)
{
    gomem__at_destroy(t);
    free(lists);
}

int gomem__at_restart(struct gomem__addrtree *t, block_t ***lists, size_t *nclass, size_t need)
{
    if (need > *nclass) {
        block_t **l = realloc(*lists, need * sizeof *l);
        if (!l)
            return -ENOMEM;
        *lists = l;
        *nclass = need;
    }
    if (gomem__nodepool_reserve(&t->blks))
        return -ENOMEM;
    gomem__at_clear(t);
    return 0;
}

block_t *gomem__at_start(struct gomem__addrtree *t, size_t size)
{
    block_t *b = gomem__at_block(t);
    b->off = 0;
    b->len = size;
    unsigned idx;
    leaf_t *l = gomem__at_find(t, 0, &idx);
    gomem__at_insert(t, l, idx, b); /* an empty root leaf: no split */
    return b;
}

int gomem__at_foreach(const struct gomem__addrtree *t, int (*fn)(size_t, size_t, void *),
                      void *arg)
{
    for (const block_t *b = gomem__at_first(t); b; b = gomem__at_next(b)) {
        int r = fn(b->off, b->len, arg);
        if (r)
            return r;
    }
    return 0;
}

static void at_release(struct gomem__addrtree *t, node_t *x)
{
    if (x->is_leaf) {
        leaf_t *l = (leaf_t *)x;
        for (unsigned i = 0; i < l->h.n; i++)
            gomem__nodepool_put(&t->blks, l->b[i]);
    } else {
        inner_t *in = (inner_t *)x;
        for (unsigned i = 0; i < in->h.n; i++)
            at_release(t, in->child[i]);
    }
    gomem__nodepool_put(&t->nodes, x);
}

void gomem__at_clear(struct gomem__addrtree *t)
{
    at_release(t, t->root);
    t->root = &leaf_new(t)->h; /* the root just went back: cannot fail */
    t->height = 1;
    t->blocks = 0;
}

/* ---------------------------------------------------------------- maxima */

/* Entry i, holding v, meets the largest so far (*m, entry *ai) and the
 * largest of the others (*o, entry *oi). */
static inline void scan_step(size_t v, unsigned i, size_t *m, size_t *o, unsigned *ai, unsigned *oi)
{
    unsigned ni = v > *m ? i : *ai; /* the larger of v and m */
    unsigned loi = *ai ^ i ^ ni;    /* the smaller: no second select on v > m */
    size_t lo = v > *m ? *m : v;
    *m = v > *m ? v : *m;
    *ai = ni;
    *oi = lo > *o ? loi : *oi;
    *o = lo > *o ? lo : *o;
}

/* x's largest entry (*a, holding *m), the largest of the others (*o) and
 * the entry that holds it (*a2; NULL when *o is 0). Branch-free: the
 * lengths are random, a branch per entry would mispredict. */
static void scan(const node_t *x, size_t *mp, size_t *op, const void **ap, const void **a2p)
{
    size_t m = 0, o = 0;
    unsigned n = x->n, ai = 0, oi = 0; /* entry 0 when every value is 0 */
    if (x->is_leaf) {
        const leaf_t *l = (const leaf_t *)x;
        for (unsigned i = 0; i < n; i++)
            scan_step(l->b[i]->len, i, &m, &o, &ai, &oi);
        *ap = l->b[ai]; /* NULL when empty */
        *a2p = o ? l->b[oi] : NULL;
    } else {
        const inner_t *in = (const inner_t *)x;
        for (unsigned i = 0; i < n; i++)
            scan_step(in->child[i]->max, i, &m, &o, &ai, &oi);
        *ap = in->child[ai];
        *a2p = o ? in->child[oi] : NULL;
    }
    *mp = m;
    *op = o;
}

/* Set x's max, arg, other and arg2 from its entries. */
static void rescan_node(node_t *x)
{
    scan(x, &x->max, &x->other, &x->arg, &x->arg2);
}

/* The same, in a tree that keeps maxima: one without (the two-tree
 * variant, which never asks for a fit here) pays nothing for them. */
static inline void rescan(const struct gomem__addrtree *t, node_t *x)
{
    if (t->maxima)
        rescan_node(x);
}

/* x's parent as a node, or NULL at the root (no member access through a
 * NULL parent: the header is its first member, but that is not a licence). */
static inline node_t *up(const node_t *x)
{
    return x->parent ? &x->parent->h : NULL;
}

void gomem__at_raise(node_t *x, const void *who, size_t v)
{
    for (; x; who = x, x = up(x)) { /* x's max becomes v or stays */
        size_t old = x->max;
        if (v <= old) {
            /* who held at most other (or is arg, and v == old) */
            if (v > x->other && x->arg != who) {
                x->other = v;
                x->arg2 = who;
            }
            return;
        }
        if (x->arg != who) { /* the old holder is now the largest other */
            x->other = old;
            x->arg2 = x->arg;
            x->arg = who;
        }
        x->max = v;
    }
}

/* x's arg no longer holds the maximum (it went, or fell below other):
 * the entry that holds other exactly takes over, or a rescan finds the
 * largest. */
static void max_passes(node_t *x)
{
    if (x->arg2) { /* other still bounds every entry but it */
        x->max = x->other;
        x->arg = x->arg2;
        x->arg2 = NULL;
    } else {
        rescan_node(x);
    }
}

void gomem__at_lower(node_t *x, const void *who, size_t v)
{
    for (; x; v = x->max, who = x, x = up(x)) {
        if (x->arg != who) {
            /* who held at most other: v is below it, or still holds it */
            if (v < x->other && x->arg2 == who)
                x->arg2 = NULL; /* other is now only a bound */
            return;
        }
        size_t old = x->max;
        if (v >= x->other)
            x->max = v;
        else
            max_passes(x);
        if (x->max == old)
            return;
    }
}

/* Rescan every node from x to the root. */
static void fix_max_all(const struct gomem__addrtree *t, node_t *x)
{
    for (; x; x = up(x))
        rescan(t, x);
}

/* The entry who of x grew to hold len. */
static inline void raise_max(const struct gomem__addrtree *t, node_t *x, const void *who,
                             size_t len)
{
    if (t->maxima)
        gomem__at_raise(x, who, len);
}

/* ---------------------------------------------------------------- helpers */

static unsigned child_index(const inner_t *p, const node_t *c)
{
    unsigned i = 0;
    while (p->child[i] != c)
        i++;
    return i;
}

static unsigned block_index(const leaf_t *l, const block_t *b)
{
    unsigned i = 0;
    while (l->b[i] != b)
        i++;
    return i;
}

/* key, now the last key of x's subtree, may have passed the separator
 * that bounds x on the right: raise that separator to it. */
static void raise_sep(node_t *x, size_t key)
{
    for (inner_t *p = x->parent; p; x = &p->h, p = p->h.parent) {
        unsigned j = child_index(p, x);
        if (j + 1 < p->h.n) {
            if (p->sep[j] < key)
                p->sep[j] = key;
            return;
        }
    }
}

/* ---------------------------------------------------------------- insert */

/* Put right just after left in left's parent, with sep between them,
 * splitting upwards as needed. Nodes were reserved by the caller. */
static void insert_parent(struct gomem__addrtree *t, node_t *left, size_t sep, node_t *right)
{
    inner_t *p = left->parent;
    if (!p) {
        inner_t *r = inner_new(t);
        r->h.n = 2;
        r->child[0] = left;
        r->child[1] = right;
        r->sep[0] = sep;
        left->parent = right->parent = r;
        rescan(t, &r->h);
        t->root = &r->h;
        t->height++;
        return;
    }
    unsigned j = child_index(p, left), n = p->h.n;
    if (n < FAN) {
        for (unsigned i = n - 1; i > j; i--) {
            p->child[i + 1] = p->child[i];
            p->sep[i] = p->sep[i - 1];
        }
        p->child[j + 1] = right;
        p->sep[j] = sep;
        p->h.n = n + 1;
        right->parent = p;
        return;
    }
    /* Split p: FAN + 1 children, FAN separators. */
    node_t *c[FAN + 1];
    size_t s[FAN];
    for (unsigned i = 0, k = 0; i < FAN; i++) {
        c[k++] = p->child[i];
        if (i == j)
            c[k++] = right;
    }
    for (unsigned i = 0, k = 0; i < FAN - 1; i++) {
        if (i == j)
            s[k++] = sep;
        s[k++] = p->sep[i];
    }
    if (j == FAN - 1)
        s[FAN - 1] = sep;
    inner_t *q = inner_new(t);
    const unsigned h = (FAN + 1) / 2; /* children left in p */
    for (unsigned i = 0; i < FAN - 1; i++)
        p->sep[i] = i < h - 1 ? s[i] : SIZE_MAX;
    for (unsigned i = 0; i < FAN; i++)
        p->child[i] = i < h ? c[i] : NULL;
    p->h.n = h;
    q->h.n = FAN + 1 - h;
    for (unsigned i = 0; i < q->h.n; i++) {
        q->child[i] = c[h + i];
        q->child[i]->parent = q;
        if (i + 1 < q->h.n)
            q->sep[i] = s[h + i];
    }
    for (unsigned i = 0; i < h; i++)
        p->child[i]->parent = p;
    rescan(t, &p->h);
    rescan(t, &q->h);
    insert_parent(t, &p->h, s[h - 1], &q->h);
}

static GOMEM__NOINLINE void leaf_split_insert(struct gomem__addrtree *t, leaf_t *l, unsigned idx,
                                              block_t *b, size_t key)
{
    size_t e[FAN + 1];
    block_t *bs[FAN + 1];
    for (unsigned i = 0, k = 0; i <= FAN; i++) {
        if (i == idx) {
            e[i] = key;
            bs[i] = b;
        } else {
            e[i] = l->end[k];
            bs[i] = l->b[k++];
        }
    }
    leaf_t *r = leaf_new(t);
    const unsigned h = (FAN + 1) / 2;
    for (unsigned i = 0; i < FAN; i++) {
        l->end[i] = i < h ? e[i] : SIZE_MAX;
        l->b[i] = i < h ? bs[i] : NULL;
    }
    l->h.n = h;
    for (unsigned i = 0; i < h; i++)
        l->b[i]->leaf = l;
    r->h.n = FAN + 1 - h;
    for (unsigned i = 0; i < r->h.n; i++) {
        r->end[i] = e[h + i];
        r->b[i] = bs[h + i];
        r->b[i]->leaf = r;
    }
    r->next = l->next;
    r->prev = l;
    if (l->next)
        l->next->prev = r;
    l->next = r;
    rescan(t, &l->h);
    rescan(t, &r->h);
    if (idx == FAN) /* the new key is the last of r: it may pass r's bound */
        raise_sep(&l->h, key);
    insert_parent(t, &l->h, l->end[h - 1], &r->h);
    fix_max_all(t, &r->h);
}

int gomem__at_insert(struct gomem__addrtree *t, leaf_t *l, unsigned idx, block_t *b)
{
    size_t key = b->off + b->len;
    unsigned n = l->h.n;
    if (GOMEM__UNLIKELY(n == FAN)) {
        if (gomem__nodepool_reserve_n(&t->nodes, t->height + 1))
            return -ENOMEM;
        leaf_split_insert(t, l, idx, b, key);
    } else {
        for (unsigned i = n; i > idx; i--) {
            l->end[i] = l->end[i - 1];
            l->b[i] = l->b[i - 1];
        }
        l->end[idx] = key;
        l->b[idx] = b;
        l->h.n = n + 1;
        b->leaf = l;
        if (idx == n)
            raise_sep(&l->h, key);
        raise_max(t, &l->h, b, b->len);
    }
    t->blocks++;
    return 0;
}

/* ---------------------------------------------------------------- remove */

static void rebalance_inner(struct gomem__addrtree *t, inner_t *x);

/* Remove child j + 1 of p and the separator j (after a merge into child
 * j), then repair p if it ran short. */
static void drop_child(struct gomem__addrtree *t, inner_t *p, unsigned j)
{
    unsigned n = p->h.n;
    for (unsigned i = j + 1; i + 1 < n; i++) {
        p->child[i] = p->child[i + 1];
        p->sep[i - 1] = p->sep[i];
    }
    p->child[n - 1] = NULL;
    p->sep[n - 2] = SIZE_MAX;
    p->h.n = n - 1;
    if (!p->h.parent) {
        if (p->h.n == 1) { /* the root keeps one child: the child is the root */
            t->root = p->child[0];
            t->root->parent = NULL;
            t->height--;
            gomem__nodepool_put(&t->nodes, p);
        }
    } else if (p->h.n < MINFILL) {
        rebalance_inner(t, p);
    }
}

/* x ran short: merge it with a sibling or take keys from one. Returns the
 * left leaf of the pair, which is still in the tree. */
static leaf_t *rebalance_leaf(struct gomem__addrtree *t, leaf_t *x)
{
    inner_t *p = x->h.parent;
    unsigned j = child_index(p, &x->h);
    if (j + 1 == p->h.n)
        j--; /* x is the last child: work on (j - 1, j) */
    leaf_t *a = (leaf_t *)p->child[j], *b = (leaf_t *)p->child[j + 1];
    unsigned na = a->h.n, nb = b->h.n;
    if (na + nb <= FAN) { /* merge b into a */
        for (unsigned i = 0; i < nb; i++) {
            a->end[na + i] = b->end[i];
            a->b[na + i] = b->b[i];
            a->b[na + i]->leaf = a;
        }
        a->h.n = na + nb;
        a->next = b->next;
        if (b->next)
            b->next->prev = a;
        rescan(t, &a->h);
        gomem__nodepool_put(&t->nodes, b);
        drop_child(t, p, j);
        return a;
    }
    if (na < nb) { /* move k from the front of b to the end of a */
        unsigned k = (nb - na) / 2;
        for (unsigned i = 0; i < k; i++) {
            a->end[na + i] = b->end[i];
            a->b[na + i] = b->b[i];
            a->b[na + i]->leaf = a;
        }
        for (unsigned i = 0; i < nb; i++) {
            b->end[i] = i + k < nb ? b->end[i + k] : SIZE_MAX;
            b->b[i] = i + k < nb ? b->b[i + k] : NULL;
        }
        a->h.n = na + k;
        b->h.n = nb - k;
    } else { /* move k from the end of a to the front of b */
        unsigned k = (na - nb) / 2;
        for (unsigned i = nb; i-- > 0;) {
            b->end[i + k] = b->end[i];
            b->b[i + k] = b->b[i];
        }
        for (unsigned i = 0; i < k; i++) {
            b->end[i] = a->end[na - k + i];
            b->b[i] = a->b[na - k + i];
            b->b[i]->leaf = b;
            a->end[na - k + i] = SIZE_MAX;
            a->b[na - k + i] = NULL;
        }
        a->h.n = na - k;
        b->h.n = nb + k;
    }
    p->sep[j] = a->end[a->h.n - 1];
    rescan(t, &a->h);
    rescan(t, &b->h);
    return a;
}

static void rebalance_inner(struct gomem__addrtree *t, inner_t *x)
{
    inner_t *p = x->h.parent;
    unsigned j = child_index(p, &x->h);
    if (j + 1 == p->h.n)
        j--;
    inner_t *a = (inner_t *)p->child[j], *b = (inner_t *)p->child[j + 1];
    unsigned na = a->h.n, nb = b->h.n;
    size_t s = p->sep[j];
    if (na + nb <= FAN) { /* merge b into a, s between them */
        a->sep[na - 1] = s;
        for (unsigned i = 0; i < nb; i++) {
            a->child[na + i] = b->child[i];
            a->child[na + i]->parent = a;
            if (i + 1 < nb)
                a->sep[na + i] = b->sep[i];
        }
        a->h.n = na + nb;
        rescan(t, &a->h);
        gomem__nodepool_put(&t->nodes, b);
        drop_child(t, p, j);
        return;
    }
    if (na < nb) { /* rotate k children from b's front through p */
        unsigned k = (nb - na) / 2;
        a->sep[na - 1] = s;
        for (unsigned i = 0; i < k; i++) {
            a->child[na + i] = b->child[i];
            a->child[na + i]->parent = a;
            if (i + 1 < k)
                a->sep[na + i] = b->sep[i];
        }
        s = b->sep[k - 1];
        for (unsigned i = 0; i < nb; i++) {
            b->child[i] = i + k < nb ? b->child[i + k] : NULL;
            if (i + 1 < nb)
                b->sep[i] = i + k + 1 < nb ? b->sep[i + k] : SIZE_MAX;
        }
        a->h.n = na + k;
        b->h.n = nb - k;
    } else { /* rotate k children from a's end through p */
        unsigned k = (na - nb) / 2;
        for (unsigned i = nb; i-- > 0;)
            b->child[i + k] = b->child[i];
        for (unsigned i = nb - 1; i-- > 0;)
            b->sep[i + k] = b->sep[i];
        b->sep[k - 1] = s;
        for (unsigned i = 0; i < k; i++) {
            b->child[i] = a->child[na - k + i];
            b->child[i]->parent = b;
            a->child[na - k + i] = NULL;
            if (i + 1 < k)
                b->sep[i] = a->sep[na - k + i];
        }
        s = a->sep[na - k - 1];
        for (unsigned i = na - k - 1; i < na - 1; i++)
            a->sep[i] = SIZE_MAX;
        a->h.n = na - k;
        b->h.n = nb + k;
    }
    p->sep[j] = s;
    rescan(t, &a->h);
    rescan(t, &b->h);
}

void gomem__at_remove(struct gomem__addrtree *t, block_t *b)
{
    leaf_t *l = b->leaf;
    /* Its key ranks it without a branch (the end of a block that grew
     * there is reported before it can be removed); the walk is a fallback
     * that never runs. */
    unsigned n = l->h.n, i = gomem__at_rank15(l->end, b->off + b->len - 1);
    if (GOMEM__UNLIKELY(l->b[i] != b))
        i = block_index(l, b);
    for (; i + 1 < n; i++) {
        l->end[i] = l->end[i + 1];
        l->b[i] = l->b[i + 1];
    }
    l->end[n - 1] = SIZE_MAX;
    l->b[n - 1] = NULL;
    l->h.n = n - 1;
    t->blocks--;
    gomem__nodepool_put(&t->blks, b);
    if (n - 1 >= MINFILL || !l->h.parent) {
        if (t->maxima && l->h.arg == b) {
            max_passes(&l->h);
            gomem__at_lower(up(&l->h), l, l->h.max);
        } else if (l->h.arg2 == b) {
            l->h.arg2 = NULL;
        }
        return;
    }
    /* Every node the rebalance touched is on the path from the leaf it
     * returns to the root or a sibling of one (whose maximum it set). */
    fix_max_all(t, &rebalance_leaf(t, l)->h);
}

/* ---------------------------------------------------------------- changes */

void gomem__at_grew(struct gomem__addrtree *t, block_t *b, leaf_t *l, unsigned i)
{
    (void)t;
    size_t end = b->off + b->len;
    l->end[i] = end;
    if (i + 1 == l->h.n)
        raise_sep(&l->h, end);
    raise_max(t, &l->h, b, b->len);
}

block_t *gomem__at_first_fit(const struct gomem__addrtree *t, size_t n)
{
    const node_t *x = t->root;
    if (x->max < n)
        return NULL;
    while (!x->is_leaf) {
        const inner_t *in = (const inner_t *)x;
        unsigned i = 0;
        while (in->child[i]->max < n)
            i++;
        x = in->child[i];
    }
    const leaf_t *l = (const leaf_t *)x;
    unsigned i = 0;
    while (l->b[i]->len < n)
        i++;
    return l->b[i];
}

block_t *gomem__at_first(const struct gomem__addrtree *t)
{
    const node_t *x = t->root;
    while (!x->is_leaf)
        x = ((const inner_t *)x)->child[0];
    return x->n ? ((const leaf_t *)x)->b[0] : NULL;
}

/* The invariant checker: compiled into the white-box test library only
 * (-DGOMEM__WHITEBOX) and debug builds, never into the release ones. */
#if defined(GOMEM__WHITEBOX) || defined(GOMEM__DEBUG)
/* ---------------------------------------------------------------- check */

struct at_audit {
    const char *who;
    const leaf_t *last_leaf; /* the previous leaf in a left-to-right walk */
    size_t leaves_depth;     /* depth of the first leaf seen */
    size_t blocks;
    int maxima;              /* check the maxima too */
};

#define AT_FAIL(a, ...) (fprintf(stderr, "gomem %s check: ", (a)->who), fprintf(stderr, __VA_ARGS__), -EFAULT)

/* Keys of x's subtree must lie in (lo, hi] (lo_open: no lower bound). */
static int at_audit(const node_t *x, const inner_t *parent, size_t depth, int has_lo, size_t lo,
                    size_t hi, struct at_audit *a)
{
    int maxima = a->maxima;
    if (x->parent != parent)
        return AT_FAIL(a, "wrong parent pointer at depth %zu\n", depth);
    if (parent && x->n < MINFILL)
        return AT_FAIL(a, "node with %u entries below the minimum at depth %zu\n", x->n, depth);
    if (x->n > FAN || (!x->is_leaf && x->n < 2))
        return AT_FAIL(a, "node with %u entries at depth %zu\n", x->n, depth);
    if (maxima) {
        size_t ym, yo;
        const void *ya, *ya2;
        scan(x, &ym, &yo, &ya, &ya2);
        if (ym != x->max)
            return AT_FAIL(a, "maximum %zu, expected %zu at depth %zu\n", x->max, ym, depth);
        if (x->n) { /* arg holds the maximum, other bounds the rest */
            size_t v = 0;
            int found2 = 0;
            for (unsigned i = 0; i < x->n; i++) {
                const void *e = x->is_leaf ? (const void *)((const leaf_t *)x)->b[i]
                                           : (const void *)((const inner_t *)x)->child[i];
                size_t ev = x->is_leaf ? ((const block_t *)e)->len : ((const node_t *)e)->max;
                if (e == x->arg && ev != x->max)
                    return AT_FAIL(a, "arg holds %zu, not the maximum %zu\n", ev, x->max);
                if (e == x->arg2 && (e == x->arg || ev != x->other))
                    return AT_FAIL(a, "arg2 holds %zu, not other %zu\n", ev, x->other);
                if (e == x->arg2)
                    found2 = 1;
                if (e != x->arg && ev > v)
                    v = ev;
            }
            if (v > x->other)
                return AT_FAIL(a, "other %zu below %zu at depth %zu\n", x->other, v, depth);
            if (x->arg2 && !found2)
                return AT_FAIL(a, "arg2 is no entry at depth %zu\n", depth);
        } else if (x->arg || x->arg2) {
            return AT_FAIL(a, "an empty node names an entry\n");
        }
    }
    if (x->is_leaf) {
        const leaf_t *l = (const leaf_t *)x;
        if (a->leaves_depth == 0)
            a->leaves_depth = depth;
        else if (a->leaves_depth != depth)
            return AT_FAIL(a, "leaves at depths %zu and %zu\n", a->leaves_depth, depth);
        if (l->prev != a->last_leaf || (a->last_leaf && a->last_leaf->next != l))
            return AT_FAIL(a, "leaf chain broken\n");
        a->last_leaf = l;
        for (unsigned i = 0; i < FAN; i++) {
            if (i >= l->h.n) {
                if (l->end[i] != SIZE_MAX || l->b[i])
                    return AT_FAIL(a, "leaf slot %u past the end not cleared\n", i);
                continue;
            }
            const block_t *b = l->b[i];
            if (b->leaf != l)
                return AT_FAIL(a, "block at %zu points to the wrong leaf\n", b->off);
            if (l->end[i] != b->off + b->len)
                return AT_FAIL(a, "key %zu of the block [%zu, +%zu)\n", l->end[i], b->off, b->len);
            if ((has_lo && l->end[i] <= lo) || l->end[i] > hi)
                return AT_FAIL(a, "key %zu outside its separators (%zu, %zu]\n", l->end[i], lo, hi);
            if (i && l->end[i] <= l->end[i - 1])
                return AT_FAIL(a, "keys out of order in a leaf\n");
            a->blocks++;
        }
        return 0;
    }
    const inner_t *in = (const inner_t *)x;
    for (unsigned i = 0; i < FAN - 1; i++)
        if (i + 1 >= in->h.n && in->sep[i] != SIZE_MAX)
            return AT_FAIL(a, "separator slot %u past the end not cleared\n", i);
    for (unsigned i = 0; i < FAN; i++)
        if (i >= in->h.n && in->child[i])
            return AT_FAIL(a, "child slot %u past the end not cleared\n", i);
    for (unsigned i = 0; i < in->h.n; i++) {
        int clo = i ? 1 : has_lo;
        size_t l = i ? in->sep[i - 1] : lo, h = i + 1 < in->h.n ? in->sep[i] : hi;
        if (i && i + 1 < in->h.n && in->sep[i] < in->sep[i - 1])
            return AT_FAIL(a, "separators out of order\n");
        int r = at_audit(in->child[i], in, depth + 1, clo, l, h, a);
        if (r)
            return r;
    }
    return 0;
}

int gomem__at_check(const struct gomem__addrtree *t, const char *who)
{
    struct at_audit a = {who, NULL, 0, 0, t->maxima};
    int r = at_audit(t->root, NULL, 1, 0, 0, SIZE_MAX, &a);
    if (r)
        return r;
    if (a.last_leaf && a.last_leaf->next)
        return AT_FAIL(&a, "leaf chain runs past the last leaf\n");
    if (a.leaves_depth != t->height)
        return AT_FAIL(&a, "height %zu, leaves at depth %zu\n", t->height, a.leaves_depth);
    if (a.blocks != t->blocks)
        return AT_FAIL(&a, "%zu blocks, counted %zu\n", t->blocks, a.blocks);
    return 0;
}
#endif /* GOMEM__WHITEBOX */
