/* check_bitreader.c - gomem_bitreader_*: known codes, each error, and a
 * differential test against a plain bit reader over one contiguous copy
 * (emulation prevention stripped beforehand), at random segmentations. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "buffer/buffer.h"
#include "testutil.h"

/* m holds bytes[0, n) cut at each of cuts[0..ncuts) (ascending). */
static void cut(gomem_memory *m, const uint8_t *bytes, size_t n, const size_t *cuts, size_t ncuts)
{
    gomem_memory_init(m);
    size_t at = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : n;
        ck_assert_int_eq(gomem_memory_push(m, bytes + at, to - at), 0);
        at = to;
    }
}

static void bytewise(gomem_memory *m, const uint8_t *bytes, size_t n)
{
    gomem_memory_init(m);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(gomem_memory_push(m, NULL, 0), 0);
        ck_assert_int_eq(gomem_memory_push(m, bytes + i, 1), 0);
    }
}

START_TEST(test_codes)
{
    /* 1 | 010 | 011 | 00100 | 00111 | 0001000 ... ue 0,1,2,3,6,7; then
     * se from the same codes: 0, 1, -1, 2, -3, 4. */
    static const uint8_t ue[] = {0xa6, 0x43, 0x88, 0x00}; /* 1 010 011 00100 00111 0001000 0.. */
    for (size_t at = 0; at <= sizeof ue; at++) {
        gomem_memory m;
        gomem_reader r;
        gomem_bitreader br;
        cut(&m, ue, sizeof ue, &at, 1);
        gomem_reader_init(&r, &m);
        ck_assert_int_eq(gomem_bitreader_init(&br, &r, 0), 0);
        static const uint32_t want[] = {0, 1, 2, 3, 6, 7};
        for (int i = 0; i < 6; i++) {
            uint32_t v = 99;
            ck_assert_int_eq(gomem_bitreader_read_ue(&br, &v), 0);
            ck_assert_uint_eq(v, want[i]);
        }
        ck_assert_uint_eq(gomem_bitreader_tell(&br), 24);
        uint32_t v = 99;
        ck_assert_int_eq(gomem_bitreader_read_ue(&br, &v), -ENODATA); /* 8 zero bits */
        ck_assert_uint_eq(v, 99);
        ck_assert_uint_eq(gomem_bitreader_tell(&br), 24);
        gomem_bitreader_init(&br, &r, 0);
        static const int32_t swant[] = {0, 1, -1, 2, -3, 4};
        for (int i = 0; i < 6; i++) {
            int32_t sv;
            ck_assert_int_eq(gomem_bitreader_read_se(&br, &sv), 0);
            ck_assert_int_eq(sv, swant[i]);
        }
        gomem_memory_destroy(&m);
    }
}
END_TEST

