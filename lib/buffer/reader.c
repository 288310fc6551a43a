/* reader.c - gomem_reader_*: a cursor over a Memory.
 *
 * State: the reader has entered r->seg segments; the current one is
 * seg - 1, [pos, end) is its unread rest, and limit is the offset of end in
 * the Memory (the sum of the lengths of the entered segments). Before any
 * segment is entered seg = limit = 0 and pos = end = NULL. At the end of
 * the data the reader stays in the last segment with pos == end, so that
 * segments pushed later are found by the next read. */
#include "buffer.h"

#include <string.h>

static size_t reader_offset(const gomem_reader *r)
{
    return r->limit - (size_t)(r->end - r->pos);
}

static size_t reader_remaining(const gomem_reader *r)
{
    return r->mem->size - reader_offset(r);
}

/* base + off, without arithmetic on the NULL base an empty segment may
 * have. */
static const uint8_t *reader_at(const void *base, size_t off)
{
    return off ? (const uint8_t *)base + off : base;
}

/* Enter the next segment, if there is one. */
int gomem__reader_enter(gomem_reader *r)
{
    const gomem_memory *m = r->mem;
    if (r->seg >= m->count)
        return 0;
    const struct iovec *s = &m->iov[r->seg++];
    r->pos = s->iov_base;
    r->end = reader_at(s->iov_base, s->iov_len);
    r->limit += s->iov_len;
    GOMEM__DEBUG_CHECK(gomem__reader_check(r));
    return 1;
}

/* Consume n bytes (n <= remaining), handing each non-empty piece to fn
 * (if not NULL). A non-zero return from fn stops after that piece and is
 * returned. */
static int reader_consume(gomem_reader *r, size_t n, gomem_memory_visit_fn fn, void *arg)
{
    while (n) {
        size_t k = (size_t)(r->end - r->pos);
        if (!k) {
            gomem__reader_enter(r); /* there is one: n <= remaining */
            continue;
        }
        if (k > n)
            k = n;
        const uint8_t *p = r->pos;
        r->pos += k;
        n -= k;
        if (fn) {
            int e = fn((void *)(uintptr_t)p, k, arg);
            if (e)
                return e;
        }
    }
    GOMEM__DEBUG_CHECK(gomem__reader_check(r));
    return 0;
}

/* Copy n bytes (n <= remaining) to dst and consume them. A loop of its
 * own rather than reader_consume with a copying visitor: a record that
 * straddles segments (every eighth 188-byte one in 1460-byte segments)
 * then costs two copies and an enter, not calls through a pointer. */
static void reader_take(gomem_reader *r, void *dst, size_t n)
{
    uint8_t *d = dst;
    size_t k = (size_t)(r->end - r->pos);
    while (n > k) {
        if (k) /* an empty segment's base may be NULL */
            memcpy(d, r->pos, k);
        d += k;
        n -= k;
        gomem__reader_enter(r); /* there is one: n <= remaining */
        k = (size_t)(r->end - r->pos);
    }
    if (n) {
        memcpy(d, r->pos, n);
        r->pos += n;
    }
    GOMEM__DEBUG_CHECK(gomem__reader_check(r));
}

GOMEM_API int gomem_reader_init(gomem_reader *r, gomem_memory *m)
{
    if (!r || !m)
        return -EINVAL;
    *r = (gomem_reader){.mem = m};
    return 0;
}

GOMEM_API size_t (gomem_reader_read)(gomem_reader *r, void *dst, size_t n)
{
    if (!r || !dst)
        return 0;
    if (GOMEM__LIKELY(n - 1 < (size_t)(r->end - r->pos))) {
        memcpy(dst, r->pos, n); /* 0 < n <= the rest of the current segment */
        r->pos += n;
        return n;
    }
    size_t left = reader_remaining(r);
    if (n > left)
        n = left;
    reader_take(r, dst, n);
    return n;
}

