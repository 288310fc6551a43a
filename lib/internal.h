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

/* a + b without wrap-around: 0 and *sum set, or 1 on overflow. */
static inline int gomem__add_overflows(size_t a, size_t b, size_t *sum)
{
    *sum = a + b;
    return *sum < a;
}

#endif /* GOMEM_INTERNAL_H */
