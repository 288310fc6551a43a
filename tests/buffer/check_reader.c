/* check_reader.c - gomem_reader_*: each call and each error, and a
 * differential test that runs every operation over the same bytes split
 * at every boundary and into random segments, beside a reader over one
 * contiguous segment. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "buffer/buffer.h"
#include "testutil.h"

#define CHECK_READER(r)                                                       \
    do {                                                                      \
        const char *why_ = gomem__reader_check(r);                           \
        ck_assert_msg(why_ == NULL, "invariant: %s", why_ ? why_ : "");       \
    } while (0)

static const uint8_t seq[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

/* m holds bytes[0, n) cut at each of cuts[0..ncuts) (ascending), so
 * segments may be empty. */
static void cut(gomem_memory *m, const uint8_t *bytes, size_t n, const size_t *cuts, size_t ncuts)
{
    gomem_memory_init(m);
    size_t at = 0;
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : n;
        ck_assert_int_eq(gomem_memory_push(m, bytes + at, to - at), 0);
        at = to;
    }
    ck_assert_ptr_null(gomem__memory_check(m));
}

/* Every split of seq[0, n) into two segments, one after another, plus one
 * segment per byte with empty ones between: calls body(m) for each. */
#define FOR_EACH_SPLIT(m, n)                                                  \
    for (size_t split_ = 0; split_ <= (n) + 1; split_++)                      \
        for (int once_ = (split_ <= (n) ? (cut(&(m), seq, (n), &split_, 1), 1) \
                                        : (bytewise(&(m), (n)), 1));          \
             once_; once_ = 0, gomem_memory_destroy(&(m)))

static void bytewise(gomem_memory *m, size_t n)
{
    gomem_memory_init(m);
    for (size_t i = 0; i < n; i++) {
        ck_assert_int_eq(gomem_memory_push(m, NULL, 0), 0);
        ck_assert_int_eq(gomem_memory_push(m, seq + i, 1), 0);
    }
    ck_assert_int_eq(gomem_memory_push(m, NULL, 0), 0);
}

START_TEST(test_init)
{
    gomem_memory m;
    gomem_reader r;
    gomem_memory_init(&m);
    ck_assert_int_eq(gomem_reader_init(NULL, &m), -EINVAL);
    ck_assert_int_eq(gomem_reader_init(&r, NULL), -EINVAL);
    ck_assert_int_eq(gomem_reader_init(&r, &m), 0);
    CHECK_READER(&r);
    ck_assert_uint_eq(gomem_reader_offset(&r), 0);
    ck_assert_uint_eq(gomem_reader_remaining(&r), 0);
    ck_assert_uint_eq(gomem_reader_offset(NULL), 0);
    ck_assert_uint_eq(gomem_reader_remaining(NULL), 0);
    uint8_t b = 0x55;
    ck_assert_int_eq(gomem_reader_read_u8(&r, &b), -ENODATA);
    ck_assert_int_eq(b, 0x55);
    gomem_memory_destroy(&m);
}
END_TEST

START_TEST(test_read)
{
    gomem_memory m;
    FOR_EACH_SPLIT(m, 10) {
        gomem_reader r;
        gomem_reader_init(&r, &m);
        uint8_t out[16];
        memset(out, 0, sizeof out);
        ck_assert_uint_eq(gomem_reader_read(&r, out, 3), 3);
        ck_assert_mem_eq(out, seq, 3);
        ck_assert_uint_eq(gomem_reader_read(&r, out, 0), 0);
        ck_assert_uint_eq(gomem_reader_read(&r, out, 16), 7); /* partial at the end */
        ck_assert_mem_eq(out, seq + 3, 7);
        ck_assert_uint_eq(gomem_reader_read(&r, out, 16), 0);
        ck_assert_uint_eq(gomem_reader_offset(&r), 10);
        ck_assert_uint_eq(gomem_reader_remaining(&r), 0);
        CHECK_READER(&r);
        ck_assert_uint_eq(gomem_reader_read(NULL, out, 1), 0);
        gomem_reader_init(&r, &m);
        ck_assert_uint_eq(gomem_reader_read(&r, NULL, 1), 0);
        ck_assert_uint_eq(gomem_reader_offset(&r), 0);
    }
}
END_TEST