/* The bytes of an n-byte integer (1..8), all or nothing. */
static int reader_int_bytes(gomem_reader *r, size_t n, const uint64_t *v, uint8_t b[8])
{
    if (!r || !v || n < 1 || n > 8)
        return -EINVAL;
    if (reader_remaining(r) < n)
        return -ENODATA;
    reader_take(r, b, n);
    return 0;
}

GOMEM_API int gomem_reader_read_be(gomem_reader *r, size_t n, uint64_t *v)
{
    uint8_t b[8];
    int e = reader_int_bytes(r, n, v, b);
    if (e)
        return e;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++)
        x = x << 8 | b[i];
    *v = x;
    return 0;
}

GOMEM_API int gomem_reader_read_le(gomem_reader *r, size_t n, uint64_t *v)
{
    uint8_t b[8];
    int e = reader_int_bytes(r, n, v, b);
    if (e)
        return e;
    uint64_t x = 0;
    for (size_t i = n; i-- > 0;)
        x = x << 8 | b[i];
    *v = x;
    return 0;
}

/* The exported typed reads: the header's inline fast paths, out of line
 * (the parentheses keep the header's macros from expanding here). */
#define READER_EXPORT(name, type)                                             \
    GOMEM_API int(gomem_reader_##name)(gomem_reader * r, type * v)            \
    {                                                                         \
        return gomem__reader_##name(r, v);                                    \
    }
READER_EXPORT(read_u8, uint8_t)
READER_EXPORT(read_be16, uint16_t)
READER_EXPORT(read_be24, uint32_t)
READER_EXPORT(read_be32, uint32_t)
READER_EXPORT(read_be64, uint64_t)
READER_EXPORT(read_le16, uint16_t)
READER_EXPORT(read_le24, uint32_t)
READER_EXPORT(read_le32, uint32_t)
READER_EXPORT(read_le64, uint64_t)

GOMEM_API int gomem_reader_read_uleb128(gomem_reader *r, uint64_t *v)
{
    if (!r || !v)
        return -EINVAL;
    gomem_reader t = *r; /* decode on a copy; commit on success only */
    uint64_t x = 0;
    for (unsigned i = 0;; i++) {
        while (t.pos == t.end)
            if (!gomem__reader_enter(&t))
                return -ENODATA;
        uint8_t b = *t.pos++;
        /* The 10th byte holds bit 63 only, and must be the last. */
        if (i == 9 && b > 1)
            return -EOVERFLOW;
        x |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80))
            break;
    }
    *r = t;
    *v = x;
    return 0;
}

GOMEM_API int gomem_reader_peek(const gomem_reader *r, void *dst, size_t n)
{
    if (!r || (!dst && n))
        return -EINVAL;
    if (reader_remaining(r) < n)
        return -ENODATA;
    gomem_reader t = *r;
    if (n)
        reader_take(&t, dst, n);
    return 0;
}

GOMEM_API int(gomem_reader_skip)(gomem_reader *r, size_t n)
{
    if (GOMEM__LIKELY(r && n - 1 < (size_t)(r->end - r->pos))) {
        r->pos += n; /* 0 < n <= the rest of the current segment */
        return 0;
    }
    if (!r)
        return -EINVAL;
    if (n > reader_remaining(r))
        return -ENODATA;
    while (n > (size_t)(r->end - r->pos)) { /* n <= remaining: the segments hold it */
        n -= (size_t)(r->end - r->pos);
        gomem__reader_enter(r);
    }
    if (n) /* an empty reader's pos may be NULL: no offset, not even 0 */
        r->pos += n;
    return 0;
}

GOMEM_API int gomem_reader_unread(gomem_reader *r, size_t n)
{
    if (!r || n > reader_offset(r))
        return -EINVAL;
    while (n) { /* n <= offset: some segment before pos holds the bytes */
        const gomem_memory *m = r->mem;
        const uint8_t *base = m->iov[r->seg - 1].iov_base;
        size_t back = (size_t)(r->pos - base);
        if (n <= back) {
            r->pos -= n;
            break;
        }
        n -= back;
        r->limit -= m->iov[r->seg - 1].iov_len;
        r->seg--; /* into the previous segment, at its end */
        const struct iovec *s = &m->iov[r->seg - 1];
        r->pos = r->end = reader_at(s->iov_base, s->iov_len);
    }
    GOMEM__DEBUG_CHECK(gomem__reader_check(r));
    return 0;
}

