/* recyclable_libc.c - the recyclable backing of --disable-rm: segments
 * come from the C library's malloc and go back with free; the scalable
 * allocator given to gomem_recyclable_init is not used. */
#include "buffer.h"

#include <stdlib.h>

#include "annotate.h"

void *gomem__rm_alloc(gomem_scalable *s, size_t n)
{
    (void)s;
    return malloc(n);
}

void *gomem__rm_next(gomem_recyclable *rm, size_t n, size_t size)
{
    unsigned char *p = malloc(n + GOMEM__REDZONE);
    return p ? gomem__rm_keep(rm, p, n, size) : NULL;
}

size_t gomem__rm_free_all(gomem_scalable *s, struct iovec *seg, size_t n)
{
    (void)s;
    for (size_t i = 0; i < n; i++) {
        GOMEM__POOL_SCRUB(seg[i].iov_base, seg[i].iov_len);
        free(seg[i].iov_base);
    }
    return 0; /* free cannot fail */
}