START_TEST(test_typed)
{
    gomem_memory m;
    FOR_EACH_SPLIT(m, 16) {
        gomem_reader r;
        uint8_t u8;
        uint16_t u16;
        uint32_t u32;
        uint64_t u64;
        gomem_reader_init(&r, &m);
        ck_assert_int_eq(gomem_reader_read_u8(&r, &u8), 0);
        ck_assert_uint_eq(u8, 0x01);
        ck_assert_int_eq(gomem_reader_read_be16(&r, &u16), 0);
        ck_assert_uint_eq(u16, 0x0203);
        ck_assert_int_eq(gomem_reader_read_be24(&r, &u32), 0);
        ck_assert_uint_eq(u32, 0x040506);
        ck_assert_int_eq(gomem_reader_read_be32(&r, &u32), 0);
        ck_assert_uint_eq(u32, 0x0708090a);
        ck_assert_uint_eq(gomem_reader_offset(&r), 10);
        gomem_reader_init(&r, &m);
        ck_assert_int_eq(gomem_reader_read_be64(&r, &u64), 0);
        ck_assert_uint_eq(u64, 0x0102030405060708ull);
        ck_assert_int_eq(gomem_reader_read_le64(&r, &u64), 0);
        ck_assert_uint_eq(u64, 0x100f0e0d0c0b0a09ull);
        gomem_reader_init(&r, &m);
        ck_assert_int_eq(gomem_reader_read_le16(&r, &u16), 0);
        ck_assert_uint_eq(u16, 0x0201);
        ck_assert_int_eq(gomem_reader_read_le24(&r, &u32), 0);
        ck_assert_uint_eq(u32, 0x050403);
        ck_assert_int_eq(gomem_reader_read_le32(&r, &u32), 0);
        ck_assert_uint_eq(u32, 0x09080706);
        for (size_t n = 1; n <= 6; n++) { /* 7 bytes left */
            uint64_t be, le;
            gomem_reader t = r;
            ck_assert_int_eq(gomem_reader_read_be(&t, n, &be), 0);
            t = r;
            ck_assert_int_eq(gomem_reader_read_le(&t, n, &le), 0);
            uint64_t wbe = 0, wle = 0;
            for (size_t i = 0; i < n; i++) {
                wbe = wbe << 8 | seq[9 + i];
                wle |= (uint64_t)seq[9 + i] << (8 * i);
            }
            ck_assert_uint_eq(be, wbe);
            ck_assert_uint_eq(le, wle);
        }
        /* Too little data: an error, the cursor and the output untouched
         * (GoMem's ReadBE consumes what there is and fails). */
        u64 = 77;
        u32 = 77;
        ck_assert_int_eq(gomem_reader_read_be64(&r, &u64), -ENODATA);
        ck_assert_int_eq(gomem_reader_read_le64(&r, &u64), -ENODATA);
        ck_assert_int_eq(gomem_reader_read_be(&r, 8, &u64), -ENODATA);
        ck_assert_int_eq(gomem_reader_read_le(&r, 8, &u64), -ENODATA);
        ck_assert_uint_eq(u64, 77);
        ck_assert_uint_eq(gomem_reader_offset(&r), 9);
        ck_assert_int_eq(gomem_reader_skip(&r, 5), 0);
        ck_assert_int_eq(gomem_reader_read_be32(&r, &u32), -ENODATA);
        ck_assert_int_eq(gomem_reader_read_le24(&r, &u32), -ENODATA);
        ck_assert_uint_eq(u32, 77);
        ck_assert_int_eq(gomem_reader_read_be16(&r, &u16), 0);
        ck_assert_uint_eq(u16, 0x0f10);
        ck_assert_int_eq(gomem_reader_read_u8(&r, &u8), -ENODATA);
        ck_assert_int_eq(gomem_reader_read_be16(&r, &u16), -ENODATA);
        ck_assert_uint_eq(gomem_reader_offset(&r), 16);
        CHECK_READER(&r);

        /* Bad arguments. */
        gomem_reader_init(&r, &m);
        ck_assert_int_eq(gomem_reader_read_be(&r, 0, &u64), -EINVAL);
        ck_assert_int_eq(gomem_reader_read_be(&r, 9, &u64), -EINVAL);
        ck_assert_int_eq(gomem_reader_read_le(&r, 0, &u64), -EINVAL);
        ck_assert_int_eq(gomem_reader_read_le(&r, 9, &u64), -EINVAL);
        ck_assert_int_eq(gomem_reader_read_be(&r, 1, NULL), -EINVAL);
        ck_assert_int_eq(gomem_reader_read_be(NULL, 1, &u64), -EINVAL);
        ck_assert_int_eq(gomem_reader_read_u8(&r, NULL), -EINVAL);
        ck_assert_int_eq(gomem_reader_read_be32(&r, NULL), -EINVAL);
        ck_assert_int_eq(gomem_reader_read_le64(NULL, &u64), -EINVAL);
        ck_assert_int_eq(gomem_reader_read_be16(NULL, &u16), -EINVAL);
        ck_assert_uint_eq(gomem_reader_offset(&r), 0);
    }
}
END_TEST

