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
 * the lock itself. Outside valgrind the annotations cost a few register
 * instructions. */
#ifndef GOMEM_LOCK_H
#define GOMEM_LOCK_H

#include "config.h"

#include <atomic_ops.h>
#include <sched.h>

#if HAVE_VALGRIND_HELGRIND_H
#include <valgrind/helgrind.h>
#define GOMEM__HG_CREATE(l) ANNOTATE_RWLOCK_CREATE(l)
#define GOMEM__HG_DESTROY(l) ANNOTATE_RWLOCK_DESTROY(l)
#define GOMEM__HG_ACQUIRED(l) ANNOTATE_RWLOCK_ACQUIRED(l, 1)
#define GOMEM__HG_RELEASED(l) ANNOTATE_RWLOCK_RELEASED(l, 1)
/* Words read without the lock on purpose (a lock word, seqlock counters). */
#define GOMEM__HG_IGNORE(p, n) VALGRIND_HG_DISABLE_CHECKING(p, n)
#define GOMEM__HG_UNIGNORE(p, n) VALGRIND_HG_ENABLE_CHECKING(p, n)
#else
#define GOMEM__HG_CREATE(l) ((void)(l))
#define GOMEM__HG_DESTROY(l) ((void)(l))
#define GOMEM__HG_ACQUIRED(l) ((void)(l))
#define GOMEM__HG_RELEASED(l) ((void)(l))
#define GOMEM__HG_IGNORE(p, n) ((void)(p), (void)(n))
#define GOMEM__HG_UNIGNORE(p, n) ((void)(p), (void)(n))
#endif

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
