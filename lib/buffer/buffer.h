/* buffer.h - what the memory, recyclable memory and reader files share:
 * their invariant checkers (for the tests) and the contract of the two
 * recyclable backings. */
#ifndef GOMEM_BUFFER_H
#define GOMEM_BUFFER_H

#include "internal.h"

#include "annotate.h"

/* Grow m's segment array to hold at least extra more segments. 0 or
 * -ENOMEM / -EOVERFLOW; m unchanged on failure. */
int gomem__memory_reserve(gomem_memory *m, size_t extra);

/* NULL if every invariant of m holds (size is the sum of the lengths,
 * count <= cap, a segment array whenever cap > 0), otherwise the first
 * broken one. O(count). */
const char *gomem__memory_check(const gomem_memory *m);

/* NULL if every invariant of r and its Memory holds (segments entered <=
 * count, limit is the sum of their lengths, pos and end lie in the
 * current segment and end is its end), otherwise the first broken one.
 * O(count). */
const char *gomem__reader_check(const gomem_reader *r);

/* NULL if every invariant of br holds (its reader's; the window lies in
 * the current segment, holds whole bytes and, with GOMEM_BITREADER_EPB,
 * no emulation prevention byte; idx within it; lim = wbits - 56 or 0),
 * otherwise the first broken one. O(window). */
const char *gomem__bitreader_check(const gomem_bitreader *br);

/* Enter the reader's next segment: 1, or 0 when there is none. */
int gomem__reader_enter(gomem_reader *r);

/* The recyclable backing: where gomem_recyclable_next takes its segments
 * and where recycle gives them back. lib/recyclable_pool.c uses the
 * scalable allocator; lib/recyclable_libc.c (--disable-rm) uses malloc
 * and free and ignores s. Exactly one is linked.
 *
 * gomem__rm_alloc: n > 0 bytes, or NULL with errno set.
 * gomem__rm_free_all: give back the n blocks seg[0..n) that
 * gomem__rm_alloc returned. Returns how many it could not give back (the
 * allocator had no memory for its bookkeeping): those are moved to
 * seg[0..returned), the caller keeps them and tries again later; the rest
 * of seg is overwritten. */
void *gomem__rm_alloc(gomem_scalable *s, size_t n);
size_t gomem__rm_free_all(gomem_scalable *s, struct iovec *seg, size_t n);

/* Whether the backing this file is built with is the pooled one: the
 * configured backing, or the other one in check_recyclable_alt. */
#if defined(CHECK_RM_ALT) && CHECK_RM_ALT
#define GOMEM__RM_POOLED (!GOMEM_HAVE_RM)
#else
#define GOMEM__RM_POOLED GOMEM_HAVE_RM
#endif

/* gomem_recyclable_next when both of rm's lists have room and size, the
 * new rm->mem.size, did not overflow: a segment of n bytes (and a
 * redzone) from the backing, appended by gomem__rm_keep; NULL with errno
 * set and nothing changed. The pooled backing has none: the whole of
 * gomem_recyclable_next is the scalable allocator's
 * gomem__scalable_rm_next, whose tests, bump and appends are one function
 * that calls nothing (10 nexts and a recycle: 761 -> 711 instructions). */
#if GOMEM__RM_POOLED
void *gomem__scalable_rm_next(gomem_recyclable *rm, size_t n);
#else
void *gomem__rm_next(gomem_recyclable *rm, size_t n, size_t size);
#endif

/* gomem_recyclable_next for every call the fast path does not serve
 * (bad arguments, a list to grow, a chunk to refill): the lists grow
 * first, so that after the allocation nothing fails. */
void *gomem__recyclable_next_slow(gomem_recyclable *rm, size_t n);

/* Append the segment p of n bytes (n + GOMEM__REDZONE taken) to both of
 * rm's lists, which have room; size is rm->mem.size + n. Returns p. */
static inline void *gomem__rm_keep(gomem_recyclable *rm, unsigned char *p, size_t n, size_t size)
{
    if (GOMEM__REDZONE)
        GOMEM__POOL_FREED(p + n, GOMEM__REDZONE);
    rm->owned[rm->nowned++] = (struct iovec){p, n + GOMEM__REDZONE};
    rm->mem.iov[rm->mem.count++] = (struct iovec){p, n};
    rm->mem.size = size;
    GOMEM__DEBUG_CHECK(gomem__memory_check(&rm->mem));
    return p;
}

#endif /* GOMEM_BUFFER_H */