/* Decode enc (len bytes) split at every boundary; expect err and, on
 * success, the value v and len bytes consumed. */
static void leb_case(const uint8_t *enc, size_t len, int err, uint64_t v)
{
    for (size_t at = 0; at <= len; at++) {
        gomem_memory m;
        cut(&m, enc, len, &at, 1);
        gomem_reader r;
        gomem_reader_init(&r, &m);
        uint64_t x = 12345;
        int e = gomem_reader_read_uleb128(&r, &x);
        ck_assert_int_eq(e, err);
        if (e == 0) {
            ck_assert_uint_eq(x, v);
        } else {
            ck_assert_uint_eq(x, 12345);
            ck_assert_uint_eq(gomem_reader_offset(&r), 0); /* nothing consumed */
        }
        CHECK_READER(&r);
        gomem_memory_destroy(&m);
    }
}

START_TEST(test_uleb128)
{
    static const uint8_t zero[] = {0x00}, small[] = {0x7f}, two[] = {0x80, 0x01},
                         wiki[] = {0xe5, 0x8e, 0x26},
                         nine[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01},
                         max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
                         padded[] = {0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00},
                         big[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02},
                         eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                     0x80, 0x80, 0x80, 0x80, 0x00},
                         cut3[] = {0x80, 0x80, 0x80};
    leb_case(zero, sizeof zero, 0, 0);
    leb_case(small, sizeof small, 0, 127);
    leb_case(two, sizeof two, 0, 128);
    leb_case(wiki, sizeof wiki, 0, 624485);
    leb_case(nine, sizeof nine, 0, 1ull << 56); /* GoMem stops after 8 bytes */
    leb_case(max, sizeof max, 0, UINT64_MAX);
    leb_case(padded, sizeof padded, 0, 1); /* 10 bytes, not minimal: accepted */
    leb_case(big, sizeof big, -EOVERFLOW, 0);
    leb_case(eleven, sizeof eleven, -EOVERFLOW, 0);
    leb_case(cut3, sizeof cut3, -ENODATA, 0);
    leb_case(max, 9, -ENODATA, 0);
    leb_case(zero, 0, -ENODATA, 0);

    gomem_memory m;
    gomem_reader r;
    uint64_t x;
    cut(&m, wiki, sizeof wiki, NULL, 0);
    gomem_reader_init(&r, &m);
    ck_assert_int_eq(gomem_reader_read_uleb128(&r, NULL), -EINVAL);
    ck_assert_int_eq(gomem_reader_read_uleb128(NULL, &x), -EINVAL);
    ck_assert_int_eq(gomem_reader_read_uleb128(&r, &x), 0);
    ck_assert_uint_eq(gomem_reader_offset(&r), 3);
    gomem_memory_destroy(&m);
}
END_TEST

