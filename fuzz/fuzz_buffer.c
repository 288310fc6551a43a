/* fuzz_buffer.c - Memory and reader over a random segmentation (empty
 * segments included) of random bytes, against a contiguous reference copy
 * and a cursor into it: every read, typed read (inline and out of line),
 * LEB128, peek, skip, unread, current, range, range_n, clip_front, push
 * while reading, update, copy_to, to_bytes, equal and writev must give
 * what the reference says, consume exactly what it says (all or nothing
 * for the typed reads) and leave both structures' invariants intact. */
#include "fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "buffer/buffer.h"

#define MAXDATA 2048

static uint8_t store[2 * MAXDATA]; /* the bytes the segments point into */
static size_t stored;
static uint8_t ref[2 * MAXDATA];   /* the Memory's bytes, contiguous */
static size_t reflen, pos;         /* reference cursor */

static void rebuild(const gomem_memory *m)
{
    reflen = 0;
    for (size_t i = 0; i < m->count; i++) {
        memcpy(ref + reflen, m->iov[i].iov_base, m->iov[i].iov_len);
        reflen += m->iov[i].iov_len;
    }
}

/* Append the next bytes of the input as segments of random lengths. */
static void push_segments(struct fuzz_in *in, gomem_memory *m, size_t total)
{
    if (total > sizeof store - stored)
        total = sizeof store - stored;
    size_t end = stored + total;
    for (size_t i = stored; i < end; i++)
        store[i] = fuzz_u8(in);
    while (stored < end || (fuzz_more(in) && (fuzz_u8(in) & 3) == 0)) {
        size_t n = fuzz_below(in, 65);
        if (n > end - stored)
            n = end - stored;
        FUZZ_REQUIRE(gomem_memory_push(m, store + stored, n) == 0, "push");
        memcpy(ref + reflen, store + stored, n);
        reflen += n;
        stored += n;
        if (!fuzz_more(in) && stored < end) {
            FUZZ_REQUIRE(gomem_memory_push(m, store + stored, end - stored) == 0, "push");
            memcpy(ref + reflen, store + stored, end - stored);
            reflen += end - stored;
            stored = end;
        }
    }
}

static uint64_t ref_uint(size_t n, int be)
{
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x |= (uint64_t)ref[pos + i] << (8 * (be ? n - 1 - i : i));
    return x;
}

/* Pieces handed to a visitor must be the next bytes of the reference. */
struct pieces {
    size_t at;
    int bad;
};

static int visit(void *base, size_t len, void *arg)
{
    struct pieces *pc = arg;
    if (len == 0 || pc->at + len > reflen || memcmp(base, ref + pc->at, len) != 0)
        pc->bad = 1;
    pc->at += len;
    return 0;
}

/* clip_front also hands over removed empty segments. */
static void clip_visit(void *base, size_t len, void *arg)
{
    if (len)
        (void)visit(base, len, arg);
}

