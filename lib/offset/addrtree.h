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

/* 16: the searches below are unrolled for exactly this fanout. */
#define GOMEM__AT_FAN 16
#define GOMEM__AT_MIN (GOMEM__AT_FAN / 4) /* fill of every node but the root */

struct gomem__at_leaf;
struct gomem__at_inner;

/* One free block [off, off + len). */
struct gomem__block {
    size_t off, len;
    struct gomem__at_leaf *leaf;       /* the leaf that holds it */
    /* Owned by the size side: list or tree links. */
    struct gomem__block *next;
    union {
        struct gomem__block *prev;
        struct gomem__block **pprev; /* the pointer that points to this block */
    };
    uint32_t cls, aux;                 /* owned by the size side */
};

struct gomem__at_node {
    uint32_t n;                       /* keys (leaf) or children (inner) */
    uint32_t is_leaf;
    struct gomem__at_inner *parent;   /* NULL at the root */
    size_t max;                       /* largest block length below; 0 when empty */
    const void *arg;                  /* the entry (block or child) that holds max */
    size_t other;                     /* >= the largest length under any other entry */
    /* The entry other than arg that holds exactly other, when one is known
     * to (NULL: other is only a bound). When arg shrinks below other, that
     * entry is the largest: no rescan. */
    const void *arg2;
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
    /* 1: the maxima are kept exact (the caller reports every length change
     * with gomem__at_shrank/longer) and gomem__at_first_fit may be used.
     * 0: they are not kept at all (no node's max means anything), and
     * neither may be used. */
    int maxima;
    struct gomem__nodepool nodes;    /* leaves and inner nodes */
    struct gomem__nodepool blks;     /* struct gomem__block */
};

/* An empty tree (its root leaf allocated); -ENOMEM. maxima: see above. */
int gomem__at_init(struct gomem__addrtree *t, int maxima);
void gomem__at_destroy(struct gomem__addrtree *t);

/* What both variants set up and tear down alike: the tree, a block record
 * reserved for gomem__at_start, and *lists, the size side's nclass list
 * heads (or tree roots), zeroed. 0, or -ENOMEM with nothing allocated. */
int gomem__at_open(struct gomem__addrtree *t, int maxima, struct gomem__block ***lists,
                   size_t nclass);
void gomem__at_close(struct gomem__addrtree *t, struct gomem__block **lists);
/* Before a reset: grow *lists to need classes (what the new size needs;
 * *nclass: their count, never lowered), reserve the record gomem__at_start
 * takes, then empty the tree. 0, or -ENOMEM with nothing changed. */
int gomem__at_restart(struct gomem__addrtree *t, struct gomem__block ***lists, size_t *nclass,
                      size_t need);
/* An empty tree (after open or restart) gets [0, size) as its one block,
 * which is returned for the size side to file. Cannot fail. */
struct gomem__block *gomem__at_start(struct gomem__addrtree *t, size_t size);
/* Call fn(off, len, arg) on every block in address order, stopping at the
 * first nonzero return, which is returned. */
int gomem__at_foreach(const struct gomem__addrtree *t, int (*fn)(size_t, size_t, void *),
                      void *arg);
/* Give every block and node back to the pools: the tree is empty again.
 * Needs no memory. */
void gomem__at_clear(struct gomem__addrtree *t);

/* How many of the 15 ascending keys k[0..14] are <= off: two rounds of
 * three independent comparisons (which quarter, then where in it), so a
 * descent waits on two loads per node rather than on four in a row, and
 * the steps are additions, not branches. */
static inline unsigned gomem__at_rank15(const size_t *k, size_t off)
{
    unsigned i = ((unsigned)(k[3] <= off) + (unsigned)(k[7] <= off) + (unsigned)(k[11] <= off))
                 << 2; /* k[i + 3] > off, unless i == 12 (and k[15] is not looked at) */
    return i + (unsigned)(k[i] <= off) + (unsigned)(k[i + 1] <= off) +
           (unsigned)(k[i + 2] <= off);
}

/* The leaf where the first block ending after off is, or would be: *idx is
 * its position there (== n when that block starts the next leaf). O(log n),
 * no branch on the data. */
static inline struct gomem__at_leaf *gomem__at_find(const struct gomem__addrtree *t, size_t off,
                                                    unsigned *idx)
{
    const struct gomem__at_node *x = t->root;
    for (size_t h = t->height; h > 1; h--) {
        /* The 15 separators are padded with SIZE_MAX. */
        const struct gomem__at_inner *in = (const struct gomem__at_inner *)x;
        x = in->child[gomem__at_rank15(in->sep, off)];
    }
    const struct gomem__at_leaf *l = (const struct gomem__at_leaf *)x;
    const size_t *e = l->end; /* 16 keys, padded with SIZE_MAX */
    unsigned i = gomem__at_rank15(e, off);
    i += (unsigned)(e[i] <= off); /* 0 unless i == 15: e[i] > off below */
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

/* Take b out of the tree and give its record back to the pool. Every other
 * block's length must be as last reported. */
void gomem__at_remove(struct gomem__addrtree *t, struct gomem__block *b);

/* b grew at its end (b->len grew, b->off did not move): it is block i of
 * leaf l. Its end stays below the next block's. */
void gomem__at_grew(struct gomem__addrtree *t, struct gomem__block *b, struct gomem__at_leaf *l,
                    unsigned i);

/* The entry who of node x (a block of a leaf, a child of an inner node)
 * now holds v, no less than before: fix the maxima from x up. Growing and
 * shrinking have separate walks: each one's branches then mostly go one
 * way, and predict. */
void gomem__at_raise(struct gomem__at_node *x, const void *who, size_t v);
/* The same for v no more than before. */
void gomem__at_lower(struct gomem__at_node *x, const void *who, size_t v);

/* b->len grew, its end unchanged (it grew at its start). Nothing to do
 * unless it passed other, which it does when it holds the maximum. */
static inline void gomem__at_longer(struct gomem__block *b)
{
    if (b->len > b->leaf->h.other)
        gomem__at_raise(&b->leaf->h, b, b->len);
}

/* b->len shrank, its end unchanged. O(1) unless b was the largest block of
 * its leaf and the others come close. */
static inline void gomem__at_shrank(struct gomem__block *b)
{
    struct gomem__at_node *h = &b->leaf->h;
    if ((h->arg == b) | (h->arg2 == b)) /* one branch, not two */
        gomem__at_lower(h, b, b->len);
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
