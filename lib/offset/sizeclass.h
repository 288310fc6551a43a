/* sizeclass.h - the size classes both offset-allocator variants file their
 * free blocks in, and the two-level bitmap of the classes that hold any.
 *
 * Lengths below 2 * GOMEM__SC_SUB are classes of their own; above, each
 * power of two is cut into GOMEM__SC_SUB classes of equal width. The
 * variant that includes this header says how many, as GOMEM__SC_BITS (5:
 * 32 per power of two, 1920 classes; 6: 64, 3776 classes): good fit takes
 * 32, which keeps the waste of taking a block from the next class up small
 * enough to fragment like best fit; best fit takes 64, so a class's tree
 * holds half as many blocks. Every call here is O(1) and free of branches
 * on the data but one. */
#ifndef GOMEM_SIZECLASS_H
#define GOMEM_SIZECLASS_H

#include <stddef.h>
#include <stdint.h>

#if !defined(GOMEM__SC_BITS) || GOMEM__SC_BITS < 1 || GOMEM__SC_BITS > 6
#error "define GOMEM__SC_BITS (1 to 6) before including sizeclass.h"
#endif
#define GOMEM__SC_SUB (1u << GOMEM__SC_BITS)
#define GOMEM__SC_MAX ((64 - GOMEM__SC_BITS + 1) << GOMEM__SC_BITS)
#define GOMEM__SC_WORDS ((GOMEM__SC_MAX + 63) / 64) /* <= 64: one top word */

/* The class of a length (>= 1). Below 2 * SUB the shift is 0 and the class
 * is the length itself. */
static inline size_t gomem__sc_class(size_t len)
{
    unsigned sh = 63u - (unsigned)__builtin_clzll((unsigned long long)(len | GOMEM__SC_SUB)) -
                  GOMEM__SC_BITS;
    return ((size_t)sh << GOMEM__SC_BITS) + (len >> sh);
}

/* The lowest class whose every length is >= n (n >= 1). */
static inline size_t gomem__sc_fit_class(size_t n)
{
    unsigned sh = 63u - (unsigned)__builtin_clzll((unsigned long long)(n | GOMEM__SC_SUB)) -
                  GOMEM__SC_BITS;
    return ((size_t)sh << GOMEM__SC_BITS) + (n >> sh) + ((n & (((size_t)1 << sh) - 1)) != 0);
}

/* Which classes hold a block. */
struct gomem__sc_map {
    uint64_t top;                    /* bit w: word[w] != 0 */
    uint64_t word[GOMEM__SC_WORDS];  /* bit c: class c holds a block */
};

static inline void gomem__sc_set(struct gomem__sc_map *m, size_t c)
{
    m->word[c >> 6] |= 1ULL << (c & 63);
    m->top |= 1ULL << (c >> 6);
}

static inline void gomem__sc_clear(struct gomem__sc_map *m, size_t c)
{
    m->word[c >> 6] &= ~(1ULL << (c & 63));
    if (!m->word[c >> 6])
        m->top &= ~(1ULL << (c >> 6));
}

/* Clear c's bit when empty is 1, without a branch. */
static inline void gomem__sc_clear_if(struct gomem__sc_map *m, size_t c, int empty)
{
    size_t w = c >> 6;
    m->word[w] &= ~((uint64_t)empty << (c & 63));
    m->top &= ~((uint64_t)(m->word[w] == 0) << w);
}

static inline int gomem__sc_has(const struct gomem__sc_map *m, size_t c)
{
    return (int)(m->word[c >> 6] >> (c & 63)) & 1;
}

/* The lowest class >= c that holds a block, or SIZE_MAX. */
static inline size_t gomem__sc_search(const struct gomem__sc_map *m, size_t c)
{
    if (c >= GOMEM__SC_MAX)
        return SIZE_MAX;
    size_t w = c >> 6;
    uint64_t bits = m->word[w] & (~0ULL << (c & 63));
    if (!bits) {
        uint64_t up = w + 1 < 64 ? m->top & (~0ULL << (w + 1)) : 0;
        if (!up)
            return SIZE_MAX;
        w = (size_t)__builtin_ctzll(up);
        bits = m->word[w];
    }
    return (w << 6) + (size_t)__builtin_ctzll(bits);
}

#endif /* GOMEM_SIZECLASS_H */
