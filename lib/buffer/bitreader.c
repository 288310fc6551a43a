/* bitreader.c - gomem_bitreader_*: bits and exp-Golomb codes across the
 * segments of a Memory.
 *
 * State: cache holds the next left bits of the stream, most significant
 * first; below them are zeros or, after a refill of 8 bytes at once, the
 * first bits of the byte after the cache (the next refill ORs the same
 * bits in, so they never need clearing); cur is the byte cursor after the bytes in
 * the cache; pulled counts the (stripped) bytes moved into the cache, so
 * the bits consumed are 8 * pulled - left. Filling the cache is never a
 * visible change, which makes the reads all or nothing: a read that fails
 * may have filled the cache but consumed nothing. With
 * GOMEM_BITREADER_EPB, zeros counts the 0x00 bytes just pulled; a 0x03
 * after two of them is dropped. */
#include "buffer.h"

#include <string.h>

static void bitreader_reset(gomem_bitreader *br, const gomem_reader *r, unsigned flags)
{
    *br = (gomem_bitreader){.flags = flags, .cur = *r, .start = *r};
}

GOMEM_API int gomem_bitreader_init(gomem_bitreader *br, const gomem_reader *r, unsigned flags)
{
    if (!br || !r || (flags & ~GOMEM_BITREADER_EPB))
        return -EINVAL;
    bitreader_reset(br, r, flags);
    return 0;
}

/* The next stream byte from t (emulation prevention stripped as flags
 * say, with *zeros as state), or -1 at the end of the data. */
static int bitreader_byte(gomem_reader *t, unsigned flags, unsigned *zeros)
{
    for (;;) {
        while (t->pos == t->end)
            if (!gomem__reader_enter(t))
                return -1;
        uint8_t b = *t->pos++;
        if (flags & GOMEM_BITREADER_EPB) {
            if (*zeros >= 2 && b == 3) {
                *zeros = 0;
                continue;
            }
            *zeros = b ? 0 : *zeros + 1;
        }
        return b;
    }
}

/* Fill the cache with whole bytes while they fit (left ends above 56 if
 * the data lasts). */
static void bitreader_fill(gomem_bitreader *br)
{
    while (br->left <= 56) {
        if (!br->flags && br->cur.end - br->cur.pos >= 8) {
            const uint8_t *p = br->cur.pos;
            unsigned take = (64 - br->left) >> 3;
            uint64_t w = 0;
            for (int i = 0; i < 8; i++)
                w = w << 8 | p[i];
            br->cache |= w >> br->left; /* and the first bits of p[take] */
            br->left += 8 * take;
            br->cur.pos = p + take;
            br->pulled += take;
            return;
        }
        int b = bitreader_byte(&br->cur, br->flags, &br->zeros);
        if (b < 0)
            return;
        br->cache |= (uint64_t)b << (56 - br->left);
        br->left += 8;
        br->pulled++;
    }
}

/* Take n (1..57, n <= left) bits from the cache. */
static uint64_t bitreader_take(gomem_bitreader *br, unsigned n)
{
    uint64_t v = br->cache >> (64 - n);
    br->cache = n < 64 ? br->cache << n : 0;
    br->left -= n;
    return v;
}

GOMEM_API int(gomem_bitreader_read)(gomem_bitreader *br, unsigned n, uint64_t *v)
{
    if (!br || !v || n > 64)
        return -EINVAL;
    if (!n) {
        *v = 0;
        return 0;
    }
    if (br->left < n)
        bitreader_fill(br);
    if (n <= br->left) {
        *v = bitreader_take(br, n);
        return 0;
    }
    if (br->left < 57)
        return -ENODATA; /* the fill stopped at the end of the data */
    /* n > 57: in two parts, on a copy so that a failure consumes nothing. */
    gomem_bitreader t = *br;
    uint64_t hi = bitreader_take(&t, n - 32);
    bitreader_fill(&t);
    if (t.left < 32)
        return -ENODATA;
    *v = hi << 32 | bitreader_take(&t, 32);
    *br = t;
    return 0;
}

GOMEM_API int gomem_bitreader_peek(const gomem_bitreader *br, unsigned n, uint64_t *v)
{
    if (!br)
        return -EINVAL;
    gomem_bitreader t = *br;
    return (gomem_bitreader_read)(&t, n, v);
}

