/* nodepool.c - chunked node pool of the offset-allocator trees. */
#include "internal.h"

#include <stdlib.h>

#include "nodepool.h"

#define NODEPOOL_FIRST 32
#define NODEPOOL_MAX 4096

struct nodepool_chunk {
    struct nodepool_chunk *next;
    max_align_t align[]; /* the nodes */
};

void gomem__nodepool_init(struct gomem__nodepool *p, size_t node_size)
{
    size_t align = sizeof(max_align_t);
    p->free = NULL;
    p->chunks = NULL;
    p->node_size = (node_size < sizeof(void *) ? sizeof(void *) : node_size);
    p->node_size = (p->node_size + align - 1) / align * align;
    p->chunk_nodes = NODEPOOL_FIRST;
    p->nfree = 0;
}

static int nodepool_add_chunk(struct gomem__nodepool *p)
{
    size_t n = p->chunk_nodes;
    struct nodepool_chunk *c = malloc(sizeof *c + n * p->node_size);
    if (!c)
        return -ENOMEM;
    c->next = p->chunks;
    p->chunks = c;
    if (p->chunk_nodes < NODEPOOL_MAX)
        p->chunk_nodes *= 2;
    char *base = (char *)c->align;
    for (size_t i = n; i-- > 0;) {
        void *node = base + i * p->node_size;
        *(void **)node = p->free;
        p->free = node;
    }
    p->nfree += n;
    return 0;
}

int gomem__nodepool_reserve(struct gomem__nodepool *p)
{
    return p->free ? 0 : nodepool_add_chunk(p);
}

int gomem__nodepool_reserve_n(struct gomem__nodepool *p, size_t k)
{
    return p->nfree >= k ? 0 : nodepool_add_chunk(p);
}

void gomem__nodepool_destroy(struct gomem__nodepool *p)
{
    struct nodepool_chunk *c = p->chunks;
    while (c) {
        struct nodepool_chunk *next = c->next;
        free(c);
        c = next;
    }
    p->chunks = NULL;
    p->free = NULL;
    p->nfree = 0;
}
