/* objpool.h - internal calls of the object pool (lib/pool/objpool.c). */
#ifndef GOMEM_OBJPOOL_H
#define GOMEM_OBJPOOL_H

#include "internal.h"

/* Walk the pool while no other thread uses it: every carved slot is
 * either out (its state byte says so) or listed exactly once, in the
 * shared stack or in one thread's magazine, with a state byte saying it
 * is free; slots not yet carved are free and listed nowhere. Stores the
 * number of objects out in *out (if not NULL). 0, or -EFAULT with a
 * message on stderr. Takes the pool's lock. O(slots). */
int gomem__objpool_check(gomem_objpool *p, size_t *out);

/* Slots carved so far, and slabs (for the tests). Takes the lock. */
size_t gomem__objpool_carved(gomem_objpool *p, size_t *slabs);

#endif /* GOMEM_OBJPOOL_H */
