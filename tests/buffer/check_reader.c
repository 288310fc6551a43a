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
 * parsing calls of 0.2.0, each on its own */

START_TEST(test_read_exact)
{
    gomem_memory m;
    FOR_EACH_SPLIT(m, 10) {
        gomem_reader r;
        uint8_t out[16];
        gomem_reader_init(&r, &m);
        memset(out, 0x55, sizeof out);
        ck_assert_int_eq(gomem_reader_read_exact(&r, out, 4), 0);
        ck_assert_mem_eq(out, seq, 4);
        ck_assert_int_eq(gomem_reader_read_exact(&r, out, 7), -ENODATA); /* 6 left */
        ck_assert_mem_eq(out, seq, 4); /* not written */
        ck_assert_uint_eq(gomem_reader_offset(&r), 4);
        ck_assert_int_eq(gomem_reader_read_exact(&r, NULL, 0), 0);
        ck_assert_int_eq(gomem_reader_read_exact(&r, NULL, 1), -EINVAL);
        ck_assert_int_eq(gomem_reader_read_exact(NULL, out, 1), -EINVAL);
        ck_assert_int_eq(gomem_reader_read_exact(&r, out, 6), 0);
        ck_assert_mem_eq(out, seq + 4, 6);
        ck_assert_int_eq(gomem_reader_read_exact(&r, out, 1), -ENODATA);
        CHECK_READER(&r);
    }
}
END_TEST

START_TEST(test_signed_peek)
{
    static const uint8_t neg[] = {0xff, 0xfe, 0x80, 0x00, 0x00, 0x7f, 0xff, 0xff,
                                  0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01};
    for (size_t at = 0; at <= sizeof neg; at++) {
        gomem_memory m;
        gomem_reader r;
        cut(&m, neg, sizeof neg, &at, 1);
        gomem_reader_init(&r, &m);
        int8_t s8;
        int16_t s16;
        int32_t s32;
        int64_t s64;
        uint8_t u8;
        uint16_t u16;
        uint32_t u32;
        uint64_t u64;
        ck_assert_int_eq(gomem_reader_peek_u8(&r, &u8), 0);
        ck_assert_uint_eq(u8, 0xff);
        ck_assert_int_eq(gomem_reader_peek_be16(&r, &u16), 0);
        ck_assert_uint_eq(u16, 0xfffe);
        ck_assert_int_eq(gomem_reader_peek_le24(&r, &u32), 0);
        ck_assert_uint_eq(u32, 0x80feff);
        ck_assert_int_eq(gomem_reader_peek_be64(&r, &u64), 0);
        ck_assert_uint_eq(u64, 0xfffe8000007fffffull);
        ck_assert_uint_eq(gomem_reader_offset(&r), 0); /* peeks consume nothing */
        ck_assert_int_eq(gomem_reader_read_s8(&r, &s8), 0);
        ck_assert_int_eq(s8, -1);
        ck_assert_int_eq(gomem_reader_read_sbe16(&r, &s16), 0);
        ck_assert_int_eq(s16, -32768 + 0x0000 /* fe 80 */ + 0x7e80);
        ck_assert_int_eq(gomem_reader_read_sbe24(&r, &s32), 0); /* 00 00 7f */
        ck_assert_int_eq(s32, 127);
        ck_assert_int_eq(gomem_reader_read_sle16(&r, &s16), 0); /* ff ff */
        ck_assert_int_eq(s16, -1);
        ck_assert_int_eq(gomem_reader_read_sbe24(&r, &s32), 0); /* 80 00 00 */
        ck_assert_int_eq(s32, -8388608);
        gomem_reader_init(&r, &m);
        ck_assert_int_eq(gomem_reader_skip(&r, 8), 0);
        ck_assert_int_eq(gomem_reader_read_sbe64(&r, &s64), 0);
        ck_assert(s64 == INT64_MIN + 1);
        gomem_reader_init(&r, &m);
        ck_assert_int_eq(gomem_reader_skip(&r, 8), 0);
        ck_assert_int_eq(gomem_reader_read_sle64(&r, &s64), 0);
        ck_assert(s64 == (int64_t)0x0100000000000080ll);
        ck_assert_int_eq(gomem_reader_read_sle32(&r, &s32), -ENODATA);
        ck_assert_int_eq(gomem_reader_peek_u8(&r, &u8), -ENODATA);
        ck_assert_int_eq(gomem_reader_peek_u8(NULL, &u8), -EINVAL);
        ck_assert_int_eq(gomem_reader_peek_u8(&r, NULL), -EINVAL);
        ck_assert_int_eq(gomem_reader_read_s8(&r, NULL), -EINVAL);
        CHECK_READER(&r);
        gomem_memory_destroy(&m);
    }
}
END_TEST