START_TEST(test_peek_skip_unread)
{
    gomem_memory m;
    FOR_EACH_SPLIT(m, 12) {
        gomem_reader r;
        uint8_t out[16];
        gomem_reader_init(&r, &m);
        ck_assert_int_eq(gomem_reader_peek(&r, out, 12), 0);
        ck_assert_mem_eq(out, seq, 12);
        ck_assert_uint_eq(gomem_reader_offset(&r), 0);
        ck_assert_int_eq(gomem_reader_peek(&r, out, 13), -ENODATA);
        ck_assert_int_eq(gomem_reader_peek(&r, NULL, 0), 0);
        ck_assert_int_eq(gomem_reader_peek(&r, NULL, 1), -EINVAL);
        ck_assert_int_eq(gomem_reader_peek(NULL, out, 1), -EINVAL);

        ck_assert_int_eq(gomem_reader_skip(&r, 5), 0);
        ck_assert_int_eq(gomem_reader_peek(&r, out, 3), 0);
        ck_assert_mem_eq(out, seq + 5, 3);
        ck_assert_int_eq(gomem_reader_skip(&r, 8), -ENODATA);
        ck_assert_int_eq(gomem_reader_skip(NULL, 1), -EINVAL);
        ck_assert_uint_eq(gomem_reader_offset(&r), 5);
        ck_assert_int_eq(gomem_reader_skip(&r, 7), 0);
        ck_assert_uint_eq(gomem_reader_remaining(&r), 0);

        ck_assert_int_eq(gomem_reader_unread(&r, 13), -EINVAL); /* before the start */
        ck_assert_uint_eq(gomem_reader_offset(&r), 12);
        ck_assert_int_eq(gomem_reader_unread(&r, 4), 0);
        ck_assert_int_eq(gomem_reader_peek(&r, out, 4), 0);
        ck_assert_mem_eq(out, seq + 8, 4);
        ck_assert_int_eq(gomem_reader_unread(&r, 8), 0);
        ck_assert_uint_eq(gomem_reader_offset(&r), 0);
        ck_assert_int_eq(gomem_reader_unread(&r, 0), 0);
        ck_assert_int_eq(gomem_reader_unread(&r, 1), -EINVAL);
        ck_assert_int_eq(gomem_reader_unread(NULL, 0), -EINVAL);
        CHECK_READER(&r);
        ck_assert_uint_eq(gomem_reader_read(&r, out, 16), 12);
        ck_assert_mem_eq(out, seq, 12);
    }
}
END_TEST

START_TEST(test_current)
{
    gomem_memory m;
    uint8_t a[4] = {1, 2, 3, 4}, b[2] = {5, 6};
    gomem_memory_init(&m);
    gomem_memory_push(&m, NULL, 0);
    gomem_memory_push(&m, a, 4);
    gomem_memory_push(&m, NULL, 0);
    gomem_memory_push(&m, b, 2);
    gomem_reader r;
    gomem_reader_init(&r, &m);
    size_t len = 99;
    ck_assert_ptr_eq(gomem_reader_current(&r, &len), a); /* zero-copy */
    ck_assert_uint_eq(len, 4);
    ck_assert_uint_eq(gomem_reader_offset(&r), 0); /* nothing consumed */
    ck_assert_int_eq(gomem_reader_skip(&r, 3), 0);
    ck_assert_ptr_eq(gomem_reader_current(&r, &len), a + 3);
    ck_assert_uint_eq(len, 1);
    ck_assert_int_eq(gomem_reader_skip(&r, 1), 0);
    ck_assert_ptr_eq(gomem_reader_current(&r, NULL), b); /* empty one passed over */
    ck_assert_int_eq(gomem_reader_skip(&r, 2), 0);
    EXPECT_NULL_ERRNO(gomem_reader_current(&r, &len), ENODATA);
    ck_assert_uint_eq(len, 0);
    EXPECT_NULL_ERRNO(gomem_reader_current(NULL, &len), EINVAL);
    CHECK_READER(&r);
    gomem_memory_destroy(&m);
}
END_TEST