static int null_fd = -2;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int trace;
    if (null_fd == -2) {
        null_fd = open("/dev/null", O_WRONLY);
        trace = getenv("FUZZ_TRACE") != NULL;
    }
    struct fuzz_in in = {data, size};
    gomem_memory m;
    gomem_reader r;
    gomem_memory_init(&m);
    stored = reflen = pos = 0;
    push_segments(&in, &m, fuzz_below(&in, MAXDATA));
    FUZZ_REQUIRE(gomem_reader_init(&r, &m) == 0, "reader init");
    uint8_t buf[80];
    while (fuzz_more(&in)) {
        uint8_t op = fuzz_u8(&in);
        size_t n = fuzz_below(&in, op & 0x80 ? reflen + 2 : 12);
        size_t rem = reflen - pos;
        int e;
        if (trace) {
            fprintf(stderr, "op %u n %zu pos %zu len %zu segs", op % 16, n, pos, reflen);
            for (size_t i = 0; i < m.count; i++)
                fprintf(stderr, " %zu", m.iov[i].iov_len);
            fputc('\n', stderr);
        }
        switch (op % 16) {
        case 0: { /* read: like read(2) */
            size_t want = n < sizeof buf ? n : sizeof buf, got = gomem_reader_read(&r, buf, want);
            FUZZ_REQUIRE(got == (want < rem ? want : rem) && memcmp(buf, ref + pos, got) == 0, "read %zu",
                         want);
            pos += got;
            break;
        }
        case 1: { /* typed reads, inline */
            static const size_t widths[] = {1, 2, 3, 4, 8};
            size_t w = widths[n % 5];
            int be = (op >> 4) & 1;
            uint64_t x = 0xabcdef, want = w <= rem ? ref_uint(w, be) : 0xabcdef;
            if (w == 1) {
                uint8_t y = 0xef;
                e = gomem_reader_read_u8(&r, &y);
                x = e ? 0xabcdef : y;
            } else if (w == 2) {
                uint16_t y;
                e = be ? gomem_reader_read_be16(&r, &y) : gomem_reader_read_le16(&r, &y);
                x = e ? 0xabcdef : y;
            } else if (w == 3 || w == 4) {
                uint32_t y;
                e = w == 3 ? (be ? gomem_reader_read_be24(&r, &y) : gomem_reader_read_le24(&r, &y))
                           : (be ? gomem_reader_read_be32(&r, &y) : gomem_reader_read_le32(&r, &y));
                x = e ? 0xabcdef : y;
            } else {
                uint64_t y;
                e = be ? gomem_reader_read_be64(&r, &y) : gomem_reader_read_le64(&r, &y);
                x = e ? 0xabcdef : y;
            }
            FUZZ_REQUIRE(e == (w <= rem ? 0 : -ENODATA) && x == want, "typed read of %zu (be %d): %d, %llx, want %llx, at %zu of %zu", w, be, e,
                         (unsigned long long)x, (unsigned long long)want, pos, reflen);
            if (!e)
                pos += w;
            break;
        }
        case 2: { /* the out-of-line reads, any width */
            int be = (op >> 4) & 1;
            uint64_t x = 77;
            e = be ? (gomem_reader_read_be)(&r, n % 10, &x) : (gomem_reader_read_le)(&r, n % 10, &x);
            size_t w = n % 10;
            int want = w == 0 || w > 8 ? -EINVAL : w > rem ? -ENODATA : 0;
            FUZZ_REQUIRE(e == want && (e ? x == 77 : x == ref_uint(w, be)), "read_%s %zu: %d",
                         be ? "be" : "le", w, e);
            if (!e)
                pos += w;
            break;
        }
        case 3: { /* LEB128 */
            uint64_t x = 0, want = 0;
            int we = 0;
            size_t i = 0;
            for (;; i++) {
                if (pos + i >= reflen) {
                    we = -ENODATA;
                    break;
                }
                uint8_t b = ref[pos + i];
                if (i == 9 && b > 1) {
                    we = -EOVERFLOW;
                    break;
                }
                want |= (uint64_t)(b & 0x7f) << (7 * i);
                if (!(b & 0x80))
                    break;
            }
            e = gomem_reader_read_uleb128(&r, &x);
            FUZZ_REQUIRE(e == we && (e || x == want), "uleb128: %d, want %d", e, we);
            if (!e)
                pos += i + 1;
            break;
        }
        case 4: { /* peek */
            size_t want = n < sizeof buf ? n : sizeof buf;
            e = gomem_reader_peek(&r, buf, want);
            FUZZ_REQUIRE(e == (want <= rem ? 0 : -ENODATA) && (e || memcmp(buf, ref + pos, want) == 0),
                         "peek %zu", want);
            break;
        }
        case 5: /* skip */
            e = gomem_reader_skip(&r, n);
            FUZZ_REQUIRE(e == (n <= rem ? 0 : -ENODATA), "skip %zu: %d", n, e);
            if (!e)
                pos += n;
            break;
        case 6: /* unread */
            e = gomem_reader_unread(&r, n);
            FUZZ_REQUIRE(e == (n <= pos ? 0 : -EINVAL), "unread %zu: %d", n, e);
            if (!e)
                pos -= n;
            break;
        case 7: { /* current: the rest of the segment holding the cursor */
            size_t len = 99, at = 0, want_len = 0;
            const uint8_t *want = NULL;
            for (size_t i = 0; i < m.count; i++) {
                size_t l = m.iov[i].iov_len;
                if (pos < at + l) {
                    want = (const uint8_t *)m.iov[i].iov_base + (pos - at);
                    want_len = at + l - pos;
                    break;
                }
                at += l;
            }
            errno = 0;
            const void *c = gomem_reader_current(&r, &len);
            FUZZ_REQUIRE(c == want && len == want_len && (c || errno == ENODATA), "current");
            break;
        }
        case 8: { /* range_n */
            struct pieces pc = {pos, 0};
            e = gomem_reader_range_n(&r, n, visit, &pc);
            FUZZ_REQUIRE(e == (n <= rem ? 0 : -ENODATA) && !pc.bad && pc.at == (e ? pos : pos + n),
                         "range_n %zu: %d", n, e);
            if (!e)
                pos += n;
            break;
        }
        case 9: { /* range: everything left */
            if (op & 0x70)
                break;
            struct pieces pc = {pos, 0};
            FUZZ_REQUIRE(gomem_reader_range(&r, visit, &pc) == 0 && !pc.bad && pc.at == reflen, "range");
            pos = reflen;
            break;
        }
        case 10: { /* clip_front: the consumed prefix goes to the callback */
            struct pieces pc = {0, 0};
            FUZZ_REQUIRE(gomem_reader_clip_front(&r, clip_visit, &pc) == 0 && !pc.bad && pc.at == pos,
                         "clip_front gave %zu bytes, consumed %zu", pc.at, pos);
            memmove(ref, ref + pos, reflen - pos);
            reflen -= pos;
            pos = 0;
            FUZZ_REQUIRE(gomem_reader_offset(&r) == 0, "offset after clip_front");
            break;
        }
        case 11: /* push while reading: the reader sees it */
            push_segments(&in, &m, n % 64);
            break;
        case 12: { /* update: the reader starts over */
            if (!m.count)
                break;
            ptrdiff_t i = (ptrdiff_t)(n % m.count) - (op & 0x40 ? (ptrdiff_t)m.count : 0);
            size_t l = fuzz_below(&in, 20);
            static const uint8_t other[20] = "0123456789abcdefghi";
            FUZZ_REQUIRE(gomem_memory_update(&m, i, other, l) == 0, "update");
            FUZZ_REQUIRE(gomem_memory_update(&m, (ptrdiff_t)m.count, other, l) == -EINVAL, "update past");
            rebuild(&m);
            pos = 0;
            FUZZ_REQUIRE(gomem_reader_init(&r, &m) == 0, "reader init");
            break;
        }
        case 13: { /* copy_to and to_bytes */
            size_t cap = n < sizeof buf ? n : sizeof buf;
            size_t got = gomem_memory_copy_to(&m, buf, cap);
            FUZZ_REQUIRE(got == (cap < reflen ? cap : reflen) && memcmp(buf, ref, got) == 0, "copy_to");
            uint8_t *all = gomem_memory_to_bytes(&m);
            FUZZ_REQUIRE(all && memcmp(all, ref, reflen) == 0, "to_bytes");
            free(all);
            break;
        }
        case 14: { /* equal to the same bytes in one segment, not to others */
            gomem_memory one;
            gomem_memory_init(&one);
            FUZZ_REQUIRE(gomem_memory_push(&one, ref, reflen) == 0, "push");
            FUZZ_REQUIRE(gomem_memory_equal(&m, &one) == 1, "equal");
            if (reflen) {
                uint8_t first = (uint8_t)(ref[0] + 1);
                FUZZ_REQUIRE(gomem_memory_update(&one, 0, &first, 1) == 0, "update");
                FUZZ_REQUIRE(gomem_memory_equal(&m, &one) == 0, "not equal");
            }
            gomem_memory_destroy(&one);
            break;
        }
        default: { /* writev */
            size_t written = 1;
            if (null_fd >= 0) {
                e = gomem_memory_writev(&m, null_fd, &written);
                FUZZ_REQUIRE(e == 0 && written == reflen, "writev: %d, %zu of %zu", e, written, reflen);
            }
            break;
        }
        }
        FUZZ_REQUIRE(gomem_reader_offset(&r) == pos && gomem_reader_remaining(&r) == reflen - pos,
                     "cursor at %zu (%zu left), reference %zu of %zu", gomem_reader_offset(&r),
                     gomem_reader_remaining(&r), pos, reflen);
        FUZZ_REQUIRE(m.size == reflen, "size %zu, reference %zu", m.size, reflen);
        const char *why = gomem__memory_check(&m);
        FUZZ_REQUIRE(why == NULL, "memory: %s", why);
        why = gomem__reader_check(&r);
        FUZZ_REQUIRE(why == NULL, "reader: %s", why);
    }
    gomem_memory_destroy(&m);
    return 0;
}