GOMEM_API size_t gomem_reader_offset(const gomem_reader *r)
{
    return r ? reader_offset(r) : 0;
}

GOMEM_API size_t gomem_reader_remaining(const gomem_reader *r)
{
    return r ? reader_remaining(r) : 0;
}

GOMEM_API const void *gomem_reader_current(gomem_reader *r, size_t *len)
{
    if (len)
        *len = 0;
    if (!r) {
        errno = EINVAL;
        return NULL;
    }
    while (r->pos == r->end)
        if (!gomem__reader_enter(r)) {
            errno = ENODATA;
            return NULL;
        }
    if (len)
        *len = (size_t)(r->end - r->pos);
    return r->pos;
}

GOMEM_API int gomem_reader_range(gomem_reader *r, gomem_memory_visit_fn fn, void *arg)
{
    return r ? reader_consume(r, reader_remaining(r), fn, arg) : -EINVAL;
}

GOMEM_API int gomem_reader_range_n(gomem_reader *r, size_t n, gomem_memory_visit_fn fn,
                                   void *arg)
{
    if (!r)
        return -EINVAL;
    if (n > reader_remaining(r))
        return -ENODATA;
    return reader_consume(r, n, fn, arg);
}

GOMEM_API int gomem_reader_clip_front(gomem_reader *r, gomem_reader_clip_fn fn, void *arg)
{
    if (!r)
        return -EINVAL;
    if (!r->seg)
        return 0; /* nothing entered, nothing consumed */
    gomem_memory *m = r->mem;
    size_t cur = r->seg - 1, consumed = reader_offset(r);
    /* The current segment goes too when it is read to its end. */
    size_t drop = r->pos == r->end ? r->seg : cur;
    for (size_t i = 0; fn && i < drop; i++)
        fn(m->iov[i].iov_base, m->iov[i].iov_len, arg);
    if (drop == cur) {
        uint8_t *base = m->iov[cur].iov_base;
        size_t head = (size_t)(r->pos - base);
        if (head && fn)
            fn(base, head, arg);
        m->iov[cur] = (struct iovec){base + head, m->iov[cur].iov_len - head};
    }
    memmove(m->iov, m->iov + drop, (m->count - drop) * sizeof *m->iov);
    m->count -= drop;
    m->size -= consumed;
    *r = (gomem_reader){.mem = m};
    GOMEM__DEBUG_CHECK(gomem__reader_check(r));
    return 0;
}

GOMEM_API void gomem_reader_move_to_end(gomem_reader *r)
{
    if (r)
        reader_consume(r, reader_remaining(r), NULL, NULL);
}

GOMEM_API int gomem_reader_read_exact(gomem_reader *r, void *dst, size_t n)
{
    if (!r || (!dst && n))
        return -EINVAL;
    if (GOMEM__LIKELY(n - 1 < (size_t)(r->end - r->pos))) {
        memcpy(dst, r->pos, n);
        r->pos += n;
        return 0;
    }
    if (reader_remaining(r) < n)
        return -ENODATA;
    reader_take(r, dst, n);
    return 0;
}

/* Sign-extend the low 8 * n bits of x (n in 1..8). */
static int64_t reader_sign(uint64_t x, unsigned n)
{
    uint64_t m = (uint64_t)1 << (8 * n - 1);
    return n == 8 ? (int64_t)x : (int64_t)(x ^ m) - (int64_t)m;
}

#define READER_SIGNED(name, read, type, n)                                    \
    GOMEM_API int gomem_reader_##name(gomem_reader *r, type *v)              \
    {                                                                         \
        uint64_t x;                                                           \
        int e = read(r, n, v ? &x : NULL);                                    \
        if (e == 0)                                                           \
            *v = (type)reader_sign(x, n);                                     \
        return e;                                                             \
    }
