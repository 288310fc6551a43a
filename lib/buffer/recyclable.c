/* recyclable.c - gomem_recyclable_*: a Memory whose segments go back in
 * one call. Where they come from is the backing's business (buffer.h):
 * the scalable allocator, or malloc with --disable-rm.
 *
 * The segments next handed out are also kept in a list of their own, so
 * recycle frees exactly those, whatever the caller did to rm->mem
 * meanwhile (update, a reader's clip_front), and never one from add. */
#include "buffer.h"

#include <stdlib.h>

#include "annotate.h"

GOMEM_API int gomem_recyclable_init(gomem_recyclable *rm, gomem_scalable *s)
{
    if (!rm || !s)
        return -EINVAL;
    *rm = (gomem_recyclable){.pool = s};
    return 0;
}

/* Room for extra more entries in the list of owned segments. */
static int recyclable_reserve(gomem_recyclable *rm, size_t extra)
{
    size_t need;
    if (gomem__add_overflows(rm->nowned, extra, &need))
        return -EOVERFLOW;
    if (need <= rm->capowned)
        return 0;
    size_t cap = rm->capowned ? rm->capowned : 8;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > SIZE_MAX / sizeof *rm->owned)
        return -ENOMEM;
    struct iovec *o = realloc(rm->owned, cap * sizeof *o);
    if (!o)
        return -ENOMEM;
    rm->owned = o;
    rm->capowned = cap;
    return 0;
}

GOMEM_API int gomem_recyclable_reserve(gomem_recyclable *rm, size_t n)
{
    if (!rm)
        return -EINVAL;
    /* Both lists, so the next n calls of next allocate only segments. A
     * failure can leave one list larger, which no caller can observe. */
    int e = recyclable_reserve(rm, n);
    return e ? e : gomem__memory_reserve(&rm->mem, n);
}

GOMEM_API gomem_scalable *gomem_recyclable_get_allocator(const gomem_recyclable *rm)
{
    if (!rm) {
        errno = EINVAL;
        return NULL;
    }
    return rm->pool;
}

GOMEM_API int gomem_recyclable_set_allocator(gomem_recyclable *rm, gomem_scalable *s)
{
    if (!rm || !s)
        return -EINVAL;
    if (s == rm->pool)
        return 0;
    /* A segment next handed out goes back to the allocator it came from:
     * switching now would give it to the wrong one. */
    if (rm->nowned)
        return -EBUSY;
    rm->pool = s;
    return 0;
}

GOMEM__NOINLINE void *gomem__recyclable_next_slow(gomem_recyclable *rm, size_t n)
{
    if (!rm || !n) {
        errno = EINVAL;
        return NULL;
    }
    size_t size, alloc_n;
    int e = gomem__add_overflows(rm->mem.size, n, &size) ||
                    gomem__add_overflows(n, GOMEM__REDZONE, &alloc_n)
                ? -EOVERFLOW
                : recyclable_reserve(rm, 1);
    if (!e)
        e = gomem__memory_reserve(&rm->mem, 1);
    unsigned char *p = e ? NULL : gomem__rm_alloc(rm->pool, alloc_n);
    if (!p) {
        if (e)
            errno = -e; /* else the backing set it */
        return NULL;
    }
    return gomem__rm_keep(rm, p, n, size);
}

/* Debug builds put an unaddressable redzone after each segment, so an
 * overflow into the next one is reported by memcheck and ASan. The usual
 * call finds room in both lists: one test each, then the backing's
 * allocation and appends in one call; the pooled backing makes the tests
 * in that call too (gomem__scalable_rm_next). */
GOMEM_API GOMEM__HOT_ENTRY void *gomem_recyclable_next(gomem_recyclable *rm, size_t n)
{
#if GOMEM__RM_POOLED
    return gomem__scalable_rm_next(rm, n);
#else
    size_t size;
    if (GOMEM__LIKELY(rm && n - 1 < SIZE_MAX - GOMEM__REDZONE && rm->nowned < rm->capowned &&
                      rm->mem.count < rm->mem.cap && !gomem__add_overflows(rm->mem.size, n, &size)))
        return gomem__rm_next(rm, n, size);
    return gomem__recyclable_next_slow(rm, n);
#endif
}

GOMEM_API void *gomem_recyclable_copy_from(gomem_recyclable *rm, const gomem_memory *src)
{
    if (!rm || !src || !src->size) {
        errno = EINVAL;
        return NULL;
    }
    /* src may be rm->mem: the new segment goes last, and only the n bytes
     * before it are copied. */
    size_t n = src->size;
    void *p = gomem_recyclable_next(rm, n);
    if (p)
        gomem_memory_copy_to(src, p, n);
    return p;
}

GOMEM_API int gomem_recyclable_add(gomem_recyclable *rm, const void *buf, size_t n)
{
    return rm ? gomem_memory_push(&rm->mem, buf, n) : -EINVAL;
}

GOMEM_API GOMEM__HOT_ENTRY void gomem_recyclable_recycle(gomem_recyclable *rm)
{
    if (!rm)
        return;
    /* A segment the allocator could not take back for lack of memory stays
     * in owned (not in mem) and goes back at the next recycle or destroy. */
    rm->nowned = gomem__rm_free_all(rm->pool, rm->owned, rm->nowned);
    gomem_memory_reset(&rm->mem);
}

GOMEM_API int gomem_recyclable_clone(const gomem_recyclable *rm, gomem_memory *out)
{
    gomem_memory_init(out);
    if (!rm || !out)
        return -EINVAL;
    return gomem_memory_append(out, &rm->mem);
}

GOMEM_API void gomem_recyclable_destroy(gomem_recyclable *rm)
{
    if (!rm)
        return;
    gomem_recyclable_recycle(rm);
    gomem_memory_destroy(&rm->mem);
    free(rm->owned);
    rm->owned = NULL;
    rm->capowned = 0;
}