GOMEM_API int gomem_bitreader_skip(gomem_bitreader *br, size_t n)
{
    if (!br)
        return -EINVAL;
    if (n <= br->left) {
        if (n)
            bitreader_take(br, (unsigned)n);
        return 0;
    }
    gomem_bitreader t = *br;
    n -= t.left;
    t.cache = 0;
    t.left = 0;
    if (!t.flags) {
        /* Whole bytes straight through the byte cursor. */
        size_t bytes = n / 8;
        if (gomem_reader_skip(&t.cur, bytes))
            return -ENODATA;
        t.pulled += bytes;
        n %= 8;
    }
    while (n) {
        bitreader_fill(&t);
        if (!t.left)
            return -ENODATA;
        unsigned k = n < t.left ? (unsigned)n : t.left;
        bitreader_take(&t, k);
        n -= k;
    }
    *br = t;
    return 0;
}

GOMEM_API int gomem_bitreader_align(gomem_bitreader *br)
{
    if (!br)
        return -EINVAL;
    unsigned k = br->left % 8;
    if (k)
        bitreader_take(br, k);
    return 0;
}

GOMEM_API int(gomem_bitreader_read_ue)(gomem_bitreader *br, uint32_t *v)
{
    if (!br || !v)
        return -EINVAL;
    if (br->left < 63)
        bitreader_fill(br);
    if (br->cache >> 32) { /* at most 31 leading zeros */
        unsigned z = 0;
        while (!(br->cache >> (63 - z) & 1))
            z++;
        unsigned len = 2 * z + 1;
        if (len <= br->left) {
            *v = (uint32_t)(bitreader_take(br, len) - 1);
            return 0;
        }
        if (br->left < 57)
            return -ENODATA; /* the fill stopped at the end of the data */
    }
    /* 32 or more leading zeros, fewer bits than that left, or a code longer
     * than the cache holds: decide bit by bit on a copy. */
    gomem_bitreader t = *br;
    uint64_t b;
    unsigned z = 0;
    for (;;) {
        int e = (gomem_bitreader_read)(&t, 1, &b);
        if (e)
            return e;
        if (b)
            break;
        if (++z == 32)
            return -EOVERFLOW;
    }
    uint64_t x = 0;
    int e = (gomem_bitreader_read)(&t, z, &x);
    if (e)
        return e;
    *v = (uint32_t)(((uint64_t)1 << z) - 1 + x);
    *br = t;
    return 0;
}

GOMEM_API int gomem_bitreader_read_se(gomem_bitreader *br, int32_t *v)
{
    if (!v)
        return -EINVAL;
    uint32_t k;
    int e = (gomem_bitreader_read_ue)(br, &k);
    if (e)
        return e;
    /* 1, 2, 3, 4 ... -> 1, -1, 2, -2 ...; k <= 2^32 - 2 keeps it in range */
    *v = k & 1 ? (int32_t)((k >> 1) + 1) : -(int32_t)(k >> 1);
    return 0;
}

GOMEM_API size_t gomem_bitreader_tell(const gomem_bitreader *br)
{
    return br ? 8 * br->pulled - br->left : 0;
}

GOMEM_API int gomem_bitreader_sync(const gomem_bitreader *br, gomem_reader *r)
{
    if (!br || !r)
        return -EINVAL;
    size_t bytes = (8 * br->pulled - br->left + 7) / 8;
    if (!br->flags) {
        gomem_reader t = br->cur; /* pulled bytes lie before it, no gaps */
        gomem_reader_unread(&t, br->pulled - bytes);
        *r = t;
        return 0;
    }
    gomem_reader t = br->start;
    unsigned zeros = 0;
    for (size_t i = 0; i < bytes; i++)
        bitreader_byte(&t, br->flags, &zeros);
    /* An emulation prevention byte right after is no data: pass it. */
    if (zeros >= 2) {
        gomem_reader u = t;
        while (u.pos == u.end && gomem__reader_enter(&u))
            ;
        if (u.pos != u.end && *u.pos == 3) {
            u.pos++;
            t = u;
        }
    }
    *r = t;
    return 0;
}