struct pieces {
    uint8_t bytes[256];
    size_t n, calls, stop_at;
    const void *first;
};

static int collect(void *base, size_t len, void *arg)
{
    struct pieces *p = arg;
    ck_assert_uint_gt(len, 0);
    if (!p->calls)
        p->first = base;
    memcpy(p->bytes + p->n, base, len);
    p->n += len;
    return ++p->calls == p->stop_at ? 7 : 0;
}

static void collect_clip(void *base, size_t len, void *arg)
{
    struct pieces *p = arg;
    if (!p->calls)
        p->first = base;
    memcpy(p->bytes + p->n, base, len);
    p->n += len;
    p->calls++;
}

START_TEST(test_range_calls)
{
    gomem_memory m;
    size_t cuts[] = {3, 3, 7};
    cut(&m, seq, 10, cuts, 3); /* 3, empty, 4, 3 */
    gomem_reader r;
    gomem_reader_init(&r, &m);
    ck_assert_int_eq(gomem_reader_skip(&r, 1), 0);
    struct pieces p = {.stop_at = 0};
    ck_assert_int_eq(gomem_reader_range(&r, collect, &p), 0);
    ck_assert_uint_eq(p.calls, 3); /* empty segments are not visited */
    ck_assert_uint_eq(p.n, 9);
    ck_assert_ptr_eq(p.first, seq + 1); /* zero-copy */
    ck_assert_mem_eq(p.bytes, seq + 1, 9);
    ck_assert_uint_eq(gomem_reader_remaining(&r), 0);

    gomem_reader_init(&r, &m);
    p = (struct pieces){.stop_at = 2};
    ck_assert_int_eq(gomem_reader_range(&r, collect, &p), 7); /* stopped */
    ck_assert_uint_eq(gomem_reader_offset(&r), 7); /* after the 2nd piece */
    ck_assert_int_eq(gomem_reader_range(&r, NULL, NULL), 0);
    ck_assert_uint_eq(gomem_reader_offset(&r), 10);
    ck_assert_int_eq(gomem_reader_range(NULL, collect, &p), -EINVAL);

    gomem_reader_init(&r, &m);
    p = (struct pieces){.stop_at = 0};
    ck_assert_int_eq(gomem_reader_range_n(&r, 11, collect, &p), -ENODATA);
    ck_assert_uint_eq(p.calls, 0); /* all or nothing */
    ck_assert_int_eq(gomem_reader_range_n(&r, 5, collect, &p), 0);
    ck_assert_uint_eq(p.calls, 2);
    ck_assert_mem_eq(p.bytes, seq, 5);
    ck_assert_uint_eq(gomem_reader_offset(&r), 5);
    ck_assert_int_eq(gomem_reader_range_n(&r, 0, collect, &p), 0);
    ck_assert_int_eq(gomem_reader_range_n(&r, 5, NULL, NULL), 0);
    ck_assert_uint_eq(gomem_reader_remaining(&r), 0);
    ck_assert_int_eq(gomem_reader_range_n(NULL, 1, NULL, NULL), -EINVAL);

    gomem_reader_init(&r, &m);
    gomem_reader_move_to_end(&r);
    gomem_reader_move_to_end(NULL);
    ck_assert_uint_eq(gomem_reader_offset(&r), 10);
    CHECK_READER(&r);
    gomem_memory_destroy(&m);
}
END_TEST