START_TEST(test_bits)
{
    static const uint8_t b[] = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x0f, 0xed};
    for (size_t at = 0; at <= sizeof b + 1; at++) {
        gomem_memory m;
        gomem_reader r;
        gomem_bitreader br;
        uint64_t v;
        if (at <= sizeof b)
            cut(&m, b, sizeof b, &at, 1);
        else
            bytewise(&m, b, sizeof b);
        gomem_reader_init(&r, &m);
        gomem_bitreader_init(&br, &r, 0);
        ck_assert_int_eq(gomem_bitreader_read(&br, 4, &v), 0);
        ck_assert_uint_eq(v, 0x1);
        ck_assert_int_eq(gomem_bitreader_peek(&br, 8, &v), 0);
        ck_assert_uint_eq(v, 0x23);
        ck_assert_int_eq(gomem_bitreader_read(&br, 64, &v), 0);
        ck_assert_uint_eq(v, 0x23456789abcdef00ull);
        ck_assert_int_eq(gomem_bitreader_read(&br, 0, &v), 0);
        ck_assert_uint_eq(v, 0);
        ck_assert_int_eq(gomem_bitreader_read(&br, 13, &v), -ENODATA); /* 12 left */
        ck_assert_int_eq(gomem_bitreader_read(&br, 65, &v), -EINVAL);
        ck_assert_int_eq(gomem_bitreader_read(&br, 1, NULL), -EINVAL);
        ck_assert_int_eq(gomem_bitreader_read(NULL, 1, &v), -EINVAL);
        ck_assert_int_eq(gomem_bitreader_align(&br), 0); /* 4 bits: 0xf */
        ck_assert_uint_eq(gomem_bitreader_tell(&br), 72);
        /* Byte reads go on after the bits. */
        ck_assert_int_eq(gomem_bitreader_sync(&br, &r), 0);
        uint8_t u8;
        ck_assert_int_eq(gomem_reader_read_u8(&r, &u8), 0);
        ck_assert_uint_eq(u8, 0xed);
        gomem_reader_init(&r, &m);
        gomem_bitreader_init(&br, &r, 0);
        ck_assert_int_eq(gomem_bitreader_skip(&br, 81), -ENODATA);
        ck_assert_int_eq(gomem_bitreader_skip(&br, 75), 0);
        ck_assert_int_eq(gomem_bitreader_read(&br, 5, &v), 0);
        ck_assert_uint_eq(v, 0xd);
        ck_assert_int_eq(gomem_bitreader_sync(&br, &r), 0);
        ck_assert_uint_eq(gomem_reader_remaining(&r), 0);
        gomem_memory_destroy(&m);
    }
    gomem_bitreader br;
    gomem_reader r;
    gomem_memory m;
    gomem_memory_init(&m);
    gomem_reader_init(&r, &m);
    ck_assert_int_eq(gomem_bitreader_init(NULL, &r, 0), -EINVAL);
    ck_assert_int_eq(gomem_bitreader_init(&br, NULL, 0), -EINVAL);
    ck_assert_int_eq(gomem_bitreader_init(&br, &r, 2), -EINVAL);
    ck_assert_int_eq(gomem_bitreader_skip(NULL, 0), -EINVAL);
    ck_assert_int_eq(gomem_bitreader_align(NULL), -EINVAL);
    ck_assert_int_eq(gomem_bitreader_sync(NULL, &r), -EINVAL);
    ck_assert_uint_eq(gomem_bitreader_tell(NULL), 0);
}
END_TEST

START_TEST(test_ue_overflow)
{
    /* 31 zeros then a 1 and 31 bits: the largest ue, 2^32 - 2. 32 zeros:
     * -EOVERFLOW, nothing consumed. */
    static const uint8_t max[] = {0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xfe};
    static const uint8_t over[] = {0x00, 0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00};
    for (size_t at = 0; at <= sizeof over; at++) {
        gomem_memory m;
        gomem_reader r;
        gomem_bitreader br;
        uint32_t v = 5;
        int32_t sv = 5;
        cut(&m, max, sizeof max, at <= sizeof max ? &at : NULL, at <= sizeof max);
        gomem_reader_init(&r, &m);
        gomem_bitreader_init(&br, &r, 0);
        ck_assert_int_eq(gomem_bitreader_read_ue(&br, &v), 0);
        ck_assert_uint_eq(v, 0xfffffffeu);
        gomem_bitreader_init(&br, &r, 0);
        ck_assert_int_eq(gomem_bitreader_read_se(&br, &sv), 0);
        ck_assert_int_eq(sv, -2147483647);
        gomem_memory_destroy(&m);
        cut(&m, over, sizeof over, &at, 1);
        gomem_reader_init(&r, &m);
        gomem_bitreader_init(&br, &r, 0);
        v = 5;
        ck_assert_int_eq(gomem_bitreader_read_ue(&br, &v), -EOVERFLOW);
        ck_assert_int_eq(gomem_bitreader_read_se(&br, &sv), -EOVERFLOW);
        ck_assert_uint_eq(v, 5);
        ck_assert_uint_eq(gomem_bitreader_tell(&br), 0);
        ck_assert_int_eq(gomem_bitreader_read_ue(NULL, &v), -EINVAL);
        ck_assert_int_eq(gomem_bitreader_read_ue(&br, NULL), -EINVAL);
        ck_assert_int_eq(gomem_bitreader_read_se(&br, NULL), -EINVAL);
        gomem_memory_destroy(&m);
    }
}
END_TEST

