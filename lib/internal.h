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
#else
#define GOMEM__NOINLINE
#define GOMEM__LIKELY(x) (x)
#define GOMEM__UNLIKELY(x) (x)
#define GOMEM__UNUSED
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
 * lands in poisoned memory. */
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
