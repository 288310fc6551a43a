/* internal.h - what every libgomem source file shares.
 *
 * Internal symbols shared between files are named gomem__*; they are hidden
 * (-fvisibility=hidden) and never exported. */
#ifndef GOMEM_INTERNAL_H
#define GOMEM_INTERNAL_H

#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include "gomem.h"

#define GOMEM__CAT_(a, b) a##b
#define GOMEM__CAT(a, b) GOMEM__CAT_(a, b)

#if defined(__GNUC__)
#define GOMEM__LIKELY(x) __builtin_expect(!!(x), 1)
#define GOMEM__UNLIKELY(x) __builtin_expect(!!(x), 0)
#define GOMEM__UNUSED __attribute__((unused))
#define GOMEM__NOINLINE __attribute__((noinline))
/* A hot entry point starts a cache line, and goes in .text.hot, which the
 * linker puts at the front of the library's code: where it happened to
 * put them otherwise moved a pair's time by 10% from one build to the
 * next, and calls that crossed the library (a recyclable next reaching
 * the scalable allocator's bump) cost 10% more than side by side. */
#define GOMEM__HOT_ENTRY __attribute__((aligned(64), hot))
#else
#define GOMEM__NOINLINE
#define GOMEM__HOT_ENTRY
#define GOMEM__LIKELY(x) (x)
#define GOMEM__UNLIKELY(x) (x)
#define GOMEM__UNUSED
#endif

/* A fast path whose returns GCC would otherwise merge into one tail behind
 * a jump (cross-jumping: one jump more on each path that shares it). */
#if defined(__GNUC__) && !defined(__clang__)
#define GOMEM__NO_TAIL_MERGE __attribute__((optimize("no-crossjumping")))
#else
#define GOMEM__NO_TAIL_MERGE
#endif

/* Debug mode (./configure --enable-debug defines GOMEM__DEBUG). Release
 * builds compile every macro below to nothing: the expressions are not
 * evaluated.
 *
 * GOMEM__DEBUG_CHECK(expr): after an operation, run an invariant checker
 * (gomem__*_check returns 0, or NULL, when every invariant holds) and abort
 * with the file and line when it reports a broken structure: a debug build
 * stops at the first call that corrupted something, not later.
 *
 * GOMEM__FREE_PATTERN: what debug builds fill freed pool bytes with, so a
 * use after free reads an obvious value (GOMEM__POOL_SCRUB in annotate.h).
 *
 * GOMEM__REDZONE: bytes a pool leaves unaddressable after each allocation
 * in debug builds (0 otherwise), so an overflow into the next allocation
 * lands in poisoned memory. The rules, the same for arenas
 * (gomem_arena_malloc), the scalable allocator (malloc; its per-thread
 * chunks and held-back blocks alike) and recyclable memory (which also
 * asks the scalable allocator for GOMEM__REDZONE more):
 *   - the scalable allocator's debug malloc and free bypass its inline
 *     paths and its size-class spans (release paths, tested in release
 *     builds): every request comes from the chunk or under the lock;
 *   - malloc(n) carves n + GOMEM__REDZONE when that fits (an arena: a free
 *     run that long; the scalable allocator: room left in the thread's
 *     chunk after n, or an arena with such a run above 4 MiB), else n
 *     alone: a debug build refuses no request a release build serves,
 *     and grows the scalable allocator exactly as a release build does;
 *   - the arena records where each live redzone starts (a bit per byte of
 *     its region, under one mutex: lib/pool/arena.c, gomem__rz_*). The
 *     redzone [r, r + GOMEM__REDZONE) belongs to the allocation that ends
 *     at r, and byte r - 1 stays allocated while the redzone lives;
 *   - a free of [p, p + n) that holds a redzone byte is refused (-EINVAL,
 *     nothing changed); one that ends where a redzone starts (p + n == r)
 *     frees the redzone with it. Every part of an allocation stays
 *     freeable in any order, and exactly one part ends at r, so once every
 *     byte is freed the redzone is too: nothing leaks and the arena
 *     becomes wholly free;
 *   - redzone bytes count as used in the arena (a->used, the tree) and as
 *     free in what the user sees (gomem_arena_free_size, the scalable
 *     allocator's stats and foreach_arena); borrow leaves the redzone
 *     after its bytes inaccessible, and gomem_scalable_read's buffers and
 *     dedicated arenas above 4 MiB get none (past such an arena is the
 *     backing's own memory, which the tools watch). */
#ifdef GOMEM__DEBUG
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define GOMEM__FREE_PATTERN 0xdd
#define GOMEM__REDZONE ((size_t)16)
#define GOMEM__DEBUG_CHECK(expr)                                                                  \
    do {                                                                                           \
        if ((expr) != 0) {                                                                         \
            fprintf(stderr, "libgomem: %s:%d: invariant broken: %s\n", __FILE__, __LINE__, #expr); \
            abort();                                                                               \
        }                                                                                          \
    } while (0)
#else
#define GOMEM__REDZONE ((size_t)0)
#define GOMEM__DEBUG_CHECK(expr) ((void)0)
#endif

/* a + b without wrap-around: 0 and *sum set, or 1 on overflow. */
static inline int gomem__add_overflows(size_t a, size_t b, size_t *sum)
{
    *sum = a + b;
    return *sum < a;
}

#endif /* GOMEM_INTERNAL_H */