START_TEST(test_ue_long)
{
    /* Two bits, then the longest ue code (63 bits): after the two bits the
     * cache holds 62, and the code must still be read whole. */
    static const uint8_t b[] = {0xc0, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0x80};
    for (size_t at = 0; at <= sizeof b; at++) {
        gomem_memory m;
        gomem_reader r;
        gomem_bitreader br;
        uint64_t two;
        uint32_t v = 5;
        cut(&m, b, sizeof b, &at, 1);
        gomem_reader_init(&r, &m);
        gomem_bitreader_init(&br, &r, 0);
        ck_assert_int_eq(gomem_bitreader_read(&br, 2, &two), 0);
        ck_assert_int_eq(gomem_bitreader_read_ue(&br, &v), 0);
        ck_assert_uint_eq(v, 0xfffffffeu);
        ck_assert_uint_eq(gomem_bitreader_tell(&br), 65);
        gomem_memory_destroy(&m);
    }
}
END_TEST

START_TEST(test_ue_offsets)
{
    /* o codes "1" (0 each), then a code of z leading zeros whose z value
     * bits are all ones (2^(z+1) - 2), inside one long segment, so that
     * the inline path and the exported function's own fast path see
     * every code length at every bit offset. */
    for (unsigned z = 20; z <= 32; z++)
        for (unsigned o = 0; o < 8; o++)
            for (int how = 0; how < 2; how++) {
                uint8_t b[40];
                memset(b, 0xff, sizeof b);
                size_t bit = o + z; /* the ones, then z zeros */
                for (size_t i = o; i < bit; i++)
                    b[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
                gomem_memory m;
                gomem_reader r;
                gomem_bitreader br;
                uint32_t v;
                gomem_memory_init(&m);
                ck_assert_int_eq(gomem_memory_push(&m, b, sizeof b), 0);
                gomem_reader_init(&r, &m);
                gomem_bitreader_init(&br, &r, 0);
                for (unsigned i = 0; i < o; i++) {
                    ck_assert_int_eq(gomem_bitreader_read_ue(&br, &v), 0);
                    ck_assert_uint_eq(v, 0);
                }
                v = 7;
                int e = how ? (gomem_bitreader_read_ue)(&br, &v) : gomem_bitreader_read_ue(&br, &v);
                if (z == 32) {
                    ck_assert_int_eq(e, -EOVERFLOW);
                    ck_assert_uint_eq(v, 7);
                    ck_assert_uint_eq(gomem_bitreader_tell(&br), o);
                } else {
                    ck_assert_msg(e == 0 && v == (uint32_t)((2ull << z) - 2),
                                  "z %u offset %u %s: %d %#x", z, o, how ? "exported" : "inline", e, v);
                    ck_assert_uint_eq(gomem_bitreader_tell(&br), o + 2 * z + 1);
                }
                gomem_memory_destroy(&m);
            }
}
END_TEST

START_TEST(test_epb)
{
    /* 00 00 03 01 -> 00 00 01; 00 00 03 03 -> 00 00 03 (the second 03 is
     * data); the 03 at the end after 00 00 is dropped too. */
    static const uint8_t raw[] = {0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x03, 0x03,
                                  0xaa, 0x00, 0x00, 0x03};
    static const uint8_t want[] = {0x00, 0x00, 0x01, 0x00, 0x00, 0x03, 0xaa, 0x00, 0x00};
    for (size_t at = 0; at <= sizeof raw + 1; at++) {
        gomem_memory m;
        gomem_reader r;
        gomem_bitreader br;
        if (at <= sizeof raw)
            cut(&m, raw, sizeof raw, &at, 1);
        else
            bytewise(&m, raw, sizeof raw);
        gomem_reader_init(&r, &m);
        ck_assert_int_eq(gomem_bitreader_init(&br, &r, GOMEM_BITREADER_EPB), 0);
        for (size_t i = 0; i < sizeof want; i++) {
            uint64_t v;
            ck_assert_int_eq(gomem_bitreader_read(&br, 8, &v), 0);
            ck_assert_uint_eq(v, want[i]);
            if (i == 1) { /* after 00 00: the 03 goes too */
                gomem_reader s;
                ck_assert_int_eq(gomem_bitreader_sync(&br, &s), 0);
                ck_assert_uint_eq(gomem_reader_offset(&s), 3);
            }
        }
        uint64_t v;
        ck_assert_int_eq(gomem_bitreader_read(&br, 1, &v), -ENODATA);
        ck_assert_int_eq(gomem_bitreader_sync(&br, &r), 0);
        ck_assert_uint_eq(gomem_reader_remaining(&r), 0);
        gomem_memory_destroy(&m);
    }
}
END_TEST

/* ---------------------------------------------------------------- the
 * differential test: a plain bit reader over the stripped bytes, with
 * rawpos[i] the offset of stripped byte i in the raw data. */

#define DIFF_BYTES 80

struct plain {
    uint8_t b[DIFF_BYTES];
    size_t rawpos[DIFF_BYTES], n, bit;
    int dropped[DIFF_BYTES + 1]; /* raw byte i was an emulation prevention byte */
};

static void plain_init(struct plain *p, const uint8_t *raw, size_t n, int epb)
{
    memset(p, 0, sizeof *p);
    unsigned zeros = 0;
    for (size_t i = 0; i < n; i++) {
        if (epb && zeros >= 2 && raw[i] == 3) {
            zeros = 0;
            p->dropped[i] = 1;
            continue;
        }
        zeros = raw[i] ? 0 : zeros + 1;
        p->rawpos[p->n] = i;
        p->b[p->n++] = raw[i];
    }
}

static int plain_read(struct plain *p, unsigned k, uint64_t *v)
{
    if (p->n * 8 - p->bit < k)
        return -ENODATA;
    uint64_t x = 0;
    for (unsigned i = 0; i < k; i++, p->bit++)
        x = x << 1 | (uint64_t)(p->b[p->bit / 8] >> (7 - p->bit % 8) & 1);
    *v = x;
    return 0;
}

static int plain_ue(struct plain *p, uint32_t *v)
{
    size_t save = p->bit;
    unsigned z = 0;
    uint64_t b, x;
    for (;;) {
        if (plain_read(p, 1, &b)) {
            p->bit = save;
            return -ENODATA;
        }
        if (b)
            break;
        if (++z == 32) {
            p->bit = save;
            return -EOVERFLOW;
        }
    }
    if (plain_read(p, z, &x)) {
        p->bit = save;
        return -ENODATA;
    }
    *v = (uint32_t)((1ull << z) - 1 + x);
    return 0;
}

/* The raw offset after the bits read, rounded up to a byte. */
static size_t plain_sync(const struct plain *p, size_t rawlen)
{
    size_t k = (p->bit + 7) / 8, pos = k ? p->rawpos[k - 1] + 1 : 0;
    if (k == 0 && p->n == 0) /* nothing read: the start */
        pos = 0;
    if (pos < rawlen && p->dropped[pos])
        pos++;
    return pos;
}

static uint8_t diff_raw[DIFF_BYTES];

#define DIFF_ASSERT(cond, what)                                                         \
    ck_assert_msg(cond, "seed %#llx split %s step %ld (op %u): %s", (unsigned long long)seed, how, \
                  step, op, what)

static void diff_run(const gomem_memory *m, int epb, uint64_t seed, const char *how, long ops)
{
    gomem_reader r;
    gomem_bitreader br;
    struct plain p;
    uint64_t st = seed;
    gomem_reader_init(&r, (gomem_memory *)m);
    gomem_bitreader_init(&br, &r, epb ? GOMEM_BITREADER_EPB : 0);
    size_t base = 0; /* raw offset where br and p started */
    plain_init(&p, diff_raw, DIFF_BYTES, epb);
    for (long step = 0; step < ops; step++) {
        unsigned op = (unsigned)test_range(&st, 0, 12);
        unsigned k = (unsigned)test_range(&st, 0, 66);
        uint64_t xa = 1, xb = 1;
        int ea = 0, eb = 0;
        switch (op) {
        case 0: case 1: case 2: case 3:
            if (k > 32 && test_range(&st, 0, 1))
                k %= 33; /* mostly the inline path */
            /* the inline paths, or the exported function's own */
            ea = op & 1 ? (gomem_bitreader_read)(&br, k, &xa) : gomem_bitreader_read(&br, k, &xa);
            eb = k > 64 ? -EINVAL : plain_read(&p, k, &xb);
            break;
        case 4: {
            size_t save = p.bit;
            ea = gomem_bitreader_peek(&br, k, &xa);
            eb = k > 64 ? -EINVAL : plain_read(&p, k, &xb);
            p.bit = save;
            break;
        }
        case 5: {
            size_t n = test_range(&st, 0, 150);
            ea = gomem_bitreader_skip(&br, n);
            eb = p.n * 8 - p.bit < n ? -ENODATA : 0;
            if (!eb)
                p.bit += n;
            break;
        }
        case 6:
            ea = gomem_bitreader_align(&br);
            p.bit = (p.bit + 7) / 8 * 8;
            break;
        case 7: case 8: case 9: {
            uint32_t va = 3, vb = 3;
            ea = k & 1 ? (gomem_bitreader_read_ue)(&br, &va) : gomem_bitreader_read_ue(&br, &va);
            eb = plain_ue(&p, &vb);
            xa = va, xb = vb;
            break;
        }
        case 10: {
            int32_t va = 3;
            uint32_t u = 0;
            ea = gomem_bitreader_read_se(&br, &va);
            eb = plain_ue(&p, &u);
            xa = (uint64_t)(int64_t)va;
            xb = eb ? 3 : (uint64_t)(u & 1 ? (int64_t)(u / 2 + 1) : -(int64_t)(u / 2));
            break;
        }
        default: {
            gomem_reader s;
            ea = gomem_bitreader_sync(&br, &s);
            xa = gomem_reader_offset(&s);
            xb = base + plain_sync(&p, DIFF_BYTES - base);
            DIFF_ASSERT(!gomem__reader_check(&s), "reader after sync");
            if (xa == xb && test_range(&st, 0, 1)) { /* bytes, then bits again */
                uint8_t u8;
                if (gomem_reader_read_u8(&s, &u8) == 0)
                    DIFF_ASSERT(u8 == diff_raw[xb], "byte after sync");
                base = gomem_reader_offset(&s);
                gomem_bitreader_init(&br, &s, epb ? GOMEM_BITREADER_EPB : 0);
                plain_init(&p, diff_raw + base, DIFF_BYTES - base, epb);
            }
            break;
        }
        }
        DIFF_ASSERT(ea == eb, "error");
        DIFF_ASSERT(xa == xb, "value");
        DIFF_ASSERT(gomem_bitreader_tell(&br) == p.bit, "tell");
        const char *why = gomem__bitreader_check(&br);
        DIFF_ASSERT(!why, why);
    }
}

static int cmp_size(const void *x, const void *y)
{
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    return (a > b) - (a < b);
}

static void diff_split(const size_t *cuts, size_t ncuts, int epb, uint64_t seed, const char *how,
                       long ops)
{
    gomem_memory m;
    cut(&m, diff_raw, DIFF_BYTES, cuts, ncuts);
    diff_run(&m, epb, seed, how, ops);
    gomem_memory_destroy(&m);
}

START_TEST(test_differential)
{
    uint64_t seed0 = test_seed(0x62697473ULL), st = seed0;
    long ops = 120, rounds = test_steps(20000) / 1000;
    size_t cuts[DIFF_BYTES * 2];
    for (long round = 0; round < rounds; round++) {
        /* Zeros and threes make emulation prevention, long zero runs make
         * exp-Golomb overflow; the rest is random. */
        for (size_t i = 0; i < DIFF_BYTES; i++) {
            unsigned k = (unsigned)test_range(&st, 0, 9);
            diff_raw[i] = k < 4 ? 0 : k < 5 ? 3 : k < 6 ? 1 : (uint8_t)test_rand(&st);
        }
        for (int epb = 0; epb <= 1; epb++) {
            uint64_t seed = test_rand(&st);
            for (size_t at = 0; at <= DIFF_BYTES; at++)
                diff_split(&at, 1, epb, seed, "at every boundary", ops);
            for (size_t i = 0; i < 2 * DIFF_BYTES; i++)
                cuts[i] = i / 2;
            diff_split(cuts, 2 * DIFF_BYTES, epb, seed, "bytewise with empty segments", ops);
            for (int k = 0; k < 20; k++) {
                size_t nc = test_range(&st, 1, DIFF_BYTES);
                for (size_t i = 0; i < nc; i++)
                    cuts[i] = test_range(&st, 0, DIFF_BYTES);
                qsort(cuts, nc, sizeof *cuts, cmp_size);
                diff_split(cuts, nc, epb, seed, "random sizes", ops);
            }
        }
    }
}
END_TEST

/* ---------------------------------------------------------------- every
 * segment boundary at every bit offset: two segments cut at each byte,
 * a skip to each bit, then reads of several widths and an exp-Golomb
 * code, against the plain reader; the data holds emulation prevention
 * bytes that the cuts split at each point (00 | 00 03, 00 00 | 03, 03 |). */

START_TEST(test_boundary_offsets)
{
    static const uint8_t raw[] = {0x00, 0x00, 0x03, 0x01, 0xff, 0x00, 0x00, 0x03, 0x00, 0x00,
                                  0x03, 0x03, 0x80, 0x00, 0x00, 0x00, 0x03, 0x5a, 0x00, 0x01,
                                  0xc3, 0x00, 0x00, 0x03, 0x00, 0x7e, 0x11, 0x00, 0x00, 0x03};
    static const unsigned widths[] = {1, 7, 13, 32, 57, 64};
    for (int epb = 0; epb <= 1; epb++)
        for (size_t at = 0; at <= sizeof raw; at++) {
            gomem_memory m;
            cut(&m, raw, sizeof raw, &at, 1);
            for (size_t s = 0; s <= 8 * sizeof raw; s++)
                for (size_t w = 0; w < sizeof widths / sizeof widths[0]; w++) {
                    gomem_reader r;
                    gomem_bitreader br;
                    struct plain p;
                    uint64_t xa = 1, xb = 1;
                    uint32_t ua = 2, ub = 2;
                    gomem_reader_init(&r, &m);
                    gomem_bitreader_init(&br, &r, epb ? GOMEM_BITREADER_EPB : 0);
                    plain_init(&p, raw, sizeof raw, epb);
                    int ea = gomem_bitreader_skip(&br, s);
                    int eb = p.n * 8 < s ? -ENODATA : 0;
                    ck_assert_msg(ea == eb, "epb %d cut %zu skip %zu: skip", epb, at, s);
                    if (eb)
                        continue;
                    p.bit = s;
                    ea = gomem_bitreader_read(&br, widths[w], &xa);
                    eb = plain_read(&p, widths[w], &xb);
                    ck_assert_msg(ea == eb && xa == xb, "epb %d cut %zu skip %zu: read %u", epb,
                                  at, s, widths[w]);
                    ea = gomem_bitreader_read_ue(&br, &ua);
                    eb = plain_ue(&p, &ub);
                    ck_assert_msg(ea == eb && ua == ub, "epb %d cut %zu skip %zu: ue", epb, at, s);
                    ck_assert_uint_eq(gomem_bitreader_tell(&br), p.bit);
                    gomem_reader t;
                    ck_assert_int_eq(gomem_bitreader_sync(&br, &t), 0);
                    ck_assert_uint_eq(gomem_reader_offset(&t), plain_sync(&p, sizeof raw));
                }
            gomem_memory_destroy(&m);
        }
}
END_TEST

/* ---------------------------------------------------------------- long
 * data: segments of a few bytes to a few KB, so that reads run in the
 * inline path for long stretches, with emulation prevention bytes now
 * and then (the bit reader looks for them only so far ahead at a time). */

#define LONG_BYTES 6000

START_TEST(test_long)
{
    static uint8_t raw[LONG_BYTES], flat[LONG_BYTES];
    static size_t cuts[64];
    uint64_t st = test_seed(0x6c6f6e67ULL);
    long rounds = test_steps(20000) / 1000;
    for (long round = 0; round < rounds; round++) {
        for (size_t i = 0; i < LONG_BYTES; i++) {
            unsigned k = (unsigned)test_range(&st, 0, 99);
            raw[i] = k < 3 ? 0 : k < 4 ? 3 : (uint8_t)test_rand(&st);
            if (k == 99 && i + 3 <= LONG_BYTES) { /* an emulation prevention byte */
                raw[i] = 0, raw[i + 1] = 0, raw[i + 2] = 3;
                i += 2;
            }
        }
        size_t nc = test_range(&st, 0, 63);
        for (size_t i = 0; i < nc; i++)
            cuts[i] = test_range(&st, 0, LONG_BYTES);
        qsort(cuts, nc, sizeof *cuts, cmp_size);
        for (int epb = 0; epb <= 1; epb++) {
            /* The stream: raw with emulation prevention stripped. */
            size_t n = 0;
            unsigned zeros = 0;
            for (size_t i = 0; i < LONG_BYTES; i++) {
                if (epb && zeros >= 2 && raw[i] == 3) {
                    zeros = 0;
                    continue;
                }
                zeros = raw[i] ? 0 : zeros + 1;
                flat[n++] = raw[i];
            }
            gomem_memory m;
            gomem_reader r;
            gomem_bitreader br;
            cut(&m, raw, LONG_BYTES, cuts, nc);
            gomem_reader_init(&r, &m);
            gomem_bitreader_init(&br, &r, epb ? GOMEM_BITREADER_EPB : 0);
            size_t bit = 0;
            for (;;) {
                unsigned op = (unsigned)test_range(&st, 0, 9), k;
                int e;
                if (op < 7) {
                    uint64_t v, want = 0;
                    k = op < 6 ? (unsigned)test_range(&st, 1, 24) : (unsigned)test_range(&st, 25, 64);
                    e = k & 1 ? (gomem_bitreader_read)(&br, k, &v) : gomem_bitreader_read(&br, k, &v);
                    if (n * 8 - bit < k) {
                        ck_assert_int_eq(e, -ENODATA);
                        break;
                    }
                    for (unsigned i = 0; i < k; i++, bit++)
                        want = want << 1 | (uint64_t)(flat[bit / 8] >> (7 - bit % 8) & 1);
                    ck_assert_int_eq(e, 0);
                    ck_assert_uint_eq(v, want);
                } else if (op < 9) {
                    uint32_t v;
                    e = op & 1 ? (gomem_bitreader_read_ue)(&br, &v) : gomem_bitreader_read_ue(&br, &v);
                    size_t z = 0;
                    while (bit + z < n * 8 && !(flat[(bit + z) / 8] >> (7 - (bit + z) % 8) & 1))
                        z++;
                    if (z >= 32) {
                        ck_assert_int_eq(e, -EOVERFLOW);
                        bit += 1; /* go on past the zeros */
                        ck_assert_int_eq(gomem_bitreader_skip(&br, 1), 0);
                        continue;
                    }
                    if (n * 8 - bit < 2 * z + 1) {
                        ck_assert_int_eq(e, -ENODATA);
                        break;
                    }
                    uint64_t x = 0;
                    for (size_t i = 0; i < 2 * z + 1; i++, bit++)
                        x = x << 1 | (uint64_t)(flat[bit / 8] >> (7 - bit % 8) & 1);
                    ck_assert_int_eq(e, 0);
                    ck_assert_uint_eq(v, x - 1);
                } else {
                    size_t s = test_range(&st, 0, 300);
                    e = gomem_bitreader_skip(&br, s);
                    if (n * 8 - bit < s) {
                        ck_assert_int_eq(e, -ENODATA);
                        break;
                    }
                    ck_assert_int_eq(e, 0);
                    bit += s;
                }
                ck_assert_uint_eq(gomem_bitreader_tell(&br), bit);
                const char *why = gomem__bitreader_check(&br);
                ck_assert_msg(!why, "%s", why ? why : "");
            }
            ck_assert_uint_eq(gomem_bitreader_tell(&br), bit);
            gomem_memory_destroy(&m);
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("bitreader");
    TCase *tc = tcase_create("bitreader");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_codes);
    tcase_add_test(tc, test_bits);
    tcase_add_test(tc, test_ue_overflow);
    tcase_add_test(tc, test_ue_long);
    tcase_add_test(tc, test_ue_offsets);
    tcase_add_test(tc, test_epb);
    tcase_add_test(tc, test_differential);
    tcase_add_test(tc, test_boundary_offsets);
    tcase_add_test(tc, test_long);
    suite_add_tcase(s, tc);
    return test_run(s);
}
