/* backing_heap.c - arenas on the C library's heap (the default). */
#include <stdint.h>
#include <stdlib.h>

#include "backing.h"

static int heap_get(size_t size, struct gomem__region *r)
{
    if (size == 0)
        return -EINVAL;
    if (size > PTRDIFF_MAX)
        return -ENOMEM; /* no C object can be that large; do not even ask */
    unsigned char *p = malloc(size);
    if (!p)
        return -ENOMEM;
    r->base = p;
    r->size = size;
    r->cookie = NULL;
    return 0;
}

static void heap_put(struct gomem__region *r)
{
    free(r->base);
}

const struct gomem__backing gomem__backing_heap = {"heap", GOMEM__BACKING_HEAP, heap_get, heap_put};