START_TEST(test_read_ptr)
{
    gomem_memory m;
    size_t cuts[] = {4, 4, 6};
    cut(&m, seq, 10, cuts, 3); /* 4, empty, 2, 4 */
    gomem_reader r;
    gomem_reader_init(&r, &m);
    uint8_t scratch[16];
    ck_assert_ptr_eq(gomem_reader_read_ptr(&r, 3, scratch), seq); /* zero-copy */
    const uint8_t *p = gomem_reader_read_ptr(&r, 2, scratch); /* not in one piece */
    ck_assert_ptr_eq(p, scratch);
    ck_assert_mem_eq(p, seq + 3, 2);
    ck_assert_ptr_eq(gomem_reader_read_ptr(&r, 1, scratch), seq + 5);
    ck_assert_ptr_eq(gomem_reader_read_ptr(&r, 3, scratch), seq + 6); /* next segment */
    EXPECT_NULL_ERRNO(gomem_reader_read_ptr(&r, 2, scratch), ENODATA);
    ck_assert_uint_eq(gomem_reader_offset(&r), 9);
    EXPECT_NULL_ERRNO(gomem_reader_read_ptr(&r, 0, scratch), EINVAL);
    EXPECT_NULL_ERRNO(gomem_reader_read_ptr(&r, 1, NULL), EINVAL);
    EXPECT_NULL_ERRNO(gomem_reader_read_ptr(NULL, 1, scratch), EINVAL);
    CHECK_READER(&r);
    gomem_memory_destroy(&m);
}
END_TEST

START_TEST(test_transactions)
{
    gomem_memory m;
    FOR_EACH_SPLIT(m, 12) {
        gomem_reader r;
        gomem_reader_init(&r, &m);
        ck_assert_int_eq(gomem_reader_skip(&r, 2), 0);
        size_t mark = gomem_reader_offset(&r);
        ck_assert_int_eq(gomem_reader_require(&r, 10), 0);
        ck_assert_int_eq(gomem_reader_require(&r, 11), -ENODATA);
        ck_assert_int_eq(gomem_reader_require(NULL, 0), -EINVAL);
        /* A straight-line parser: one check at the end. */
        int err = 0;
        uint8_t a = gomem_reader_get_u8(&r, &err);
        uint32_t b = gomem_reader_get_be24(&r, &err);
        int32_t c = gomem_reader_get_sle16(&r, &err);
        ck_assert_int_eq(err, 0);
        ck_assert_uint_eq(a, 3);
        ck_assert_uint_eq(b, 0x040506);
        ck_assert_int_eq(c, 0x0807);
        uint64_t d = gomem_reader_get_be64(&r, &err); /* 4 left: fails */
        ck_assert_int_eq(err, -ENODATA);
        ck_assert_uint_eq(d, 0);
        ck_assert_uint_eq(gomem_reader_get_u8(&r, &err), 0); /* sticky */
        gomem_reader_get_skip(&r, 1, &err);
        uint8_t buf[2] = {9, 9};
        gomem_reader_get_bytes(&r, buf, 2, &err);
        ck_assert_uint_eq(buf[0], 9);
        ck_assert_uint_eq(gomem_reader_offset(&r), 8); /* nothing after the failure */
        ck_assert_int_eq(gomem_reader_rewind(&r, 9), -EINVAL); /* ahead */
        ck_assert_int_eq(gomem_reader_rewind(NULL, 0), -EINVAL);
        ck_assert_int_eq(gomem_reader_rewind(&r, mark), 0);
        ck_assert_uint_eq(gomem_reader_offset(&r), 2);
        err = 0;
        gomem_reader_get_skip(&r, 1, &err);
        gomem_reader_get_bytes(&r, buf, 2, &err);
        ck_assert_int_eq(err, 0);
        ck_assert_uint_eq(buf[0], 4);
        ck_assert_uint_eq(buf[1], 5);
        CHECK_READER(&r);
    }
}
END_TEST

