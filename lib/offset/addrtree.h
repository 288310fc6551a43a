/* addrtree.h - the address index of an offset allocator's free blocks.
 *
 * A B+tree of fanout GOMEM__AT_FAN over the free blocks, keyed by each
 * block's END offset: carving n bytes from the start of a block (what
 * alloc does) changes neither the key nor the tree. Leaves are chained in
 * address order. Every node keeps the largest block length below it, so
 * the lowest-addressed block of at least n bytes is found in
 * O(FAN log_FAN n) steps.
 *
 * The blocks themselves are records from a node pool that never move:
 * the size side of a variant links them into its own lists through the
 * fields it owns (next, prev, cls). Insertion, removal and every length
 * change go through the calls below, which keep the keys, the leaf
 * pointers and the maxima right. O(log n) worst case each (a split or a
 * merge may run up the tree once). */
#ifndef GOMEM_ADDRTREE_H
#define GOMEM_ADDRTREE_H

#include <stddef.h>
#include <stdint.h>

#include "nodepool.h"

#define GOMEM__AT_FAN 16
#define GOMEM__AT_MIN (GOMEM__AT_FAN / 4) /* fill of every node but the root */

struct gomem__at_leaf;
struct gomem__at_inner;

/* One free block [off, off + len). */
struct gomem__block {
    size_t off, len;
    struct gomem__at_leaf *leaf;       /* the leaf that holds it */
    struct gomem__block *next, *prev;  /* owned by the size side */
    size_t cls;                        /* owned by the size side */
};

struct gomem__at_node {
    uint32_t n;                       /* keys (leaf) or children (inner) */
    uint32_t is_leaf;
    struct gomem__at_inner *parent;   /* NULL at the root */
    size_t max;                       /* largest block length below; 0 when empty */
};

struct gomem__at_leaf {
    struct gomem__at_node h;
    struct gomem__at_leaf *prev, *next; /* address order */
    size_t end[GOMEM__AT_FAN];          /* ascending; SIZE_MAX past n */
    struct gomem__block *b[GOMEM__AT_FAN];
};

/* Every key in child i is <= sep[i] < every key in child i + 1. */
struct gomem__at_inner {
    struct gomem__at_node h;
    size_t sep[GOMEM__AT_FAN - 1];      /* SIZE_MAX past n - 1 */
    struct gomem__at_node *child[GOMEM__AT_FAN];
};

struct gomem__addrtree {
    struct gomem__at_node *root;
    size_t height;                   /* levels: 1 when the root is a leaf */
    size_t blocks;
    struct gomem__nodepool nodes;    /* leaves and inner nodes */
    struct gomem__nodepool blks;     /* struct gomem__block */
};

/* An empty tree (its root leaf allocated); -ENOMEM. */
int gomem__at_init(struct gomem__addrtree *t);
void gomem__at_destroy(struct gomem__addrtree *t);
/* Give every block and node back to the pools: the tree is empty again.
 * Needs no memory. */
void gomem__at_clear(struct gomem__addrtree *t);

/* The leaf where the first block ending after off is, or would be: *idx is
 * its position there (== n when that block starts the next leaf). O(log n),
 * no branch on the data. */
static inline struct gomem__at_leaf *gomem__at_find(const struct gomem__addrtree *t, size_t off,
                                                    unsigned *idx)
{
    const struct gomem__at_node *x = t->root;
    for (size_t h = t->height; h > 1; h--) {
        const struct gomem__at_inner *in = (const struct gomem__at_inner *)x;
        unsigned i = 0;
        for (unsigned j = 0; j < GOMEM__AT_FAN - 1; j++)
            i += in->sep[j] <= off;
        x = in->child[i];
    }
    const struct gomem__at_leaf *l = (const struct gomem__at_leaf *)x;
    unsigned i = 0;
    for (unsigned j = 0; j < GOMEM__AT_FAN; j++)
        i += l->end[j] <= off;
    *idx = i;
    return (struct gomem__at_leaf *)l;
}

/* The block at position idx of leaf l, or the first of the next leaf when
 * idx == n; NULL past the last. */
static inline struct gomem__block *gomem__at_at(const struct gomem__at_leaf *l, unsigned idx)
{
    if (idx < l->h.n)
        return l->b[idx];
    return l->next ? l->next->b[0] : NULL;
}

/* The block before position idx of leaf l; NULL before the first. */
static inline struct gomem__block *gomem__at_before(const struct gomem__at_leaf *l, unsigned idx)
{
    if (idx > 0)
        return l->b[idx - 1];
    return l->prev ? l->prev->b[l->prev->h.n - 1] : NULL;
}

/* A block record from the pool, or NULL. */
static inline struct gomem__block *gomem__at_block(struct gomem__addrtree *t)
{
    return gomem__nodepool_get(&t->blks);
}

/* Put b (off and len set) at position idx of leaf l, as gomem__at_find
 * gave them for b->off. -ENOMEM changes nothing (b stays the caller's). */
int gomem__at_insert(struct gomem__addrtree *t, struct gomem__at_leaf *l, unsigned idx,
                     struct gomem__block *b);

/* Take b out of the tree and give its record back to the pool. */
void gomem__at_remove(struct gomem__addrtree *t, struct gomem__block *b);

/* b grew: call after b->off and b->len changed so that b covers more than
 * before. Its end b->off + b->len may have moved up (never onto the next
 * block). */
void gomem__at_grew(struct gomem__addrtree *t, struct gomem__block *b);

/* Recompute the maxima from x up, stopping where one holds. */
void gomem__at_fix_max(struct gomem__at_node *x);

/* b->len shrank from old_len, its end unchanged. */
static inline void gomem__at_shrank(struct gomem__block *b, size_t old_len)
{
    if (old_len == b->leaf->h.max)
        gomem__at_fix_max(&b->leaf->h);
}

/* The lowest-addressed block of at least n bytes, or NULL. */
struct gomem__block *gomem__at_first_fit(const struct gomem__addrtree *t, size_t n);

/* The largest free block's length. */
static inline size_t gomem__at_max(const struct gomem__addrtree *t)
{
    return t->root->max;
}

/* The first block in address order, or NULL. */
struct gomem__block *gomem__at_first(const struct gomem__addrtree *t);

/* The block after b in address order, or NULL. */
static inline struct gomem__block *gomem__at_next(const struct gomem__block *b)
{
    const struct gomem__at_leaf *l = b->leaf;
    unsigned i = 0;
    while (l->b[i] != b)
        i++;
    return gomem__at_at(l, i + 1);
}

/* Walk every invariant of the tree (keys, separators, fill, parents, leaf
 * chain, maxima, leaf pointers); 0 or -EFAULT with a message. The caller
 * checks what the blocks mean. O(n). */
int gomem__at_check(const struct gomem__addrtree *t, const char *who);

#endif /* GOMEM_ADDRTREE_H */