READER_SIGNED(read_s8, gomem_reader_read_be, int8_t, 1)
READER_SIGNED(read_sbe16, gomem_reader_read_be, int16_t, 2)
READER_SIGNED(read_sbe24, gomem_reader_read_be, int32_t, 3)
READER_SIGNED(read_sbe32, gomem_reader_read_be, int32_t, 4)
READER_SIGNED(read_sbe64, gomem_reader_read_be, int64_t, 8)
READER_SIGNED(read_sle16, gomem_reader_read_le, int16_t, 2)
READER_SIGNED(read_sle24, gomem_reader_read_le, int32_t, 3)
READER_SIGNED(read_sle32, gomem_reader_read_le, int32_t, 4)
READER_SIGNED(read_sle64, gomem_reader_read_le, int64_t, 8)

/* A typed peek: the read of the same width on a copy of the cursor. */
#define READER_PEEK(name, read, type, n)                                      \
    GOMEM_API int gomem_reader_##name(const gomem_reader *r, type *v)        \
    {                                                                         \
        if (!r)                                                               \
            return -EINVAL;                                                   \
        gomem_reader t = *r;                                                  \
        uint64_t x;                                                           \
        int e = read(&t, n, v ? &x : NULL);                                   \
        if (e == 0)                                                           \
            *v = (type)x;                                                     \
        return e;                                                             \
    }
READER_PEEK(peek_u8, gomem_reader_read_be, uint8_t, 1)
READER_PEEK(peek_be16, gomem_reader_read_be, uint16_t, 2)
READER_PEEK(peek_be24, gomem_reader_read_be, uint32_t, 3)
READER_PEEK(peek_be32, gomem_reader_read_be, uint32_t, 4)
READER_PEEK(peek_be64, gomem_reader_read_be, uint64_t, 8)
READER_PEEK(peek_le16, gomem_reader_read_le, uint16_t, 2)
READER_PEEK(peek_le24, gomem_reader_read_le, uint32_t, 3)
READER_PEEK(peek_le32, gomem_reader_read_le, uint32_t, 4)
READER_PEEK(peek_le64, gomem_reader_read_le, uint64_t, 8)

GOMEM_API const void *gomem_reader_read_ptr(gomem_reader *r, size_t n, void *scratch)
{
    if (!r || !scratch || !n) {
        errno = EINVAL;
        return NULL;
    }
    if (GOMEM__LIKELY(n - 1 < (size_t)(r->end - r->pos))) {
        const uint8_t *p = r->pos;
        r->pos += n;
        return p;
    }
    if (reader_remaining(r) < n) {
        errno = ENODATA;
        return NULL;
    }
    while (r->pos == r->end)
        gomem__reader_enter(r); /* there is one: n <= remaining */
    if ((size_t)(r->end - r->pos) >= n) {
        const uint8_t *p = r->pos;
        r->pos += n;
        return p;
    }
    reader_take(r, scratch, n);
    return scratch;
}

GOMEM_API int gomem_reader_require(const gomem_reader *r, size_t n)
{
    if (!r)
        return -EINVAL;
    return reader_remaining(r) >= n ? 0 : -ENODATA;
}

GOMEM_API int gomem_reader_rewind(gomem_reader *r, size_t mark)
{
    if (!r || mark > reader_offset(r))
        return -EINVAL;
    return gomem_reader_unread(r, reader_offset(r) - mark);
}

/* Visitors of reader_consume: count the pieces, append them to a Memory
 * whose array has room. */
static int reader_count(void *base, size_t len, void *arg)
{
    (void)base, (void)len;
    ++*(size_t *)arg;
    return 0;
}

static int reader_append(void *base, size_t len, void *arg)
{
    gomem_memory *m = arg;
    m->iov[m->count++] = (struct iovec){base, len};
    m->size += len;
    return 0;
}

