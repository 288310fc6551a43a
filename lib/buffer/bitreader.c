/* bitreader.c - gomem_bitreader_*: bits and exp-Golomb codes across the
 * segments of a Memory.
 *
 * State: a window of whole bytes starting at cur.pos, all in cur's
 * current segment, where the stream is the raw bytes (with
 * GOMEM_BITREADER_EPB: no emulation prevention byte inside, and at most
 * SCAN bytes, so that a reader of a few bytes does not scan a long
 * segment); idx bits of it are consumed (idx <= wbits, the window's size
 * in bits; a partly read byte always lies in the window). pulled counts
 * the stream bytes before cur.pos, so the bits consumed are 8 * pulled +
 * idx; zeros counts the 0x00 bytes just before cur.pos, 2 meaning two or
 * more (a 0x03 after two of them is dropped).
 *
 * Inside the window a read is one unaligned 8-byte load, as over one
 * contiguous buffer (the inline paths in gomem.h, while idx < lim =
 * wbits - 56). At its end the reader moves its window on: commit folds
 * the whole bytes read into cur, normalize passes segment ends and an
 * emulation prevention byte, window measures the next window. Reads that
 * cross windows work on a copy and store it only on success: all or
 * nothing. */
#include "buffer.h"

#include <string.h>

/* Bytes of a segment an emulation-prevention window covers at most. */
#define SCAN 256

static void bitreader_lim(gomem_bitreader *br)
{
    br->lim = br->wbits > 56 ? br->wbits - 56 : 0;
}

/* Fold the whole bytes consumed into cur. */
static void bitreader_commit(gomem_bitreader *br)
{
    size_t k = br->idx >> 3;
    if (!k)
        return;
    const uint8_t *p = br->cur.pos;
    if (br->flags) { /* only "two or more" matters: the last two bytes say it */
        unsigned z = br->zeros;
        for (size_t i = k > 2 ? k - 2 : 0; i < k; i++)
            z = p[i] ? 0 : z < 2 ? z + 1 : 2;
        br->zeros = z;
    }
    br->cur.pos = p + k;
    br->pulled += k;
    br->idx &= 7;
    br->wbits -= 8 * k;
    bitreader_lim(br);
}

/* With idx == 0: pass empty segment ends and an emulation prevention byte
 * at cur.pos, so that cur.pos is the next stream byte (or the end). */
static void bitreader_normalize(gomem_bitreader *br)
{
    for (;;) {
        if (br->cur.pos == br->cur.end) {
            if (!gomem__reader_enter(&br->cur))
                return;
            continue;
        }
        if (br->flags && br->zeros >= 2 && *br->cur.pos == 3) {
            br->cur.pos++;
            br->zeros = 0;
            continue;
        }
        return;
    }
}

/* Measure the window at cur.pos (idx == 0, normalized). */
static void bitreader_window(gomem_bitreader *br)
{
    size_t avail = (size_t)(br->cur.end - br->cur.pos);
    if (avail > SIZE_MAX / 16) /* so that 8 * avail, and idx + 64, fit */
        avail = SIZE_MAX / 16;
    if (br->flags) {
        const uint8_t *p = br->cur.pos;
        unsigned z = br->zeros;
        size_t i;
        if (avail > SCAN)
            avail = SCAN;
        for (i = 0; i < avail; i++) {
            if (p[i] == 3 && z >= 2)
                break;
            z = p[i] ? 0 : z < 2 ? z + 1 : 2;
        }
        avail = i;
    }
    br->wbits = 8 * avail;
    bitreader_lim(br);
}

GOMEM_API int gomem_bitreader_init(gomem_bitreader *br, const gomem_reader *r, unsigned flags)
{
    if (!br || !r || (flags & ~GOMEM_BITREADER_EPB))
        return -EINVAL;
    *br = (gomem_bitreader){.flags = flags, .cur = *r};
    bitreader_normalize(br);
    bitreader_window(br);
    GOMEM__DEBUG_CHECK(gomem__bitreader_check(br));
    return 0;
}

/* k (1..57) bits at bit idx of the window, idx + k <= wbits. */
static inline uint64_t bitreader_bits57(const gomem_bitreader *br, size_t idx, unsigned k)
{
    const uint8_t *p = br->cur.pos;
    uint64_t w;
    if (idx < br->lim) {
        w = gomem__br_load(p + (idx >> 3)) << (idx & 7);
    } else if (br->wbits >= 64) { /* the window's last 8 bytes */
        size_t at = br->wbits - 64;
        w = gomem__br_load(p + at / 8) << (idx - at);
    } else {
        size_t b = idx >> 3, nb = ((idx & 7) + k + 7) >> 3;
        w = 0;
        for (size_t i = 0; i < nb; i++)
            w |= (uint64_t)p[b + i] << (56 - 8 * i);
        w <<= idx & 7;
    }
    return w >> (64 - k);
}