START_TEST(test_sub)
{
    gomem_memory m;
    FOR_EACH_SPLIT(m, 12) {
        gomem_reader r, sub;
        gomem_memory sm;
        gomem_memory_init(&sm);
        gomem_reader_init(&r, &m);
        ck_assert_int_eq(gomem_reader_skip(&r, 2), 0);
        ck_assert_int_eq(gomem_reader_sub(&r, 11, &sm, &sub), -ENODATA);
        ck_assert_int_eq(gomem_reader_sub(&r, 1, &m, &sub), -EINVAL);
        ck_assert_int_eq(gomem_reader_sub(NULL, 1, &sm, &sub), -EINVAL);
        ck_assert_int_eq(gomem_reader_sub(&r, 1, NULL, &sub), -EINVAL);
        ck_assert_int_eq(gomem_reader_sub(&r, 1, &sm, NULL), -EINVAL);
        ck_assert_uint_eq(gomem_reader_offset(&r), 2);
        ck_assert_int_eq(gomem_reader_sub(&r, 5, &sm, &sub), 0);
        ck_assert_uint_eq(gomem_reader_offset(&r), 7);
        ck_assert_uint_eq(gomem_reader_remaining(&sub), 5);
        ck_assert_uint_eq(sm.size, 5);
        CHECK_READER(&sub);
        uint32_t v;
        ck_assert_int_eq(gomem_reader_read_be32(&sub, &v), 0);
        ck_assert_uint_eq(v, 0x03040506);
        ck_assert_int_eq(gomem_reader_read_be16(&sub, (uint16_t *)&v), -ENODATA); /* bounded */
        ck_assert_int_eq(gomem_reader_skip(&sub, 1), 0);
        ck_assert_uint_eq(gomem_reader_remaining(&sub), 0);
        /* Zero-copy: the pieces point into the segments. */
        for (size_t i = 0; i < sm.count; i++)
            ck_assert(sm.iov[i].iov_base >= (void *)seq && sm.iov[i].iov_base < (void *)(seq + 16));
        ck_assert_int_eq(gomem_reader_sub(&r, 0, &sm, &sub), 0); /* reused: reset first */
        ck_assert_uint_eq(sm.size, 0);
        ck_assert_uint_eq(gomem_reader_remaining(&sub), 0);
        gomem_memory_destroy(&sm);
    }
}
END_TEST

struct freed {
    gomem_scalable *s;
    size_t bytes;
};

static void free_piece(void *base, size_t len, void *arg)
{
    struct freed *f = arg;
    if (len) {
        ck_assert_int_eq(gomem_scalable_free(f->s, base, len), 0); /* no double free */
        f->bytes += len;
    }
}

