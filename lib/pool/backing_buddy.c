/* backing_buddy.c - arenas carved from the shared buddy pool
 * (--enable-buddy). A region larger than one pooled buddy is mapped on its
 * own (cookie NULL), as no buddy could hold it. */
#include "backing.h"
#include "buddy.h"
#include "os.h"

static int buddy_get(size_t size, struct gomem__region *r)
{
    if (size == 0)
        return -EINVAL;
    gomem_buddy *owner = NULL;
    void *p;
    if (size <= GOMEM__BUDDY_POOL_SIZE) {
        int e = gomem__buddy_pool_alloc(size, &owner, &p);
        if (e)
            return e;
    } else if (!(p = gomem__os_map(size, 0))) {
        return -ENOMEM;
    }
    r->base = p;
    r->size = size;
    r->cookie = owner;
    return 0;
}

static void buddy_put(struct gomem__region *r)
{
    if (r->cookie)
        gomem__buddy_pool_free(r->cookie, r->base);
    else
        gomem__os_unmap(r->base, r->size);
}

const struct gomem__backing gomem__backing_buddy = {"buddy", GOMEM__BACKING_BUDDY, buddy_get, buddy_put};
