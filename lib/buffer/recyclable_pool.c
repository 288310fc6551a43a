/* recyclable_pool.c - the pooled recyclable backing (the default): the
 * segments of a recyclable memory come from its scalable allocator. */
#include "buffer.h"

#include "annotate.h"
#include "pool/scalable.h"

/* The segments are reported to memcheck and ASan (annotate.h, empty in
 * release builds) as the pool hands them out and takes them back, so a
 * use after recycle, and a read of bytes next never wrote, are reported
 * as they are for malloc's users. */
void *gomem__rm_alloc(gomem_scalable *s, size_t n)
{
    void *p = gomem__scalable_malloc_bump(s, n); /* end to end: one free at recycle */
    if (p)
        GOMEM__POOL_ALLOCATED(p, n);
    return p;
}

/* Give [p, p + n) back. The bytes are filled (debug builds) and made
 * unaddressable first: once the allocator has them, another thread may
 * allocate them at once. A refused free makes them addressable again. */
static int rm_free(gomem_scalable *s, void *p, size_t n)
{
    GOMEM__POOL_SCRUB(p, n);
    GOMEM__POOL_FREED(p, n);
    int r = gomem_scalable_free(s, p, n);
    if (r)
        GOMEM__POOL_ALLOCATED(p, n);
    return r;
}

/* Blocks handed out one after another usually lie end to end in one arena:
 * give each run of adjacent blocks back in one call, which the scalable
 * allocator accepts for any allocated range. A run it refuses (say it
 * spans two arenas that happen to touch) changes nothing and goes back
 * block by block.
 *
 * A free can fail for lack of memory (the arena's offset allocator needs a
 * tree node for a new free block, and none could be allocated): such a
 * block is kept, and tried once more after all the others, whose frees
 * may have merged free blocks and so released nodes. What still fails is
 * returned to the caller, which keeps it for later. */
GOMEM__HOT_ENTRY size_t gomem__rm_free_all(gomem_scalable *s, struct iovec *seg, size_t n)
{
    size_t kept = 0;
    for (size_t i = 0; i < n;) {
        uint8_t *start = seg[i].iov_base, *end = start + seg[i].iov_len;
        size_t j = i + 1;
        while (j < n && (uint8_t *)seg[j].iov_base == end)
            end += seg[j++].iov_len;
        if (j - i == 1 || rm_free(s, start, (size_t)(end - start)) != 0)
            for (size_t k = i; k < j; k++)
                if (rm_free(s, seg[k].iov_base, seg[k].iov_len) != 0)
                    seg[kept++] = seg[k]; /* kept <= k: nothing unread is overwritten */
        i = j;
    }
    size_t left = 0;
    for (size_t k = 0; k < kept; k++)
        if (rm_free(s, seg[k].iov_base, seg[k].iov_len) != 0)
            seg[left++] = seg[k];
    return left;
}