START_TEST(test_clip_front)
{
    gomem_memory m;
    size_t cuts[] = {3, 3, 7};
    cut(&m, seq, 10, cuts, 3); /* 3, empty, 4, 3 */
    gomem_reader r;
    gomem_reader_init(&r, &m);
    struct pieces p = {.stop_at = 0};
    ck_assert_int_eq(gomem_reader_clip_front(&r, collect_clip, &p), 0);
    ck_assert_uint_eq(p.calls, 0); /* nothing consumed */
    ck_assert_uint_eq(m.count, 4);

    ck_assert_int_eq(gomem_reader_skip(&r, 5), 0); /* into the 4-byte segment */
    ck_assert_int_eq(gomem_reader_clip_front(&r, collect_clip, &p), 0);
    ck_assert_uint_eq(p.calls, 3); /* seg 0, the empty one, the head of seg 2 */
    ck_assert_uint_eq(p.n, 5);
    ck_assert_mem_eq(p.bytes, seq, 5);
    ck_assert_ptr_eq(p.first, seq);
    ck_assert_uint_eq(m.count, 2);
    ck_assert_uint_eq(m.size, 5);
    ck_assert_ptr_eq(m.iov[0].iov_base, seq + 5);
    ck_assert_uint_eq(gomem_reader_offset(&r), 0);
    ck_assert_uint_eq(gomem_reader_remaining(&r), 5);
    CHECK_READER(&r);
    uint16_t v;
    ck_assert_int_eq(gomem_reader_read_be16(&r, &v), 0);
    ck_assert_uint_eq(v, 0x0607);

    /* A segment read to its end goes whole. */
    ck_assert_int_eq(gomem_reader_clip_front(&r, NULL, NULL), 0);
    ck_assert_uint_eq(m.count, 1);
    ck_assert_uint_eq(m.size, 3);
    ck_assert_int_eq(gomem_reader_skip(&r, 3), 0);
    p = (struct pieces){.stop_at = 0};
    ck_assert_int_eq(gomem_reader_clip_front(&r, collect_clip, &p), 0);
    ck_assert_uint_eq(p.calls, 1);
    ck_assert_mem_eq(p.bytes, seq + 7, 3);
    ck_assert_uint_eq(m.count, 0);
    ck_assert_uint_eq(m.size, 0);
    CHECK_READER(&r);
    ck_assert_int_eq(gomem_reader_clip_front(NULL, NULL, NULL), -EINVAL);

    /* The Memory grows under the reader: it reads on. */
    ck_assert_int_eq(gomem_memory_push(&m, seq + 10, 2), 0);
    ck_assert_int_eq(gomem_reader_read_be16(&r, &v), 0);
    ck_assert_uint_eq(v, 0x0b0c);
    gomem_memory_destroy(&m);
}
END_TEST

START_TEST(test_grow)
{
    gomem_memory m;
    gomem_memory_init(&m);
    gomem_reader r;
    gomem_reader_init(&r, &m);
    uint32_t v;
    ck_assert_int_eq(gomem_reader_read_be32(&r, &v), -ENODATA);
    for (size_t i = 0; i < 16; i += 2) {
        ck_assert_int_eq(gomem_memory_push(&m, seq + i, 2), 0);
        if (i % 4 == 2) {
            ck_assert_int_eq(gomem_reader_read_be32(&r, &v), 0);
            ck_assert_uint_eq(v, (uint32_t)seq[i - 2] << 24 | (uint32_t)seq[i - 1] << 16 |
                                     (uint32_t)seq[i] << 8 | seq[i + 1]);
        }
        CHECK_READER(&r);
    }
    gomem_memory_destroy(&m);
}
END_TEST

/* ---------------------------------------------------------------- the
 * differential test */

#define DIFF_BYTES 96

static uint8_t diff_data[DIFF_BYTES];

static void diff_fill(uint64_t *st)
{
    for (size_t i = 0; i < DIFF_BYTES; i++) {
        unsigned k = (unsigned)test_range(st, 0, 7);
        /* Runs of continuation bytes make LEB128 overflow and long
         * encodings likely; small bytes end them. */
        diff_data[i] = k < 3 ? (uint8_t)test_rand(st) : k < 5 ? 0xff : k < 6 ? 0x80 : (uint8_t)k;
    }
}

struct side {
    gomem_memory m;
    gomem_reader r;
};

#define DIFF_ASSERT(cond, what)                                                         \
    ck_assert_msg(cond, "seed %#llx split %s op %ld (%u): %s", (unsigned long long)seed, \
                  how, step, op, what)

/* Run ops random operations on a (the split) and b (one segment) and
 * compare every result. */
