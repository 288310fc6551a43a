/* scalable.h - internal calls of the scalable allocator (lib/pool/scalable.c). */
#ifndef GOMEM_SCALABLE_H
#define GOMEM_SCALABLE_H

#include "internal.h"

/* Walk the allocator: arenas sorted and disjoint, each arena's check, no
 * wholly free arena kept but the one allowed (or one holding a thread's
 * chunk), every thread's chunk inside its arena with [low, end) clear of
 * the offset allocator's free blocks and of other chunks, its pending
 * blocks inside [hstart, cur), apart and not free in the tree, and the
 * counters equal to the arenas' sums (used minus chunk tails and pending
 * bytes). 0, or -EFAULT with a message on stderr. Takes the lock; no
 * other thread may be calling s. O(arenas + threads * free blocks). */
int gomem__scalable_check(gomem_scalable *s);

/* The calling thread's small requests (up to 4 KiB) from spans (on 1) or
 * its chunk (on 0), whatever its frees did so far; on -1 only asks.
 * Returns whether they came from spans before, or -ENOMEM (no cache).
 * White-box and debug builds only (for the tests). */
int gomem__scalable_spans(gomem_scalable *s, int on);

/* gomem_scalable_malloc for recyclable memory: n bytes from the calling
 * thread's bump chunk, whatever n (no size class), so that the segments
 * of one recyclable memory lie end to end and go back in one free at
 * recycle. Counted, freed and validated as any other allocation. NULL
 * with errno EINVAL or ENOMEM. */
void *gomem__scalable_malloc_bump(gomem_scalable *s, size_t n);

/* gomem_recyclable_next of the pooled recyclable backing
 * (lib/buffer/buffer.h): n + GOMEM__REDZONE bytes as
 * gomem__scalable_malloc_bump takes them, appended to rm's lists with
 * gomem__rm_keep, in one call; anything else is
 * gomem__recyclable_next_slow's. */
void *gomem__scalable_rm_next(gomem_recyclable *rm, size_t n);

#endif /* GOMEM_SCALABLE_H */