START_TEST(test_move)
{
    /* Moves between the three parts of each split, whatever the cut. */
    gomem_memory m;
    FOR_EACH_SPLIT(m, 12) {
        gomem_reader r;
        gomem_memory dst;
        gomem_memory_init(&dst);
        gomem_reader_init(&r, &m);
        ck_assert_int_eq(gomem_reader_move(&r, 13, &dst), -ENODATA);
        ck_assert_int_eq(gomem_reader_move(&r, 1, &m), -EINVAL);
        ck_assert_int_eq(gomem_reader_move(NULL, 1, &dst), -EINVAL);
        ck_assert_int_eq(gomem_reader_move(&r, 1, NULL), -EINVAL);
        ck_assert_int_eq(gomem_reader_move(&r, 0, &dst), 0);
        ck_assert_int_eq(gomem_reader_skip(&r, 3), 0);
        ck_assert_int_eq(gomem_reader_move(&r, 4, &dst), 0); /* 4..7 */
        CHECK_READER(&r);
        ck_assert_uint_eq(gomem_reader_offset(&r), 3);
        ck_assert_uint_eq(gomem_reader_remaining(&r), 5);
        ck_assert_uint_eq(m.size, 8);
        ck_assert_uint_eq(dst.size, 4);
        uint8_t out[16];
        ck_assert_uint_eq(gomem_memory_copy_to(&dst, out, 16), 4);
        ck_assert_mem_eq(out, seq + 3, 4);
        ck_assert_uint_eq(gomem_reader_read(&r, out, 16), 5);
        ck_assert_mem_eq(out, seq + 7, 5);
        ck_assert_uint_eq(gomem_memory_copy_to(&m, out, 16), 8);
        ck_assert_mem_eq(out, seq, 3);
        ck_assert_mem_eq(out + 3, seq + 7, 5);
        ck_assert_int_eq(gomem_reader_unread(&r, 6), 0);
        ck_assert_int_eq(gomem_reader_move(&r, 2, &dst), 0); /* 2 and 7: appended */
        ck_assert_uint_eq(gomem_memory_copy_to(&dst, out, 16), 6);
        ck_assert_uint_eq(out[4], 3);
        ck_assert_uint_eq(out[5], 8);
        CHECK_READER(&r);
        gomem_memory_destroy(&dst);
    }

    /* Ownership: pool segments, payloads moved out, headers clipped; every
     * byte is freed once, by whoever holds it. */
    gomem_scalable *s = gomem_scalable_new(4096);
    gomem_recyclable rm;
    gomem_memory pes;
    gomem_memory_init(&m);
    gomem_memory_init(&pes);
    for (int i = 0; i < 5; i++) {
        uint8_t *seg = gomem_scalable_malloc(s, 100);
        ck_assert_ptr_nonnull(seg);
        for (int k = 0; k < 100; k++)
            seg[k] = (uint8_t)(i * 100 + k);
        gomem_memory_push(&m, seg, 100);
    }
    (void)rm;
    gomem_reader r;
    gomem_reader_init(&r, &m);
    for (int pkt = 0; pkt < 5; pkt++) { /* 10-byte header, 90-byte payload, unaligned */
        ck_assert_int_eq(gomem_reader_skip(&r, pkt == 0 ? 10 : 10), 0);
        ck_assert_int_eq(gomem_reader_move(&r, pkt == 4 ? 90 : 90, &pes), 0);
        CHECK_READER(&r);
        struct freed f = {s, 0};
        ck_assert_int_eq(gomem_reader_clip_front(&r, free_piece, &f), 0);
        ck_assert_uint_eq(f.bytes, 10); /* only the header: nobody moved it */
        CHECK_READER(&r);
    }
    ck_assert_uint_eq(m.size, 0);
    ck_assert_uint_eq(pes.size, 450);
    uint8_t *flat = gomem_memory_to_bytes(&pes);
    for (int i = 0; i < 450; i++)
        ck_assert_uint_eq(flat[i], (uint8_t)(i / 90 * 100 + 10 + i % 90));
    free(flat);
    struct freed f = {s, 0};
    for (size_t i = 0; i < pes.count; i++)
        free_piece(pes.iov[i].iov_base, pes.iov[i].iov_len, &f);
    ck_assert_uint_eq(f.bytes, 450);
    struct gomem_scalable_stats st;
    gomem_scalable_stats(s, &st);
    ck_assert_uint_eq(st.in_use, 0); /* everything back, nothing twice */
    gomem_memory_destroy(&pes);
    gomem_memory_destroy(&m);
    gomem_scalable_destroy(s);
}
END_TEST

