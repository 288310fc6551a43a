/* nodepool.h - fixed-size nodes carved from chunks, recycled on a free
 * list. The tree variants take every node from here instead of calling
 * malloc per block; chunks never move, so node pointers stay valid. */
#ifndef GOMEM_NODEPOOL_H
#define GOMEM_NODEPOOL_H

#include <stddef.h>

struct gomem__nodepool {
    void *free;          /* singly linked through the first word of a node */
    void *chunks;        /* singly linked list of chunks */
    size_t node_size;    /* bytes per node, at least a pointer */
    size_t chunk_nodes;  /* nodes in the next chunk (doubles, capped) */
    size_t nfree;        /* nodes on the free list */
};

/* An empty pool of nodes of node_size bytes. Allocates nothing yet. */
void gomem__nodepool_init(struct gomem__nodepool *p, size_t node_size);

/* Make sure the next get succeeds; -ENOMEM otherwise. Lets a caller
 * secure a node before it changes anything. */
int gomem__nodepool_reserve(struct gomem__nodepool *p);

/* A node, or NULL when memory ran out. O(1) amortized. Inline: a free
 * block's record is taken on every free that joins no neighbour. */
static inline void *gomem__nodepool_get(struct gomem__nodepool *p)
{
    if (!p->free && gomem__nodepool_reserve(p))
        return NULL;
    void *node = p->free;
    p->free = *(void **)node;
    p->nfree--;
    return node;
}

/* Make sure the next k gets succeed; -ENOMEM otherwise. k must not
 * exceed 32 (the first chunk's size). */
int gomem__nodepool_reserve_n(struct gomem__nodepool *p, size_t k);

/* Give a node back. O(1). */
static inline void gomem__nodepool_put(struct gomem__nodepool *p, void *node)
{
    *(void **)node = p->free;
    p->free = node;
    p->nfree++;
}

/* Release every chunk. */
void gomem__nodepool_destroy(struct gomem__nodepool *p);

#endif /* GOMEM_NODEPOOL_H */