static void diff_run(struct side *a, struct side *b, uint64_t seed, const char *how, long ops)
{
    uint64_t st = seed;
    for (long step = 0; step < ops; step++) {
        unsigned op = (unsigned)test_range(&st, 0, 40);
        size_t n = test_range(&st, 0, 20);
        struct pieces pa = {.stop_at = 0}, pb = {.stop_at = 0};
        uint8_t ba[32], bb[32];
        uint64_t xa = 0, xb = 0; /* a failed read leaves them alone */
        int ea = 0, eb = 0;
        memset(ba, 0, sizeof ba);
        memset(bb, 0, sizeof bb);
        switch (op) {
        case 0: case 1: case 2:
            xa = gomem_reader_read(&a->r, ba, n);
            xb = gomem_reader_read(&b->r, bb, n);
            break;
#define TYPED(c, fn, T)                                                      \
        case c: {                                                            \
            T va = 0, vb = 0;                                                \
            ea = fn(&a->r, &va);                                             \
            eb = fn(&b->r, &vb);                                             \
            xa = va;                                                         \
            xb = vb;                                                         \
            break;                                                           \
        }
        TYPED(3, gomem_reader_read_u8, uint8_t)
        TYPED(4, gomem_reader_read_u8, uint8_t)
        TYPED(5, gomem_reader_read_be16, uint16_t)
        TYPED(6, gomem_reader_read_be24, uint32_t)
        TYPED(7, gomem_reader_read_be32, uint32_t)
        TYPED(8, gomem_reader_read_be64, uint64_t)
        TYPED(9, gomem_reader_read_le16, uint16_t)
        TYPED(10, gomem_reader_read_le24, uint32_t)
        TYPED(11, gomem_reader_read_le32, uint32_t)
        TYPED(12, gomem_reader_read_le64, uint64_t)
        TYPED(13, gomem_reader_read_uleb128, uint64_t)
        TYPED(14, gomem_reader_read_uleb128, uint64_t)
        TYPED(15, gomem_reader_read_uleb128, uint64_t)
#undef TYPED
        case 16: case 17:
            ea = gomem_reader_read_be(&a->r, n % 10, &xa);
            eb = gomem_reader_read_be(&b->r, n % 10, &xb);
            break;
        case 18: case 19:
            ea = gomem_reader_read_le(&a->r, n % 10, &xa);
            eb = gomem_reader_read_le(&b->r, n % 10, &xb);
            break;
        case 20: case 21:
            ea = gomem_reader_peek(&a->r, ba, n);
            eb = gomem_reader_peek(&b->r, bb, n);
            break;
        case 22: case 23: case 24:
            ea = gomem_reader_skip(&a->r, n);
            eb = gomem_reader_skip(&b->r, n);
            break;
        case 25: case 26: case 27: case 28: {
            size_t back = test_range(&st, 0, gomem_reader_offset(&b->r) + 2);
            ea = gomem_reader_unread(&a->r, back);
            eb = gomem_reader_unread(&b->r, back);
            break;
        }
        case 29: case 30: {
            size_t la, lb;
            const uint8_t *ca = gomem_reader_current(&a->r, &la);
            const uint8_t *cb = gomem_reader_current(&b->r, &lb);
            DIFF_ASSERT((ca == NULL) == (cb == NULL), "current at the end");
            DIFF_ASSERT(la <= lb, "current longer than the rest");
            if (ca)
                DIFF_ASSERT(la > 0 && !memcmp(ca, cb, la), "current bytes");
            break;
        }
        case 31: case 32: case 33:
            ea = gomem_reader_range_n(&a->r, n, collect, &pa);
            eb = gomem_reader_range_n(&b->r, n, collect, &pb);
            break;
        case 34:
            if (test_range(&st, 0, 3) == 0) {
                ea = gomem_reader_range(&a->r, collect, &pa);
                eb = gomem_reader_range(&b->r, collect, &pb);
            }
            break;
        case 35:
            if (test_range(&st, 0, 3) == 0) {
                gomem_reader_move_to_end(&a->r);
                gomem_reader_move_to_end(&b->r);
            }
            break;
        default: /* 36..40 */
            if (test_range(&st, 0, 3) == 0) {
                ea = gomem_reader_clip_front(&a->r, collect_clip, &pa);
                eb = gomem_reader_clip_front(&b->r, collect_clip, &pb);
                pa.calls = pb.calls = 0; /* pieces differ, bytes do not */
                DIFF_ASSERT(gomem_memory_equal(&a->m, &b->m), "Memory after clip_front");
            }
            break;
        }
        DIFF_ASSERT(ea == eb, "error");
        DIFF_ASSERT(xa == xb, "value");
        DIFF_ASSERT(!memcmp(ba, bb, sizeof ba), "bytes copied");
        DIFF_ASSERT(pa.n == pb.n && !memcmp(pa.bytes, pb.bytes, pa.n), "bytes visited");
        DIFF_ASSERT(gomem_reader_offset(&a->r) == gomem_reader_offset(&b->r), "offset");
        DIFF_ASSERT(gomem_reader_remaining(&a->r) == gomem_reader_remaining(&b->r),
                    "remaining");
        const char *why = gomem__reader_check(&a->r);
        DIFF_ASSERT(!why, why);
        why = gomem__reader_check(&b->r);
        DIFF_ASSERT(!why, why);
    }
}