/* k (1..64) bits at bit idx of the window, idx + k <= wbits. */
static uint64_t bitreader_bits(const gomem_bitreader *br, size_t idx, unsigned k)
{
    if (k <= 57)
        return bitreader_bits57(br, idx, k);
    uint64_t hi = bitreader_bits57(br, idx, k - 32);
    return hi << 32 | bitreader_bits57(br, idx + k - 32, 32);
}

/* Move to the next window: idx == wbits. 0, or -ENODATA at the end of
 * the data (br then stands at the end). */
static int bitreader_next(gomem_bitreader *br)
{
    bitreader_commit(br);
    bitreader_normalize(br);
    bitreader_window(br);
    return br->wbits ? 0 : -ENODATA;
}

/* n (1..64) bits into *v, on br itself: on failure br may have moved. */
static int bitreader_take(gomem_bitreader *br, unsigned n, uint64_t *v)
{
    uint64_t x = 0;
    for (;;) {
        size_t have = br->wbits - br->idx;
        unsigned k = have < n ? (unsigned)have : n;
        if (k) {
            uint64_t y = bitreader_bits(br, br->idx, k);
            x = k < 64 ? x << k | y : y;
            br->idx += k;
            n -= k;
        }
        if (!n)
            break;
        if (bitreader_next(br))
            return -ENODATA;
    }
    *v = x;
    return 0;
}

/* The reads that cross the window's end, or of more than 57 bits. */
static GOMEM__NOINLINE int bitreader_read_slow(gomem_bitreader *br, unsigned n, uint64_t *v)
{
    if (n <= br->wbits - br->idx) { /* inside the window */
        *v = bitreader_bits(br, br->idx, n);
        br->idx += n;
        return 0;
    }
    gomem_bitreader t = *br;
    uint64_t x;
    if (bitreader_take(&t, n, &x))
        return -ENODATA;
    *br = t;
    *v = x;
    GOMEM__DEBUG_CHECK(gomem__bitreader_check(br));
    return 0;
}

GOMEM_API int(gomem_bitreader_read)(gomem_bitreader *br, unsigned n, uint64_t *v)
{
    if (!br || !v || n > 64)
        return -EINVAL;
    if (!n) {
        *v = 0;
        return 0;
    }
    size_t idx = br->idx;
    if (GOMEM__LIKELY(n <= 57 && n <= br->wbits - idx)) { /* the window's tail */
        *v = bitreader_bits57(br, idx, n);
        br->idx = idx + n;
        return 0;
    }
    return bitreader_read_slow(br, n, v);
}

GOMEM_API int gomem_bitreader_peek(const gomem_bitreader *br, unsigned n, uint64_t *v)
{
    if (!br)
        return -EINVAL;
    gomem_bitreader t = *br;
    return (gomem_bitreader_read)(&t, n, v);
}

/* Consume n bits on br itself: on failure br may have moved. */
static int bitreader_advance(gomem_bitreader *br, size_t n)
{
    for (;;) {
        size_t have = br->wbits - br->idx;
        if (n <= have) {
            br->idx += n;
            return 0;
        }
        n -= have;
        br->idx = br->wbits;
        if (!br->flags && n >= 8) {
            /* Whole bytes straight through the byte cursor. */
            bitreader_commit(br);
            size_t bytes = n / 8;
            if (gomem_reader_skip(&br->cur, bytes))
                return -ENODATA;
            br->pulled += bytes;
            n %= 8;
            bitreader_normalize(br);
            bitreader_window(br);
            continue;
        }
        if (bitreader_next(br))
            return -ENODATA;
    }
}

GOMEM_API int gomem_bitreader_skip(gomem_bitreader *br, size_t n)
{
    if (!br)
        return -EINVAL;
    if (n <= br->wbits - br->idx) {
        br->idx += n;
        return 0;
    }
    gomem_bitreader t = *br;
    if (bitreader_advance(&t, n))
        return -ENODATA;
    *br = t;
    GOMEM__DEBUG_CHECK(gomem__bitreader_check(br));
    return 0;
}

GOMEM_API int gomem_bitreader_align(gomem_bitreader *br)
{
    if (!br)
        return -EINVAL;
    /* A partly read byte lies in the window, so its end does too. */
    br->idx = (br->idx + 7) & ~(size_t)7;
    return 0;
}

