/* recyclable_pool.c - the pooled recyclable backing (the default): the
 * segments of a recyclable memory come from its scalable allocator. */
#include "buffer.h"

void *gomem__rm_alloc(gomem_scalable *s, size_t n)
{
    return gomem_scalable_malloc(s, n);
}

void gomem__rm_free(gomem_scalable *s, void *p, size_t n)
{
    /* Cannot fail: p is a whole block gomem__rm_alloc returned. */
    (void)gomem_scalable_free(s, p, n);
}