/* One split (cuts ascending) against the contiguous reader. */
static void diff_split(const size_t *cuts, size_t ncuts, uint64_t seed, const char *how, long ops)
{
    struct side a, b;
    cut(&a.m, diff_data, DIFF_BYTES, cuts, ncuts);
    cut(&b.m, diff_data, DIFF_BYTES, NULL, 0);
    gomem_reader_init(&a.r, &a.m);
    gomem_reader_init(&b.r, &b.m);
    diff_run(&a, &b, seed, how, ops);
    gomem_memory_destroy(&a.m);
    gomem_memory_destroy(&b.m);
}

static int cmp_size(const void *x, const void *y)
{
    size_t a = *(const size_t *)x, b = *(const size_t *)y;
    return (a > b) - (a < b);
}

START_TEST(test_differential)
{
    uint64_t seed0 = test_seed(0x72656164ULL), st = seed0;
    long ops = 150, rounds = test_steps(20000) / 1000; /* 20, or 1 under valgrind */
    size_t cuts[DIFF_BYTES * 2];
    for (long round = 0; round < rounds; round++) {
        diff_fill(&st);
        uint64_t seed = test_rand(&st);
        /* Two segments, split at every boundary (empty ones at the ends). */
        for (size_t at = 0; at <= DIFF_BYTES; at++)
            diff_split(&at, 1, seed, "at every boundary", ops);
        /* One byte per segment, with and without empty ones between. */
        for (size_t i = 0; i < DIFF_BYTES; i++)
            cuts[i] = i;
        diff_split(cuts, DIFF_BYTES, seed, "bytewise", ops);
        for (size_t i = 0; i < 2 * DIFF_BYTES; i++)
            cuts[i] = i / 2;
        diff_split(cuts, 2 * DIFF_BYTES, seed, "bytewise with empty segments", ops);
        /* Random segment sizes, empty segments included. */
        for (int k = 0; k < 20; k++) {
            size_t nc = test_range(&st, 1, DIFF_BYTES);
            for (size_t i = 0; i < nc; i++)
                cuts[i] = test_range(&st, 0, DIFF_BYTES);
            qsort(cuts, nc, sizeof *cuts, cmp_size);
            diff_split(cuts, nc, seed, "random sizes", ops);
        }
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("reader");
    TCase *tc = tcase_create("reader");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_init);
    tcase_add_test(tc, test_read);
    tcase_add_test(tc, test_typed);
    tcase_add_test(tc, test_uleb128);
    tcase_add_test(tc, test_peek_skip_unread);
    tcase_add_test(tc, test_current);
    tcase_add_test(tc, test_range_calls);
    tcase_add_test(tc, test_clip_front);
    tcase_add_test(tc, test_grow);
    tcase_add_test(tc, test_differential);
    suite_add_tcase(s, tc);
    return test_run(s);
}