static unsigned bitreader_clz64(uint64_t w)
{
#ifdef GOMEM__BR_CLZ64
    return w ? GOMEM__BR_CLZ64(w) : 64;
#else
    unsigned z = 0;
    for (uint64_t m = (uint64_t)1 << 63; m && !(w & m); m >>= 1)
        z++;
    return z;
#endif
}

/* Codes in the window's tail or across its end, or of more than 28
 * leading zeros. */
static GOMEM__NOINLINE int bitreader_ue_slow(gomem_bitreader *br, uint32_t *v)
{
    /* Up to 64 bits, fewer at the end of the data: a code of at most 31
     * leading zeros is 63 bits long at most. */
    gomem_bitreader t = *br;
    uint64_t w = 0;
    unsigned got = 0;
    for (;;) {
        size_t have = t.wbits - t.idx;
        unsigned k = have < 64 - got ? (unsigned)have : 64 - got;
        if (k) {
            w |= bitreader_bits(&t, t.idx, k) << (64 - got - k);
            got += k;
            if (got == 64)
                break;
        }
        t.idx += k;
        if (bitreader_next(&t))
            break;
    }
    unsigned z = bitreader_clz64(w);
    if ((z < got ? z : got) >= 32)
        return -EOVERFLOW;
    if (2 * z + 1 > got)
        return -ENODATA; /* the code ends after the data */
    unsigned len = 2 * z + 1;
    if (bitreader_advance(br, len)) /* known to be there */
        return -ENODATA;
    *v = (uint32_t)((w >> (64 - len)) - 1);
    GOMEM__DEBUG_CHECK(gomem__bitreader_check(br));
    return 0;
}

GOMEM_API int(gomem_bitreader_read_ue)(gomem_bitreader *br, uint32_t *v)
{
    if (!br || !v)
        return -EINVAL;
    size_t idx = br->idx;
    if (GOMEM__LIKELY(idx < br->lim)) { /* 57 bits or more in the window */
        uint64_t w = gomem__br_load(br->cur.pos + (idx >> 3)) << (idx & 7);
        if (GOMEM__LIKELY(w >= (uint64_t)1 << 35)) { /* up to 28 leading zeros */
            unsigned len = 2 * bitreader_clz64(w) + 1;
            *v = (uint32_t)((w >> (64 - len)) - 1);
            br->idx = idx + len;
            return 0;
        }
    }
    return bitreader_ue_slow(br, v);
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
    return br ? 8 * br->pulled + br->idx : 0;
}

GOMEM_API int gomem_bitreader_sync(const gomem_bitreader *br, gomem_reader *r)
{
    if (!br || !r)
        return -EINVAL;
    /* The bytes consumed, a partly read one included, lie in the window. */
    gomem_bitreader t = *br;
    t.idx = (t.idx + 7) & ~(size_t)7;
    bitreader_commit(&t);
    /* An emulation prevention byte right after is no data: pass it. */
    if (t.flags && t.zeros >= 2) {
        gomem_reader u = t.cur;
        while (u.pos == u.end && gomem__reader_enter(&u))
            ;
        if (u.pos != u.end && *u.pos == 3) {
            u.pos++;
            t.cur = u;
        }
    }
    *r = t.cur;
    return 0;
}

/* The invariant checker: compiled into the white-box test library only
 * (-DGOMEM__WHITEBOX) and debug builds, never into the release ones. */
#if defined(GOMEM__WHITEBOX) || defined(GOMEM__DEBUG)
const char *gomem__bitreader_check(const gomem_bitreader *br)
{
    const char *why = gomem__reader_check(&br->cur);
    if (why)
        return why;
    if (br->wbits % 8)
        return "window not of whole bytes";
    if (br->idx > br->wbits)
        return "index past the window";
    if (br->lim != (br->wbits > 56 ? br->wbits - 56 : 0))
        return "fast-path limit does not match the window";
    size_t len = br->wbits / 8;
    if (len > (size_t)(br->cur.end - br->cur.pos))
        return "window past the end of the segment";
    if (br->flags & ~GOMEM_BITREADER_EPB)
        return "unknown flag";
    if (br->zeros > 2)
        return "zero count above two";
    if (br->flags) {
        unsigned z = br->zeros;
        for (size_t i = 0; i < len; i++) {
            uint8_t b = br->cur.pos[i];
            if (b == 3 && z >= 2)
                return "emulation prevention byte inside the window";
            z = b ? 0 : z < 2 ? z + 1 : 2;
        }
    }
    return NULL;
}
#endif
