/* annotate.h - what libgomem tells valgrind (helgrind, memcheck) about its
 * locks and pools.
 *
 * The client requests cost instructions on every call, so they are
 * compiled in only when asked for: ./configure --enable-valgrind-annotations
 * (implied by --enable-debug) defines GOMEM__ANNOTATE. Without it every
 * macro below is empty and the release build pays nothing. */
#ifndef GOMEM_ANNOTATE_H
#define GOMEM_ANNOTATE_H

#include "config.h"

#ifdef GOMEM__ANNOTATE
#include <valgrind/helgrind.h>
#include <valgrind/memcheck.h>
/* A compare-and-swap word used as a lock (helgrind cannot see it is one). */
#define GOMEM__HG_CREATE(l) ANNOTATE_RWLOCK_CREATE(l)
#define GOMEM__HG_DESTROY(l) ANNOTATE_RWLOCK_DESTROY(l)
#define GOMEM__HG_ACQUIRED(l) ANNOTATE_RWLOCK_ACQUIRED(l, 1)
#define GOMEM__HG_RELEASED(l) ANNOTATE_RWLOCK_RELEASED(l, 1)
/* Words read without the lock on purpose (a lock word, seqlock counters). */
#define GOMEM__HG_IGNORE(p, n) VALGRIND_HG_DISABLE_CHECKING(p, n)
#define GOMEM__HG_UNIGNORE(p, n) VALGRIND_HG_ENABLE_CHECKING(p, n)
/* A happens-before edge that a lock-free hand-off creates. */
#define GOMEM__HG_SEND(p) ANNOTATE_HAPPENS_BEFORE(p)
#define GOMEM__HG_RECEIVE(p) ANNOTATE_HAPPENS_AFTER(p)
#else
#define GOMEM__HG_CREATE(l) ((void)(l))
#define GOMEM__HG_DESTROY(l) ((void)(l))
#define GOMEM__HG_ACQUIRED(l) ((void)(l))
#define GOMEM__HG_RELEASED(l) ((void)(l))
#define GOMEM__HG_IGNORE(p, n) ((void)(p), (void)(n))
#define GOMEM__HG_UNIGNORE(p, n) ((void)(p), (void)(n))
#define GOMEM__HG_SEND(p) ((void)(p))
#define GOMEM__HG_RECEIVE(p) ((void)(p))
#endif

/* Pool memory: bytes handed out are addressable but undefined; bytes given
 * back are not addressable, so memcheck reports a use after free, an
 * overflow into a neighbour and a read of uninitialised pool bytes. */
#ifdef GOMEM__ANNOTATE
#define GOMEM__MC_UNDEFINED(p, n) ((void)VALGRIND_MAKE_MEM_UNDEFINED(p, n))
#define GOMEM__MC_NOACCESS(p, n) ((void)VALGRIND_MAKE_MEM_NOACCESS(p, n))
#define GOMEM__MC_DEFINED(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED(p, n))
#else
#define GOMEM__MC_UNDEFINED(p, n) ((void)(p), (void)(n))
#define GOMEM__MC_NOACCESS(p, n) ((void)(p), (void)(n))
#define GOMEM__MC_DEFINED(p, n) ((void)(p), (void)(n))
#endif

/* The same for AddressSanitizer, in builds made with it. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GOMEM__ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define GOMEM__ASAN 1
#endif
#ifdef GOMEM__ASAN
#include <sanitizer/asan_interface.h>
#include <stdint.h>
/* ASan keeps one shadow byte per 8 bytes. Poisoning the granules at the
 * ends of a range would rewrite shadow that a neighbouring allocation
 * shares, perhaps in another thread at that moment: only the granules
 * wholly inside the range are poisoned. (Unpoisoning only ever widens
 * what is addressable, so it may touch the ends.) */
static inline void gomem__asan_poison_inside(const void *p, size_t n)
{
    uintptr_t b = ((uintptr_t)p + 7) & ~(uintptr_t)7, e = ((uintptr_t)p + n) & ~(uintptr_t)7;
    if (e > b)
        ASAN_POISON_MEMORY_REGION((void *)b, e - b);
}
#define GOMEM__ASAN_POISON(p, n) gomem__asan_poison_inside(p, n)
#define GOMEM__ASAN_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define GOMEM__ASAN_POISON(p, n) ((void)(p), (void)(n))
#define GOMEM__ASAN_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* What a pool calls when it hands bytes out and when it takes them back. */
#define GOMEM__POOL_ALLOCATED(p, n) (GOMEM__ASAN_UNPOISON(p, n), GOMEM__MC_UNDEFINED(p, n))
#define GOMEM__POOL_FREED(p, n) (GOMEM__MC_NOACCESS(p, n), GOMEM__ASAN_POISON(p, n))

/* Debug builds (GOMEM__DEBUG): fill bytes about to be given back with
 * GOMEM__FREE_PATTERN (internal.h), redzones included, so a use after free
 * reads an obvious value. Call it before GOMEM__POOL_FREED. Empty in other
 * builds. */
#ifdef GOMEM__DEBUG
#include <string.h>
#define GOMEM__POOL_SCRUB(p, n) (GOMEM__POOL_ALLOCATED(p, n), (void)memset((p), GOMEM__FREE_PATTERN, (n)))
#else
#define GOMEM__POOL_SCRUB(p, n) ((void)(p), (void)(n))
#endif

#endif /* GOMEM_ANNOTATE_H */
