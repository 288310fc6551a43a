/* backing_mmap.c - arenas as anonymous mmap regions with transparent huge
 * pages (--enable-mmap); munmap on release. Creating one costs no physical
 * memory until its pages are touched. */
#include "backing.h"
#include "os.h"

static int mmap_get(size_t size, struct gomem__region *r)
{
    if (size == 0)
        return -EINVAL;
    unsigned char *p = gomem__os_map(size, 1);
    if (!p)
        return -ENOMEM;
    r->base = p;
    r->size = size;
    r->cookie = NULL;
    return 0;
}

static void mmap_put(struct gomem__region *r)
{
    gomem__os_unmap(r->base, r->size);
}

const struct gomem__backing gomem__backing_mmap = {"mmap", GOMEM__BACKING_MMAP, mmap_get, mmap_put};