START_TEST(test_scan)
{
    static const uint8_t ts[] = {0x12, 0x00, 0x00, 0x01, 0xe0, 0x47, 0x00, 0x00,
                                 0x00, 0x01, 0x67, 0x47, 0x00, 0x00, 0x01};
    static const uint8_t sc3[] = {0, 0, 1}, sc4[] = {0, 0, 0, 1}, sync[] = {0x47},
                         pes[] = {0, 0, 1, 0xe0}, pesmask[] = {0xff, 0xff, 0xff, 0xf0},
                         nal[] = {0, 0, 1, 0x07}, nalmask[] = {0xff, 0xff, 0xff, 0x1f},
                         nope[] = {0x47, 0x47};
    for (size_t at = 0; at <= sizeof ts; at++) {
        gomem_memory m;
        gomem_reader r;
        size_t off = 99;
        cut(&m, ts, sizeof ts, &at, 1);
        gomem_reader_init(&r, &m);
        ck_assert_int_eq(gomem_reader_scan(&r, sc3, NULL, 3, &off), 0);
        ck_assert_uint_eq(off, 1);
        ck_assert_uint_eq(gomem_reader_offset(&r), 0); /* does not move */
        ck_assert_int_eq(gomem_reader_scan(&r, sc4, NULL, 4, &off), 0);
        ck_assert_uint_eq(off, 6);
        ck_assert_int_eq(gomem_reader_scan(&r, sync, NULL, 1, &off), 0);
        ck_assert_uint_eq(off, 5);
        ck_assert_int_eq(gomem_reader_scan(&r, pes, pesmask, 4, &off), 0);
        ck_assert_uint_eq(off, 1);
        ck_assert_int_eq(gomem_reader_scan(&r, nal, nalmask, 4, &off), 0);
        ck_assert_uint_eq(off, 7); /* 0x67 & 0x1f == 7 */
        off = 99;
        ck_assert_int_eq(gomem_reader_scan(&r, nope, NULL, 2, &off), -ENODATA);
        ck_assert_uint_eq(off, 99);
        ck_assert_int_eq(gomem_reader_skip(&r, 12), 0);
        ck_assert_int_eq(gomem_reader_scan(&r, sc3, NULL, 3, &off), 0);
        ck_assert_uint_eq(off, 0);
        ck_assert_int_eq(gomem_reader_scan(&r, sc4, NULL, 4, &off), -ENODATA); /* too long */
        ck_assert_int_eq(gomem_reader_skip(&r, 1), 0);
        ck_assert_int_eq(gomem_reader_scan(&r, sc3, NULL, 3, &off), -ENODATA);
        ck_assert_int_eq(gomem_reader_scan(&r, sc3, NULL, 0, &off), -EINVAL);
        ck_assert_int_eq(gomem_reader_scan(&r, NULL, NULL, 1, &off), -EINVAL);
        ck_assert_int_eq(gomem_reader_scan(&r, sc3, NULL, 1, NULL), -EINVAL);
        ck_assert_int_eq(gomem_reader_scan(NULL, sc3, NULL, 1, &off), -EINVAL);
        CHECK_READER(&r);
        gomem_memory_destroy(&m);
    }
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
        unsigned op = (unsigned)test_range(&st, 0, 56);
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
        case 41: case 42:
            ea = gomem_reader_read_exact(&a->r, ba, n);
            eb = gomem_reader_read_exact(&b->r, bb, n);
            break;
        case 43: case 44: {
#define SIGNED(k, fn, T)                                                     \
            case k: {                                                        \
                T va = 0, vb = 0;                                            \
                ea = fn(&a->r, &va);                                         \
                eb = fn(&b->r, &vb);                                         \
                xa = (uint64_t)(int64_t)va;                                  \
                xb = (uint64_t)(int64_t)vb;                                  \
                break;                                                       \
            }
            switch (n % 9) {
            SIGNED(0, gomem_reader_read_s8, int8_t)
            SIGNED(1, gomem_reader_read_sbe16, int16_t)
            SIGNED(2, gomem_reader_read_sbe24, int32_t)
            SIGNED(3, gomem_reader_read_sbe32, int32_t)
            SIGNED(4, gomem_reader_read_sbe64, int64_t)
            SIGNED(5, gomem_reader_read_sle16, int16_t)
            SIGNED(6, gomem_reader_read_sle24, int32_t)
            SIGNED(7, gomem_reader_read_sle32, int32_t)
            default: SIGNED(8, gomem_reader_read_sle64, int64_t)
            }
#undef SIGNED
            break;
        }
        case 45: {
#define PEEK(k, fn, T)                                                       \
            case k: {                                                        \
                T va = 0, vb = 0;                                            \
                ea = fn(&a->r, &va);                                         \
                eb = fn(&b->r, &vb);                                         \
                xa = va;                                                     \
                xb = vb;                                                     \
                break;                                                       \
            }
            switch (n % 9) {
            PEEK(0, gomem_reader_peek_u8, uint8_t)
            PEEK(1, gomem_reader_peek_be16, uint16_t)
            PEEK(2, gomem_reader_peek_be24, uint32_t)
            PEEK(3, gomem_reader_peek_be32, uint32_t)
            PEEK(4, gomem_reader_peek_be64, uint64_t)
            PEEK(5, gomem_reader_peek_le16, uint16_t)
            PEEK(6, gomem_reader_peek_le24, uint32_t)
            PEEK(7, gomem_reader_peek_le32, uint32_t)
            default: PEEK(8, gomem_reader_peek_le64, uint64_t)
            }
#undef PEEK
            break;
        }
        case 46: case 47: {
            uint8_t sa[32], sb[32];
            errno = 0;
            const uint8_t *qa = gomem_reader_read_ptr(&a->r, n, sa);
            ea = qa ? 0 : errno;
            errno = 0;
            const uint8_t *qb = gomem_reader_read_ptr(&b->r, n, sb);
            eb = qb ? 0 : errno;
            if (qa && qb) {
                memcpy(ba, qa, n);
                memcpy(bb, qb, n);
                if (b->m.count == 1) /* no move split it */
                    DIFF_ASSERT(qb != sb, "read_ptr copied from one segment");
            }
            break;
        }
        case 48:
            ea = gomem_reader_require(&a->r, n);
            eb = gomem_reader_require(&b->r, n);
            break;
        case 49: {
            size_t mark = test_range(&st, 0, gomem_reader_offset(&b->r) + 2);
            ea = gomem_reader_rewind(&a->r, mark);
            eb = gomem_reader_rewind(&b->r, mark);
            break;
        }
        case 50: case 51: case 52: {
            /* A pattern taken from the data ahead, or made up; a mask now
             * and then. */
            size_t len = 1 + n % 4, ahead = test_range(&st, 0, 30);
            uint8_t pat[4], mask[4];
            gomem_reader t = b->r;
            if (gomem_reader_skip(&t, ahead) || gomem_reader_peek(&t, pat, len))
                for (size_t i = 0; i < len; i++)
                    pat[i] = (uint8_t)test_rand(&st);
            for (size_t i = 0; i < len; i++)
                mask[i] = i == 0 && test_range(&st, 0, 1) ? 0xff : (uint8_t)test_rand(&st);
            const uint8_t *mk = test_range(&st, 0, 2) ? NULL : mask;
            xa = xb = 7777;
            size_t oa = 7777, ob = 7777;
            ea = gomem_reader_scan(&a->r, pat, mk, len, &oa);
            eb = gomem_reader_scan(&b->r, pat, mk, len, &ob);
            xa = oa;
            xb = ob;
            /* And a naive search over a copy of the rest. */
            uint8_t rest[DIFF_BYTES];
            size_t nr = gomem_reader_remaining(&b->r), want = SIZE_MAX;
            gomem_reader_peek(&b->r, rest, nr);
            for (size_t at = 0; want == SIZE_MAX && at + len <= nr; at++) {
                size_t i = 0;
                while (i < len && !((rest[at + i] ^ pat[i]) & (mk ? mk[i] : 0xff)))
                    i++;
                if (i == len)
                    want = at;
            }
            DIFF_ASSERT(want == SIZE_MAX ? eb == -ENODATA : eb == 0 && ob == want, "naive scan");
            break;
        }
        case 53: {
            gomem_memory ma, mb;
            gomem_reader sa, sb;
            gomem_memory_init(&ma);
            gomem_memory_init(&mb);
            ea = gomem_reader_sub(&a->r, n, &ma, &sa);
            eb = gomem_reader_sub(&b->r, n, &mb, &sb);
            if (!ea && !eb) {
                DIFF_ASSERT(gomem_memory_equal(&ma, &mb), "sub-reader bytes");
                DIFF_ASSERT(gomem_reader_remaining(&sa) == n, "sub-reader size");
                const char *w = gomem__reader_check(&sa);
                DIFF_ASSERT(!w, w);
                xa = gomem_reader_read(&sa, ba, sizeof ba);
                xb = gomem_reader_read(&sb, bb, sizeof bb);
            }
            gomem_memory_destroy(&ma);
            gomem_memory_destroy(&mb);
            break;
        }
        case 54: {
            gomem_memory ma, mb;
            gomem_memory_init(&ma);
            gomem_memory_init(&mb);
            if (test_range(&st, 0, 1)) { /* into a non-empty Memory */
                gomem_memory_push(&ma, seq, 3);
                gomem_memory_push(&mb, seq, 3);
            }
            uint8_t before[DIFF_BYTES], after[DIFF_BYTES], moved[DIFF_BYTES + 3];
            size_t o = gomem_reader_offset(&b->r), pre = ma.size, nb = b->m.size;
            gomem_memory_copy_to(&b->m, before, sizeof before);
            ea = gomem_reader_move(&a->r, n, &ma);
            eb = gomem_reader_move(&b->r, n, &mb);
            if (!eb) { /* the range went over, the rest closed up */
                gomem_memory_copy_to(&b->m, after, sizeof after);
                gomem_memory_copy_to(&mb, moved, sizeof moved);
                DIFF_ASSERT(b->m.size == nb - n && mb.size == pre + n, "sizes after move");
                DIFF_ASSERT(!memcmp(moved + pre, before + o, n), "bytes moved");
                DIFF_ASSERT(!memcmp(after, before, o) &&
                                !memcmp(after + o, before + o + n, nb - o - n),
                            "bytes left");
            }
            DIFF_ASSERT(gomem_memory_equal(&ma, &mb), "moved bytes");
            DIFF_ASSERT(!gomem__memory_check(&ma), "Memory moved into");
            DIFF_ASSERT(gomem_memory_equal(&a->m, &b->m), "Memory after move");
            xa = gomem_memory_copy_to(&ma, ba, sizeof ba);
            xb = gomem_memory_copy_to(&mb, bb, sizeof bb);
            gomem_memory_destroy(&ma);
            gomem_memory_destroy(&mb);
            break;
        }
        case 55: case 56: {
            /* A sticky run: a few fields, one check. */
            int k = (int)test_range(&st, 1, 5);
            for (int i = 0; i < k; i++) {
                unsigned w = (unsigned)test_range(&st, 0, 4);
                uint64_t va, vb;
                switch (w) {
                case 0: va = gomem_reader_get_u8(&a->r, &ea); vb = gomem_reader_get_u8(&b->r, &eb); break;
                case 1: va = gomem_reader_get_be24(&a->r, &ea); vb = gomem_reader_get_be24(&b->r, &eb); break;
                case 2: va = (uint64_t)gomem_reader_get_sbe24(&a->r, &ea);
                        vb = (uint64_t)gomem_reader_get_sbe24(&b->r, &eb); break;
                case 3: va = gomem_reader_get_le32(&a->r, &ea); vb = gomem_reader_get_le32(&b->r, &eb); break;
                default: gomem_reader_get_skip(&a->r, n, &ea); gomem_reader_get_skip(&b->r, n, &eb);
                         va = vb = 0; break;
                }
                xa = xa * 31 + va;
                xb = xb * 31 + vb;
            }
            break;
        }
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
    tcase_add_test(tc, test_read_exact);
    tcase_add_test(tc, test_signed_peek);
    tcase_add_test(tc, test_read_ptr);
    tcase_add_test(tc, test_transactions);
    tcase_add_test(tc, test_sub);
    tcase_add_test(tc, test_move);
    tcase_add_test(tc, test_scan);
    tcase_add_test(tc, test_differential);
    suite_add_tcase(s, tc);
    return test_run(s);
}
