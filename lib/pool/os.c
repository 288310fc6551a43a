/* os.c - anonymous mmap regions, with transparent huge pages on request. */
#include "internal.h"

#include <sys/mman.h>

#include "os.h"

#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif

void *gomem__os_map(size_t size, int huge)
{
    if (size == 0) {
        errno = EINVAL;
        return NULL;
    }
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) {
        errno = ENOMEM;
        return NULL;
    }
#if HAVE_DECL_MADV_HUGEPAGE
    /* Advice only: a kernel without THP (or with it disabled) says EINVAL,
     * and the region works with ordinary pages. */
    if (huge)
        (void)madvise(p, size, MADV_HUGEPAGE);
#else
    (void)huge;
#endif
    return p;
}

void gomem__os_unmap(void *p, size_t size)
{
    if (p)
        (void)munmap(p, size);
}
