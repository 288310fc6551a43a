/* allocator.c - the public gomem_allocator_* calls, forwarded to the
 * offset-allocator variant configure chose (see offset.h; the variant
 * defines alloc and free itself in release builds). */
#include "offset.h"

#define VARIANT(fn) GOMEM__CAT(GOMEM__CAT(GOMEM__CAT(gomem__, GOMEM__OFFSET_VARIANT), _), fn)
typedef struct GOMEM__CAT(gomem__, GOMEM__OFFSET_VARIANT) variant_t;

/* The public handle is the variant's own structure. */
#define IMPL(a) ((variant_t *)(a))
#define CIMPL(a) ((const variant_t *)(a))

/* Debug builds check the whole structure after every change (internal.h). */
#ifdef GOMEM__DEBUG
static int offset_allocator_check(const gomem_allocator *a)
{
    return a ? VARIANT(check)(CIMPL(a)) : 0;
}
#endif

GOMEM_API gomem_allocator *gomem_allocator_new(size_t size)
{
    gomem_allocator *a = (gomem_allocator *)VARIANT(new)(size);
    GOMEM__DEBUG_CHECK(offset_allocator_check(a));
    return a;
}

#if !GOMEM__OFFSET_PUBLIC_IN_VARIANT /* else the variant defines them (offset.h) */
GOMEM_API int gomem_allocator_alloc(gomem_allocator *a, size_t n, size_t *off)
{
    int r = a ? VARIANT(alloc)(IMPL(a), n, off) : -EINVAL;
    GOMEM__DEBUG_CHECK(offset_allocator_check(a));
    return r;
}

GOMEM_API int gomem_allocator_free(gomem_allocator *a, size_t off, size_t n)
{
    int r = a ? VARIANT(free)(IMPL(a), off, n) : -EINVAL;
    GOMEM__DEBUG_CHECK(offset_allocator_check(a));
    return r;
}
#endif

GOMEM_API int gomem_allocator_find(const gomem_allocator *a, size_t n, size_t *off)
{
    return a ? VARIANT(find)(CIMPL(a), n, off) : -EINVAL;
}

GOMEM_API size_t gomem_allocator_free_size(const gomem_allocator *a)
{
    return a ? VARIANT(free_size)(CIMPL(a)) : 0;
}

GOMEM_API size_t gomem_allocator_size(const gomem_allocator *a)
{
    return a ? VARIANT(size)(CIMPL(a)) : 0;
}

GOMEM_API int gomem_allocator_reset(gomem_allocator *a, size_t size)
{
    int r = a ? VARIANT(reset)(IMPL(a), size) : -EINVAL;
    GOMEM__DEBUG_CHECK(offset_allocator_check(a));
    return r;
}

GOMEM_API int gomem_allocator_foreach_free(const gomem_allocator *a,
                                           gomem_allocator_visit_fn fn, void *arg)
{
    return a ? VARIANT(foreach_free)(CIMPL(a), fn, arg) : -EINVAL;
}

GOMEM_API void gomem_allocator_destroy(gomem_allocator *a)
{
    if (a)
        VARIANT(destroy)(IMPL(a));
}