GOMEM_API int gomem_reader_sub(gomem_reader *r, size_t n, gomem_memory *m, gomem_reader *sub)
{
    if (!r || !m || !sub || m == r->mem)
        return -EINVAL;
    if (reader_remaining(r) < n)
        return -ENODATA;
    gomem_reader t = *r;
    size_t pieces = 0;
    reader_consume(&t, n, reader_count, &pieces);
    m->count = m->size = 0;
    int e = gomem__memory_reserve(m, pieces);
    if (e)
        return e;
    reader_consume(r, n, reader_append, m);
    *sub = (gomem_reader){.mem = m};
    return 0;
}

GOMEM_API int gomem_reader_move(gomem_reader *r, size_t n, gomem_memory *dst)
{
    if (!r || !dst || dst == r->mem)
        return -EINVAL;
    if (reader_remaining(r) < n)
        return -ENODATA;
    size_t size;
    if (gomem__add_overflows(dst->size, n, &size))
        return -EOVERFLOW;
    if (!n)
        return 0;
    gomem_memory *m = r->mem;
    /* The range starts off0 bytes into segment i0 and ends off1 bytes into
     * segment i1 (off1 > 0). */
    size_t i0 = r->seg ? r->seg - 1 : 0;
    size_t off0 = r->seg ? m->iov[i0].iov_len - (size_t)(r->end - r->pos) : 0;
    size_t prefix = r->seg ? r->limit - m->iov[i0].iov_len : 0;
    size_t i1 = i0, rest = n, avail = m->iov[i0].iov_len - off0, pieces = avail > 0;
    while (avail < rest) {
        rest -= avail;
        avail = m->iov[++i1].iov_len;
        pieces += avail > 0;
    }
    size_t off1 = (i1 == i0 ? off0 : 0) + rest;
    int head = off0 > 0, tail = off1 < m->iov[i1].iov_len;
    size_t later = m->count - i1 - 1, count = i0 + (size_t)head + (size_t)tail + later;
    int e = gomem__memory_reserve(dst, pieces);
    if (!e && count > m->count)
        e = gomem__memory_reserve(m, 1);
    if (e)
        return e;
    for (size_t i = i0; i <= i1; i++) {
        size_t from = i == i0 ? off0 : 0, to = i == i1 ? off1 : m->iov[i].iov_len;
        if (to > from)
            dst->iov[dst->count++] =
                (struct iovec){(uint8_t *)m->iov[i].iov_base + from, to - from};
    }
    dst->size = size;
    struct iovec h = {m->iov[i0].iov_base, off0};
    struct iovec t = {(uint8_t *)m->iov[i1].iov_base + off1, m->iov[i1].iov_len - off1};
    memmove(m->iov + i0 + head + tail, m->iov + i1 + 1, later * sizeof *m->iov);
    if (head)
        m->iov[i0] = h;
    if (tail)
        m->iov[i0 + (size_t)head] = t;
    m->count = count;
    m->size -= n;
    /* The cursor keeps its offset: at the end of the head, or of the
     * segment before the range. */
    if (head) {
        r->seg = i0 + 1;
        r->pos = r->end = (const uint8_t *)h.iov_base + off0;
        r->limit = prefix + off0;
    } else if (i0) {
        const struct iovec *s = &m->iov[i0 - 1];
        r->seg = i0;
        r->pos = r->end = reader_at(s->iov_base, s->iov_len);
        r->limit = prefix;
    } else {
        *r = (gomem_reader){.mem = m};
    }
    return 0;
}

/* Do the len bytes at t's cursor match pat under mask? */
static int reader_match(gomem_reader t, const uint8_t *pat, const uint8_t *mask, size_t len)
{
    if ((size_t)(t.end - t.pos) >= len) {
        if (!mask)
            return !memcmp(t.pos, pat, len);
        for (size_t i = 0; i < len; i++)
            if ((t.pos[i] ^ pat[i]) & mask[i])
                return 0;
        return 1;
    }
    for (size_t i = 0; i < len; i++) {
        while (t.pos == t.end)
            gomem__reader_enter(&t); /* the caller checked len <= remaining */
        uint8_t mk = mask ? mask[i] : 0xff;
        if ((*t.pos++ ^ pat[i]) & mk)
            return 0;
    }
    return 1;
}

