/* scalable.h - internal calls of the scalable allocator (lib/scalable.c). */
#ifndef GOMEM_SCALABLE_H
#define GOMEM_SCALABLE_H

#include "internal.h"

/* Walk the allocator: arenas sorted and disjoint, each arena's check (with
 * the bump chunk's free tail as reserved bytes), no wholly free arena kept
 * but the one allowed, the bump chunk inside its arena and clear of the
 * offset allocator's free blocks from low up, and the published counters
 * equal to the arenas' sums. 0, or -EFAULT with a message on stderr. Takes
 * the lock. O(arenas + free blocks). */
int gomem__scalable_check(gomem_scalable *s);

#endif /* GOMEM_SCALABLE_H */
