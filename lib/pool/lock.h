/* lock.h - the one lock of the pool family: a test-and-test-and-set
 * spinlock on atomic_ops.h, taken for a few dozen instructions at a time.
 *
 * Release is a plain store on x86, so an uncontended lock/unlock pair costs
 * one atomic compare-and-swap (a pthread mutex costs two). Waiters spin briefly, then
 * yield the CPU, so a preempted holder is not starved.
 *
 * Helgrind cannot see that a compare-and-swap on a word is a lock: the calls below
 * tell it (ANNOTATE_RWLOCK_*), and take the lock word out of its race
 * detection, so helgrind reports races in the data the lock guards, not on
 * the lock itself. They are compiled in only with
 * --enable-valgrind-annotations (annotate.h). */
#ifndef GOMEM_LOCK_H
#define GOMEM_LOCK_H

#include "config.h"

#include <atomic_ops.h>
#include <sched.h>

#include "annotate.h"

struct gomem__lock {
    volatile AO_t word; /* 0 free, 1 held */
};

#define GOMEM__LOCK_INIT {0}

/* Make a lock known to helgrind. Call once before first use (for a static
 * lock, from a constructor); the lock starts unlocked either way. */
static inline void gomem__lock_init(struct gomem__lock *l)
{
    AO_store(&l->word, 0);
    GOMEM__HG_IGNORE(&l->word, sizeof l->word);
    GOMEM__HG_CREATE(l);
}

/* Forget a lock before its memory is freed (it must be unlocked). */
static inline void gomem__lock_fini(struct gomem__lock *l)
{
    GOMEM__HG_DESTROY(l);
    GOMEM__HG_UNIGNORE(&l->word, sizeof l->word);
}

static inline void gomem__lock(struct gomem__lock *l)
{
    if (!AO_compare_and_swap_acquire(&l->word, 0, 1)) {
        unsigned spins = 0;
        do {
            while (AO_load(&l->word) != 0) {
                if (++spins >= 64) {
                    spins = 0;
                    sched_yield();
                }
            }
        } while (!AO_compare_and_swap_acquire(&l->word, 0, 1));
    }
    GOMEM__HG_ACQUIRED(l);
}

static inline void gomem__unlock(struct gomem__lock *l)
{
    GOMEM__HG_RELEASED(l);
    AO_store_release(&l->word, 0);
}

#endif /* GOMEM_LOCK_H */