/* The scan from the segment after the current one's first k bytes
 * (which hold no match start): at is the offset of the next candidate. */
static GOMEM__NOINLINE int reader_scan_from(gomem_reader t, size_t at, const uint8_t *p,
                                            const uint8_t *mk, size_t len, size_t *off)
{
    size_t rem = reader_remaining(&t) + at;
    if (rem < len)
        return -ENODATA;
    uint8_t first = p[0], m0 = mk ? mk[0] : 0xff;
    size_t last = rem - len; /* candidates: offsets at..last */
    while (at <= last) {
        while (t.pos == t.end)
            gomem__reader_enter(&t); /* at < remaining: there is one */
        size_t k = (size_t)(t.end - t.pos);
        if (k > last - at + 1)
            k = last - at + 1;
        const uint8_t *q;
        if (m0 == 0xff) {
            q = memchr(t.pos, first, k);
        } else {
            q = NULL;
            for (size_t i = 0; i < k; i++)
                if (!((t.pos[i] ^ first) & m0)) {
                    q = t.pos + i;
                    break;
                }
        }
        if (!q) {
            at += k;
            t.pos += k;
            continue;
        }
        at += (size_t)(q - t.pos);
        t.pos = q;
        if (len == 1 || reader_match(t, p, mk, len)) {
            *off = at;
            return 0;
        }
        at++;
        t.pos++;
    }
    return -ENODATA;
}

/* One byte from t, whose offset is at: memchr over each segment. */
static GOMEM__NOINLINE int reader_scan_byte(gomem_reader t, size_t at, uint8_t c, size_t *off)
{
    for (;;) {
        size_t k = (size_t)(t.end - t.pos);
        if (k) {
            const uint8_t *q = memchr(t.pos, c, k);
            if (q) {
                *off = at + (size_t)(q - t.pos);
                return 0;
            }
            at += k;
        }
        if (!gomem__reader_enter(&t))
            return -ENODATA;
    }
}

GOMEM_API int(gomem_reader_scan)(const gomem_reader *r, const void *pat, const void *mask,
                                  size_t len, size_t *off)
{
    if (!r || !pat || !off || !len)
        return -EINVAL;
    const uint8_t *p = pat;
    if (len == 1 && !mask && r->pos != r->end) { /* a sync byte, found nearby */
        size_t k = (size_t)(r->end - r->pos);
        const uint8_t *q = memchr(r->pos, p[0], k);
        if (GOMEM__LIKELY(q != NULL)) {
            *off = (size_t)(q - r->pos);
            return 0;
        }
        /* Not in this segment: go on after it, not over it again. */
        gomem_reader t = *r;
        t.pos = t.end;
        return reader_scan_byte(t, k, p[0], off);
    }
    if (len == 1 && !mask)
        return reader_scan_byte(*r, 0, p[0], off);
    return reader_scan_from(*r, 0, p, mask, len, off);
}

/* The invariant checker: compiled into the white-box test library only
 * (-DGOMEM__WHITEBOX) and debug builds, never into the release ones. */
#if defined(GOMEM__WHITEBOX) || defined(GOMEM__DEBUG)
const char *gomem__reader_check(const gomem_reader *r)
{
    const gomem_memory *m = r->mem;
    if (!m)
        return "no Memory";
    const char *why = gomem__memory_check(m);
    if (why)
        return why;
    if (r->seg > m->count)
        return "entered more segments than there are";
    size_t limit = 0;
    for (size_t i = 0; i < r->seg; i++)
        limit += m->iov[i].iov_len;
    if (limit != r->limit)
        return "limit is not the length of the entered segments";
    if (!r->seg)
        return r->pos || r->end ? "cursor set before any segment" : NULL;
    const struct iovec *s = &m->iov[r->seg - 1];
    const uint8_t *base = s->iov_base;
    if (r->end != reader_at(base, s->iov_len))
        return "end is not the end of the current segment";
    if (r->pos < base || r->pos > r->end)
        return "cursor outside the current segment";
    return NULL;
}
#endif /* GOMEM__WHITEBOX */
